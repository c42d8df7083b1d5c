/*-------------------------------------------------------------------------
 *
 * retrain.c
 *	  anomaly_retrain: a new version trained as the deployed one was.
 *
 * The deployed version's source, method, exclude list and options are
 * reused (given options override stored ones, and the merged options are
 * stored with the new version, so the next retrain uses them too), and
 * its feature columns are kept: a column added to the source since, such
 * as the score column of a trigger, is not silently made a feature.  The
 * new version is deployed only once trained and its document checked in
 * full (create_model.c); on any error the deployed version stays.  Meant
 * for scheduled jobs: SELECT anomaly_retrain('m') from pg_cron.
 *
 * IDENTIFICATION
 *	  src/pg/retrain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_retrain);

/* what the deployed version was trained with */
typedef struct StoredTraining
{
	char	   *source;			/* NULL for an imported version */
	char	   *method;
	ArrayType  *exclude;
	Jsonb	   *options;
} StoredTraining;

static void
stored_training(const char *name, StoredTraining *st)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	Datum		d;
	MemoryContext oldcxt;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	anomaly_require_owner(name);
	anomaly_spi_exec("SELECT m.source, m.method, m.exclude, m.options "
					 "FROM anomaly.model_versions m "
					 "WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.deployed",
					 1, types, args, SPI_OK_SELECT);
	if (SPI_processed == 0)
		anomaly_no_deployed_version(name);
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	/* copy out of SPI's memory, which SPI_finish frees */
	oldcxt = MemoryContextSwitchTo(caller_cxt);
	d = SPI_getbinval(tuple, desc, 1, &isnull);
	st->source = isnull ? NULL : TextDatumGetCString(d);
	st->method = TextDatumGetCString(SPI_getbinval(tuple, desc, 2, &isnull));
	st->exclude = DatumGetArrayTypePCopy(SPI_getbinval(tuple, desc, 3, &isnull));
	st->options = DatumGetJsonbPCopy(SPI_getbinval(tuple, desc, 4, &isnull));
	MemoryContextSwitchTo(oldcxt);
	SPI_finish();
}

Datum
anomaly_retrain(PG_FUNCTION_ARGS)
{
	AnomalyTrainRequest req;
	StoredTraining st;
	AnomalyCachedModel *previous;
	List	   *columns = NIL;
	char	   *name;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	anomaly_check_new_model_name(name);

	/* ownership first: an intruder learns nothing from a long training */
	stored_training(name, &st);
	if (st.source == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" has no source to retrain from", name),
				 errdetail("Its deployed version was imported."),
				 errhint("Train a new version with anomaly.anomaly_create_model(..., replace => true).")));

	/* the previous version's feature columns, from its document */
	previous = anomaly_cache_get(name, ANOMALY_PRIV_READ);
	for (int i = 0; i < previous->model.spec.n_features; i++)
		columns = lappend(columns, pstrdup(previous->model.spec.features[i].name));

	memset(&req, 0, sizeof(req));
	req.name = name;
	req.source = st.source;
	req.method = st.method;
	req.exclude = st.exclude;
	req.options = st.options;
	if (!PG_ARGISNULL(1))
	{
		Jsonb	   *given = PG_GETARG_JSONB_P(1);

		if (!JB_ROOT_IS_OBJECT(given))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options must be a JSON object"),
					 errhint("For example: '{\"epochs\": 20}'.")));
		req.options = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
														 JsonbPGetDatum(st.options),
														 JsonbPGetDatum(given)));
	}
	req.replace = true;
	req.keep_columns = columns;
	req.api = ANOMALY_CATALOG_0_2;
	PG_RETURN_DATUM(anomaly_train(&req));
}
