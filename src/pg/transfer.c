/*-------------------------------------------------------------------------
 *
 * transfer.c
 *	  anomaly_export_model and anomaly_import_model: moving a model
 *	  between databases as its msgpack document.
 *
 * The exported document carries the version's current threshold (the
 * catalog's, which anomaly_set_threshold may have changed since training),
 * so an import scores and flags exactly as the source did.  An imported
 * document is decoded in full, as scoring would decode it (every field,
 * size and weight checked), before anything is written; the importing
 * role owns a new name, and must own an existing one to add a version.
 *
 * IDENTIFICATION
 *	  src/pg/transfer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_export_model);
PG_FUNCTION_INFO_V1(anomaly_import_model);

Datum
anomaly_export_model(PG_FUNCTION_ARGS)
{
	char	   *arg;
	AnomalyModelRef ref;
	AnomalyCatalogEntry row;
	MemoryContext cxt;
	AnContext	ctx;
	AnModel		model;
	AnStatus	st;
	char	   *doc;
	size_t		len;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
	anomaly_parse_model_ref(arg, &ref);
	if (!PG_ARGISNULL(1))
	{
		if (ref.version > 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("version given twice, in \"%s\" and as an argument", arg)));
		ref.version = PG_GETARG_INT32(1);
		if (ref.version <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("version must be positive")));
	}
	if (!anomaly_catalog_lookup(&ref, true, &row))
	{
		if (ref.version > 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("version %d of model \"%s\" does not exist", ref.version, ref.name)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", ref.name)));
	}
	anomaly_check_privilege(ref.name, &row, ANOMALY_PRIV_READ);

	cxt = AllocSetContextCreate(CurrentMemoryContext, "anomaly export",
								ALLOCSET_DEFAULT_SIZES);
	anomaly_context_init(&ctx, cxt);
	memset(&model, 0, sizeof(model));
	st = an_model_decode(&ctx, VARDATA_ANY(row.model), VARSIZE_ANY_EXHDR(row.model), &model);
	if (st != AN_OK)
		ereport(ERROR,
				(errcode(st == AN_ERR_NOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_DATA_CORRUPTED),
				 errmsg("could not load model \"%s\" version %d: %s", ref.name, row.version,
						ctx.errmsg)));
	if (model.threshold == row.threshold)
		result = row.model;		/* as stored, byte for byte */
	else
	{
		model.threshold = row.threshold;
		st = an_model_encode(&ctx, &model, &doc, &len);
		if (st != AN_OK)
			anomaly_core_error(&ctx, st);
		result = palloc(VARHDRSZ + len);
		SET_VARSIZE(result, VARHDRSZ + len);
		memcpy(VARDATA(result), doc, len);
	}
	MemoryContextDelete(cxt);
	PG_RETURN_BYTEA_P(result);
}

Datum
anomaly_import_model(PG_FUNCTION_ARGS)
{
	char	   *name;
	bytea	   *doc;
	bool		replace = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	MemoryContext cxt;
	AnContext	ctx;
	AnModel		model;
	AnStatus	st;
	AnomalyNewVersion v;
	int32		version;
	Datum		result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "name" : "model")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	doc = PG_GETARG_BYTEA_PP(1);
	anomaly_check_new_model_name(name);
	anomaly_catalog_check_create(name, replace, ANOMALY_CATALOG_0_2);

	/* the whole document, validated before anything is written */
	anomaly_blas_ensure();
	cxt = AllocSetContextCreate(CurrentMemoryContext, "anomaly import",
								ALLOCSET_DEFAULT_SIZES);
	anomaly_context_init(&ctx, cxt);
	memset(&model, 0, sizeof(model));
	st = an_model_decode(&ctx, VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), &model);
	if (st == AN_ERR_NOMEM)
		anomaly_core_error(&ctx, st);
	if (st != AN_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("%s", ctx.errmsg),
				 errhint("Pass the bytes anomaly.anomaly_export_model() returned, unchanged.")));

	memset(&v, 0, sizeof(v));
	v.name = name;
	v.method = model.method->name;
	v.source = NULL;
	v.features = anomaly_feature_names(&ctx, &model.spec);
	v.exclude = construct_empty_array(TEXTOID);
	v.options = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	v.model = palloc(VARHDRSZ + VARSIZE_ANY_EXHDR(doc));
	SET_VARSIZE(v.model, VARHDRSZ + VARSIZE_ANY_EXHDR(doc));
	memcpy(VARDATA(v.model), VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc));
	v.trained_rows = model.trained_rows;
	v.train_seconds = 0.0;
	v.loss = model.loss;
	v.threshold = model.threshold;
	v.replace = replace;
	v.api = ANOMALY_CATALOG_0_2;
	result = anomaly_catalog_store(&v, &version);
	MemoryContextDelete(cxt);
	PG_RETURN_DATUM(result);
}
