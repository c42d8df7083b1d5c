/*-------------------------------------------------------------------------
 *
 * pg.h
 *	  Declarations shared by the PostgreSQL layer (src/pg).
 *
 * IDENTIFICATION
 *	  include/anomaly/pg.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_PG_H
#define ANOMALY_PG_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "anomaly/core.h"
#include "anomaly/model.h"

/* ---- GUC variables (anomaly.c) ---- */
extern int	anomaly_training_threads;
extern int	anomaly_max_training_threads;

/* ---- the core's context on PostgreSQL (pg_context.c) ---- */

/*
 * An AnContext whose memory is palloc'd in mcxt (freed with it), whose
 * interrupt check is CHECK_FOR_INTERRUPTS and whose progress reports are
 * NOTICEs.
 */
extern void anomaly_context_init(AnContext *ctx, MemoryContext mcxt);

/*
 * Bound everything ctx allocates, and what the caller allocates itself in
 * its memory context (rows, category dictionaries), by bytes in total:
 * the core refuses an allocation beyond it (AnContext.mem_limit).
 */
extern void anomaly_context_set_budget(AnContext *ctx, size_t bytes);

/* ereport(ERROR) for a failed core call; what names the operation */
extern void anomaly_core_error(AnContext *ctx, AnStatus status) pg_attribute_noreturn();

/* load BLAS on first use, in a backend (never in the postmaster) */
extern void anomaly_blas_ensure(void);

/* ---- feature values (values.c) ---- */

/* How a column's type can feed a feature. */
typedef enum AnomalyTypeClass
{
	ANOMALY_TYPE_UNSUPPORTED = 0,
	ANOMALY_TYPE_NUMERIC,
	ANOMALY_TYPE_BOOLEAN,
	ANOMALY_TYPE_TEXT			/* text-like or enum: categorical */
} AnomalyTypeClass;

extern AnomalyTypeClass anomaly_type_class(Oid typid);
extern double anomaly_datum_to_double(Datum value, Oid typid);
extern double anomaly_base_datum_to_double(Datum value, Oid basetype);

/*
 * The functions below take the column's base type (getBaseType, resolved
 * once per column by the caller, not per value).
 */

/* the text of a categorical value (palloc'd, in the current context) */
extern char *anomaly_datum_to_category(Datum value, Oid basetype);

/* encode one numeric value, erroring on NaN/Infinity naming the column */
extern double anomaly_checked_double(Datum value, Oid basetype, const char *column);

/* ---- options (options.c) ---- */
extern void anomaly_parse_options(AnContext *ctx, AnOptions *opts, Jsonb *options);

/* ---- training data (source.c) ---- */

typedef struct AnomalyTrainingSet
{
	AnFeatureSpec spec;			/* built from the source's columns */
	double	   *raw;			/* n x spec.dim encoded rows */
	size_t		n;				/* rows kept */
	int64		rows_seen;		/* rows the source returned */
} AnomalyTrainingSet;

extern void anomaly_load_training_set(AnContext *ctx, const char *source,
									  ArrayType *exclude, const AnOptions *opts,
									  AnomalyTrainingSet *set);

/* ---- catalog (catalog.c) ---- */

typedef struct AnomalyCatalogEntry
{
	int32		version;
	TransactionId xmin;
	ItemPointerData tid;
	bytea	   *model;			/* detoasted, in the caller's context; NULL if not fetched */
} AnomalyCatalogEntry;

/* the deployed version of name; false if there is none */
extern bool anomaly_catalog_lookup(const char *name, bool fetch_model,
								   AnomalyCatalogEntry *entry);
extern void anomaly_check_model_name(const char *name);

/* errors unless a model may be created under name (exists, not owned) */
extern void anomaly_catalog_check_create(const char *name, bool replace);

/* what a new version stores */
typedef struct AnomalyNewVersion
{
	const char *name;
	const char *method;
	const char *source;
	ArrayType  *features;		/* text[] of encoded feature names */
	ArrayType  *exclude;		/* text[] */
	Jsonb	   *options;
	bytea	   *model;
	int64		trained_rows;
	double		train_seconds;
	double		loss;
	double		threshold;
	bool		replace;
} AnomalyNewVersion;

/*
 * Insert a new deployed version (undeploying the previous one) and return
 * its anomaly.models row as a composite Datum.
 */
extern Datum anomaly_catalog_store(const AnomalyNewVersion *v);

/* ---- model cache (cache.c) ---- */

typedef struct AnomalyCachedModel
{
	char		name[NAMEDATALEN * 2];
	int32		version;
	TransactionId xmin;
	ItemPointerData tid;
	MemoryContext mcxt;			/* holds the decoded model */
	AnModel		model;
	AnContext	ctx;
	uint64		generation;		/* changes whenever the entry is rebuilt */
} AnomalyCachedModel;

/*
 * The deployed version of a model, decoded and cached for this backend,
 * validated against the catalog row (version, xmin, ctid).  Errors if no
 * such model exists.
 */
extern AnomalyCachedModel *anomaly_cache_get(const char *name);

#endif							/* ANOMALY_PG_H */
