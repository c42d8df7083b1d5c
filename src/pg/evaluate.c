/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *	  anomaly_evaluate: the detection quality of a model against a label
 *	  column.
 *
 * The source (a table or view name, or a query) is read as the caller,
 * through the same checks as a training source, with a read-only cursor.
 * Each row is scored with the referenced version through the scoring
 * path of the trigger (columns matched by name, the label column ignored
 * unless it is a feature), and its label read: boolean, or a number 0 or
 * 1, true or 1 meaning anomaly.  Rows with a NULL label are skipped and
 * counted in a NOTICE.  The metrics (metrics.c) use the threshold of the
 * version's catalog row, the one anomaly_is_anomaly uses.
 *
 * Memory: the scores and labels of every row are kept (9 bytes a row),
 * plus a sorted copy while the metrics are computed (16 bytes a row), so
 * 25 bytes per labelled row must fit in maintenance_work_mem; a larger
 * source is an error that says so, rather than a silent sample, since the
 * metrics of a sample are not those of the source.
 *
 * IDENTIFICATION
 *	  src/pg/evaluate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "anomaly/metrics.h"
#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_evaluate);

#define FETCH_ROWS 10000
#define BYTES_PER_ROW (sizeof(double) + sizeof(bool) + AN_METRICS_BYTES_PER_ROW)

typedef struct Labelled
{
	MemoryContext mcxt;
	double	   *scores;
	bool	   *labels;
	size_t		n;
	size_t		cap;
	int64		null_labels;
} Labelled;

static void
append(Labelled *set, double score, bool label)
{
	if (set->n == set->cap)
	{
		size_t		cap = set->cap ? set->cap * 2 : 1024;

		if ((double) cap * BYTES_PER_ROW > (double) maintenance_work_mem * 1024.0)
			cap = (size_t) ((double) maintenance_work_mem * 1024.0 / BYTES_PER_ROW);
		if (cap <= set->n)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the source has more labelled rows than maintenance_work_mem holds for an evaluation"),
					 errdetail("An evaluation keeps about %d bytes per row; maintenance_work_mem is %d kB.",
							   (int) BYTES_PER_ROW, maintenance_work_mem),
					 errhint("Raise maintenance_work_mem, or evaluate a sample of the rows (a query with TABLESAMPLE).")));
		set->scores = set->scores
			? repalloc_huge(set->scores, cap * sizeof(double))
			: MemoryContextAllocHuge(set->mcxt, cap * sizeof(double));
		set->labels = set->labels
			? repalloc_huge(set->labels, cap * sizeof(bool))
			: MemoryContextAllocHuge(set->mcxt, cap * sizeof(bool));
		set->cap = cap;
	}
	set->scores[set->n] = score;
	set->labels[set->n] = label;
	set->n++;
}

/* the label column's position in desc, checked; errors name the column */
static int
label_attno(TupleDesc desc, const char *column, Oid *basetype)
{
	int			attno = SPI_fnumber(desc, column);
	Oid			typid;
	AnomalyTypeClass cls;

	if (attno == SPI_ERROR_NOATTRIBUTE || attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("label column \"%s\" does not exist in the source", column)));
	typid = SPI_gettypeid(desc, attno);
	cls = anomaly_type_class(typid);
	if (cls != ANOMALY_TYPE_BOOLEAN && cls != ANOMALY_TYPE_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("label column \"%s\" has type %s, but labels must be boolean or a number 0 or 1",
						column, format_type_be(typid)),
				 errhint("true or 1 marks an anomaly; cast the column in a source query.")));
	*basetype = getBaseType(typid);
	return attno;
}

/* the label of a non-NULL value: an error for anything but true/false/0/1 */
static bool
label_value(Datum value, Oid basetype, const char *column)
{
	double		x;

	if (basetype == BOOLOID)
		return DatumGetBool(value);
	x = anomaly_base_datum_to_double(value, basetype);
	if (x != 0.0 && x != 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("label column \"%s\" holds %g, but labels must be 0 or 1", column, x),
				 errhint("1 marks an anomaly, 0 a normal row; NULL labels are skipped.")));
	return x == 1.0;
}

Datum
anomaly_evaluate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *ref = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *column = text_to_cstring(PG_GETARG_TEXT_PP(2));
	MemoryContext work;
	MemoryContext batch;
	MemoryContext oldcxt;
	Labelled	set;
	void	   *site = NULL;
	double		threshold;
	SPIPlanPtr	plan;
	Portal		portal;
	int			attno = 0;
	Oid			basetype = InvalidOid;
	AnContext	ctx;
	AnMetrics	m;
	AnStatus	st;
	Datum		values[8];
	bool		nulls[8] = {false};

	InitMaterializedSRF(fcinfo, 0);
	/* an unknown model is an error before the source is read */
	threshold = anomaly_cache_get(ref, ANOMALY_PRIV_SCORE)->threshold;

	work = AllocSetContextCreate(CurrentMemoryContext, "anomaly evaluate",
								 ALLOCSET_DEFAULT_SIZES);
	/* what scoring a batch of rows allocates (category texts) */
	batch = AllocSetContextCreate(work, "anomaly evaluate batch", ALLOCSET_DEFAULT_SIZES);
	memset(&set, 0, sizeof(set));
	set.mcxt = work;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "anomaly: SPI_connect failed");
	plan = anomaly_prepare_source(source);
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		if (attno == 0)
			attno = label_attno(SPI_tuptable->tupdesc, column, &basetype);
		oldcxt = MemoryContextSwitchTo(batch);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[i];
			bool		isnull;
			Datum		value = SPI_getbinval(tuple, SPI_tuptable->tupdesc, attno, &isnull);
			bool		label;
			double		score;

			if (isnull)
			{
				set.null_labels++;
				continue;
			}
			label = label_value(value, basetype, column);
			score = anomaly_score_heap_tuple(work, &site, ref, SPI_tuptable->tupdesc,
											 tuple, &threshold);
			append(&set, score, label);
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(batch);
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	SPI_finish();

	if (set.null_labels > 0)
		ereport(NOTICE,
				(errmsg("skipped " INT64_FORMAT " rows whose label is NULL", set.null_labels)));
	if (set.n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA),
				 errmsg("the source has no rows with a label in column \"%s\"", column)));
	{
		size_t		positive = 0;

		for (size_t i = 0; i < set.n; i++)
			positive += set.labels[i];
		if (positive == 0 || positive == set.n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("label column \"%s\" has a single class: every labelled row is %s",
							column, positive == 0 ? "normal" : "an anomaly"),
					 errdetail("AUROC, average precision and F1 need both anomalies and normal rows.")));
	}

	oldcxt = MemoryContextSwitchTo(work);
	anomaly_context_init(&ctx, work);
	st = an_metrics_compute(&ctx, set.scores, set.labels, set.n, threshold, &m);
	if (st != AN_OK)
		anomaly_core_error(&ctx, st);
	MemoryContextSwitchTo(oldcxt);

	values[0] = Float8GetDatum(m.auroc);
	values[1] = Float8GetDatum(m.auprc);
	values[2] = Float8GetDatum(m.f1_best);
	values[3] = Float8GetDatum(m.threshold_best);
	values[4] = Float8GetDatum(m.precision);
	nulls[4] = isnan(m.precision);
	values[5] = Float8GetDatum(m.recall);
	values[6] = Int64GetDatum((int64) m.n);
	values[7] = Int64GetDatum((int64) m.n_positive);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	MemoryContextDelete(work);
	return (Datum) 0;
}
