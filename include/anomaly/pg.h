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

#include <math.h>

#include "access/htup.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "anomaly/core.h"
#include "anomaly/model.h"

/* ---- GUC variables (anomaly.c) ---- */
extern int	anomaly_training_threads;
extern int	anomaly_keep_versions;

/* anomaly.progress: what training reports while it runs */
typedef enum AnomalyProgress
{
	ANOMALY_PROGRESS_OFF,		/* nothing */
	ANOMALY_PROGRESS_LOG,		/* one LOG line per training, at its end */
	ANOMALY_PROGRESS_NOTICE		/* a NOTICE per epoch (the default) */
} AnomalyProgress;

extern int	anomaly_progress;
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

/*
 * The same with float8, the usual feature type, read inline: training and
 * scoring call this for every value of every row, and only other types
 * and NaN/Infinity (the error) take the call out of line.
 */
static inline double
anomaly_feature_double(Datum value, Oid basetype, const char *column)
{
	if (basetype == FLOAT8OID)
	{
		double		x = DatumGetFloat8(value);

		if (isfinite(x))
			return x;
	}
	return anomaly_checked_double(value, basetype, column);
}

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

/*
 * Read the source's rows.  keep_columns (a List of column names, or NIL)
 * restricts the features to those columns, each of which must be present:
 * a retrain keeps the previous version's features.
 */
extern void anomaly_load_training_set(AnContext *ctx, const char *source,
									  ArrayType *exclude, List *keep_columns,
									  const AnOptions *opts, AnomalyTrainingSet *set);

/* ---- model references (catalog.c) ---- */

/* room for a model name, "@" and a version number */
#define ANOMALY_REF_MAXLEN	(NAMEDATALEN + 16)

/*
 * A model as the SQL functions name it: "name" is the deployed version,
 * "name@3" is version 3 (for shadow scoring, thresholds, drops).
 */
typedef struct AnomalyModelRef
{
	char		name[NAMEDATALEN];
	int32		version;		/* 0: the deployed version */
} AnomalyModelRef;

/* parse text into ref, or error naming what is wrong */
extern void anomaly_parse_model_ref(const char *text, AnomalyModelRef *ref);
/* the same, returning false instead of erroring */
extern bool anomaly_split_model_ref(const char *text, AnomalyModelRef *ref);
extern void anomaly_check_model_name(const char *name);
/* a name for a new model: also free of '@' */
extern void anomaly_check_new_model_name(const char *name);

/* ---- catalog (catalog.c) ---- */

/* Which catalog layout a SQL entry point was installed with. */
typedef enum AnomalyCatalogApi
{
	ANOMALY_CATALOG_0_1,		/* per-row owners, row-level security */
	ANOMALY_CATALOG_0_2			/* per-name owners, writes by the functions only */
} AnomalyCatalogApi;

typedef struct AnomalyCatalogEntry
{
	int32		version;
	TransactionId xmin;
	ItemPointerData tid;
	double		threshold;		/* the catalog's, which is the one scoring uses */
	bytea	   *model;			/* detoasted, in the caller's context; NULL if not fetched */
	bool		may_score;		/* the current user's privileges on the model */
	bool		may_read;
} AnomalyCatalogEntry;

/* a privilege on a model (anomaly.model_privileges); read includes score */
typedef enum AnomalyPrivilege
{
	ANOMALY_PRIV_SCORE,
	ANOMALY_PRIV_READ
} AnomalyPrivilege;

/* whether the catalog has anomaly.model_privileges (0.2.0) */
extern bool anomaly_catalog_has_privileges(void);

/* errors (insufficient_privilege) unless entry grants need on model name */
extern void anomaly_check_privilege(const char *name, const AnomalyCatalogEntry *entry,
									AnomalyPrivilege need);

/*
 * The referenced version, with the current user's privileges on it; false
 * if there is none.  The lookup reads as the catalog's owner: callers check
 * the privileges (anomaly_check_privilege) before using what it returns.
 */
extern bool anomaly_catalog_lookup(const AnomalyModelRef *ref, bool fetch_model,
								   AnomalyCatalogEntry *entry);

/* the owner of anomaly.model_versions: the role that installed the extension */
extern Oid	anomaly_catalog_owner(void);

/* ---- more than one server (distributed.c) ---- */

/* the catalog tables replicated to Citus workers */
#define ANOMALY_REPLICA_TABLES 3

/*
 * On a Citus worker that scores from the replicas of the coordinator's
 * catalog: true, the qualified names of their local placements (versions,
 * names, privileges) and the OID of the first; false elsewhere.  Inside SPI.
 */
extern bool anomaly_catalog_replica(char *relations[ANOMALY_REPLICA_TABLES],
									Oid *versions_relid);

/*
 * Errors (read_only_sql_transaction, feature_not_supported) where models
 * must not change: a standby, a read-only transaction, a Citus worker.
 */
extern void anomaly_check_catalog_writable(void);

/* errors unless a model may be created under name (exists, not owned) */
extern void anomaly_catalog_check_create(const char *name, bool replace,
										 AnomalyCatalogApi api);

/*
 * Ownership, per model name.  These run inside SPI (the caller connects).
 * anomaly_name_owner returns InvalidOid for an unknown name;
 * anomaly_check_owner errors unless the current user has the privileges
 * of owner (is a member of it, or a superuser).
 */
extern void anomaly_lock_name(const char *name);
extern Oid	anomaly_name_owner(const char *name);
extern void anomaly_check_owner(const char *name, Oid owner);

/* the owner of name, checked against the current user; errors if unknown */
extern Oid	anomaly_require_owner(const char *name);

/* the error of an operation that needs name's deployed version when it has none */
extern void anomaly_no_deployed_version(const char *name) pg_attribute_noreturn();

/*
 * Catalog writes run as the catalog's owner with search_path pg_catalog,
 * between these two calls (which an error unwinds on its own).
 */
typedef struct AnomalyCatalogWrite
{
	Oid			save_userid;
	int			save_sec_context;
	int			nestlevel;
} AnomalyCatalogWrite;

extern void anomaly_catalog_write_begin(AnomalyCatalogWrite *w);
/* also invalidates, at commit, the plans made for the previous versions */
extern void anomaly_catalog_write_end(AnomalyCatalogWrite *w);

/* run a catalog statement with text/int4/float8 arguments, inside SPI */
extern int	anomaly_spi_exec(const char *sql, int nargs, const Oid *types,
							 const Datum *values, int expected);

/* the anomaly.models row of (name, version) as a composite Datum, inside SPI */
extern Datum anomaly_catalog_models_row(const char *name, int32 version);

/* what a new version stores */
typedef struct AnomalyNewVersion
{
	const char *name;
	const char *method;
	const char *source;			/* NULL for an import */
	ArrayType  *features;		/* text[] of encoded feature names */
	ArrayType  *exclude;		/* text[] */
	Jsonb	   *options;
	bytea	   *model;
	int64		trained_rows;
	double		train_seconds;
	double		loss;
	double		threshold;
	bool		replace;
	AnomalyCatalogApi api;
} AnomalyNewVersion;

/*
 * Insert a new deployed version (undeploying the previous one) into the
 * catalog layout of v->api and return its anomaly.models row as a
 * composite Datum; *version receives its number.
 */
extern Datum anomaly_catalog_store(const AnomalyNewVersion *v, int32 *version);

/* anomaly_name_owner for the 0.1.0 catalog, whose owners are per row (compat.c) */
extern Oid	anomaly_name_owner_0_1(const char *name);

/* ---- training (create_model.c) ---- */

typedef struct AnomalyTrainRequest
{
	const char *name;
	const char *source;
	const char *method;
	ArrayType  *exclude;		/* text[] */
	Jsonb	   *options;		/* NULL: none */
	bool		replace;
	List	   *keep_columns;	/* see anomaly_load_training_set */
	AnomalyCatalogApi api;
} AnomalyTrainRequest;

/* train, validate the document and store it; the anomaly.models row */
extern Datum anomaly_train(const AnomalyTrainRequest *req);

/* the encoded feature names of spec as a text[] */
extern ArrayType *anomaly_feature_names(AnContext *ctx, const AnFeatureSpec *spec);

/* NOTICE-level progress of training, unless anomaly.progress says otherwise */
#define anomaly_progress_notice() (anomaly_progress == ANOMALY_PROGRESS_NOTICE)

/* ---- model cache (cache.c) ---- */

typedef struct AnomalyCachedModel
{
	char		name[ANOMALY_REF_MAXLEN];	/* the reference, "m" or "m@3" */
	int32		version;
	TransactionId xmin;
	ItemPointerData tid;
	double		threshold;		/* from the catalog row, not the document */
	MemoryContext mcxt;			/* holds the decoded model */
	AnModel		model;
	AnContext	ctx;
	uint64		generation;		/* changes whenever the entry is rebuilt */
} AnomalyCachedModel;

/*
 * The referenced version of a model ("m" or "m@3"), decoded and cached for
 * this backend, validated against the catalog row (version, xmin, ctid).
 * Errors if no such model exists or the current user lacks privilege need
 * on it (checked at every call, with the validation).
 */
extern AnomalyCachedModel *anomaly_cache_get(const char *ref, AnomalyPrivilege need);
/* NULL instead of an error for a missing model, a malformed name or no privilege */
extern AnomalyCachedModel *anomaly_cache_try_get(const char *ref, AnomalyPrivilege need);

/* ---- scoring (score.c) ---- */

/* can a column of type class cls feed a feature of kind kind? */
extern bool anomaly_feature_accepts(AnFeatureKind kind, AnomalyTypeClass cls);

/* ---- planner support of the scoring functions (score_support.c) ---- */

/*
 * At commit, make the plans whose scoring calls were rewritten for a model
 * version be made again: for catalog writes.
 */
extern void anomaly_score_plans_invalidate(void);

/*
 * Score a heap tuple of descriptor desc with model ref, keeping per-query
 * state in *site (allocated in mcxt on first use); *threshold receives the
 * threshold of the version used.  For the trigger.
 */
extern double anomaly_score_heap_tuple(MemoryContext mcxt, void **site, const char *ref,
									   TupleDesc desc, HeapTuple tuple, double *threshold);

/*
 * The encoded (unscaled) feature vector of a composite row for model ref,
 * through the call site's scoring state (valid until the next call);
 * *cached receives the model, and *feature_null, if not NULL, a palloc'd
 * array saying which features' columns were NULL.  For anomaly_explain.
 */
extern const double *anomaly_encode_record(FunctionCallInfo fcinfo, const char *ref,
										   HeapTupleHeader rec,
										   AnomalyCachedModel **cached,
										   bool **feature_null);

/* ---- evaluation (source.c) ---- */

/*
 * The plan of source (a table or view name, or a query), inside SPI, after
 * the checks a training source gets: one query that returns rows and
 * neither modifies nor locks any.  Read with the caller's privileges.
 */
extern struct _SPI_plan *anomaly_prepare_source(const char *source);

/* whether a training source is a query (SELECT, WITH, VALUES, TABLE), not a name */
extern bool anomaly_source_is_query(const char *source);

/*
 * The training source to read (distributed.c): source itself, or for a
 * Citus distributed table with more than twice max_rows rows, a query
 * that samples it on the workers.  Outside SPI.
 */
extern const char *anomaly_sample_on_workers(const char *source, const AnOptions *opts);

#endif							/* ANOMALY_PG_H */
