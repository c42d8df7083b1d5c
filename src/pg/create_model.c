/*-------------------------------------------------------------------------
 *
 * create_model.c
 *	  anomaly_create_model: train a model on a source and store it.
 *
 * All training memory lives in one memory context, a child of the
 * function's, so a failed or cancelled training (statement_timeout,
 * pg_cancel_backend) frees it all, and, since the catalog row is only
 * written after training succeeded, leaves no trace in the catalog.
 *
 * IDENTIFICATION
 *	  src/pg/create_model.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "anomaly/blas.h"
#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_create_model_0_2);

static char *
required_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

static const AnMethod *
lookup_method(const char *name)
{
	const AnMethod *method = an_method_lookup(name);

	if (method == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown method \"%s\"", name),
				 errhint("Available methods: %s.", an_method_names())));
	return method;
}

ArrayType *
anomaly_feature_names(AnContext *ctx, const AnFeatureSpec *spec)
{
	Datum	   *names = palloc(sizeof(Datum) * spec->dim);

	for (int j = 0; j < spec->dim; j++)
	{
		char	   *name = an_spec_dim_name(ctx, spec, j);

		if (name == NULL)
			anomaly_core_error(ctx, an_nomem(ctx));
		names[j] = CStringGetTextDatum(name);
	}
	return construct_array(names, spec->dim, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * Values so large that their mean or spread overflows (beyond 1e100) would
 * make every score meaningless: refuse them, naming the column.
 */
static void
check_scaler(const AnModel *model)
{
	int			bad = an_scaler_bad_dim(&model->scaler);

	if (bad < 0)
		return;
	for (int i = 0; i < model->spec.n_features; i++)
	{
		const AnFeature *f = &model->spec.features[i];

		if (bad >= f->offset && bad < f->offset + f->width)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("column \"%s\" has values too large to scale", f->name),
					 errdetail("Its mean or spread is beyond %g.", AN_MAX_SCALER_VALUE),
					 errhint("Rescale the column in a source query, or add it to exclude.")));
	}
	elog(ERROR, "input dimension %d is out of range", bad);
}

/* train with the GUC's thread count, back to one thread whatever happens */
static AnStatus
fit_with_threads(AnContext *ctx, AnModel *model, const AnOptions *opts,
				 const float *x, size_t n)
{
	volatile AnStatus st = AN_OK;

	int			threads = Min(anomaly_training_threads, anomaly_max_training_threads);

	if (threads < anomaly_training_threads)
		ereport(WARNING,
				(errmsg("anomaly.training_threads is %d, but anomaly.max_training_threads allows %d: training with %d",
						anomaly_training_threads, anomaly_max_training_threads, threads)));
	anomaly_blas_ensure();
	PG_TRY();
	{
		an_blas_set_threads(threads);
		st = an_model_fit(ctx, model, opts, x, n);
	}
	PG_FINALLY();
	{
		an_blas_set_threads(1);
	}
	PG_END_TRY();
	return st;
}

/*
 * Decode the document just encoded, as scoring will: this checks every
 * weight and statistic for finiteness, so a diverged training is never
 * stored, let alone deployed.
 */
static void
check_document(AnContext *ctx, const char *doc, size_t doc_len)
{
	AnModel		check;
	AnStatus	st;

	memset(&check, 0, sizeof(check));
	st = an_model_decode(ctx, doc, doc_len, &check);
	if (st != AN_OK)
		ereport(ERROR,
				(errcode(st == AN_ERR_NOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("the trained model is not valid: %s", ctx->errmsg),
				 errhint("Lower \"learning_rate\", or check the source for extreme values.")));
	an_model_free(ctx, &check);
}

Datum
anomaly_train(const AnomalyTrainRequest *req)
{
	const AnMethod *method;
	MemoryContext train_cxt;
	AnContext	ctx;
	AnOptions	opts;
	AnomalyTrainingSet set;
	AnModel		model;
	AnomalyNewVersion v;
	bool	   *fit_dim;
	float	   *x;
	char	   *doc;
	size_t		doc_len;
	AnStatus	st;
	instr_time	start,
				elapsed;
	int32		version;
	Datum		result;

	INSTR_TIME_SET_CURRENT(start);
	if (req->api == ANOMALY_CATALOG_0_1)
		anomaly_check_model_name(req->name);
	else
		anomaly_check_new_model_name(req->name);
	method = lookup_method(req->method);
	if (req->source[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("source must not be empty")));

	train_cxt = AllocSetContextCreate(CurrentMemoryContext, "anomaly training",
									  ALLOCSET_DEFAULT_SIZES);
	anomaly_context_init(&ctx, train_cxt);
	/* rows, categories, network, optimiser and workspaces, all together */
	anomaly_context_set_budget(&ctx, (size_t) maintenance_work_mem * 1024);

	st = an_options_init(&ctx, &opts, method);
	if (st != AN_OK)
		anomaly_core_error(&ctx, st);
	anomaly_parse_options(&ctx, &opts, req->options);
	if (!opts.seed_set)
		opts.seed = pg_prng_uint64(&pg_global_prng_state) >> 11;	/* fits in JSON */

	/* fail before the expensive part when the name is taken */
	anomaly_catalog_check_create(req->name, req->replace, req->api);

	anomaly_load_training_set(&ctx, req->source, req->exclude, req->keep_columns,
							  &opts, &set);
	an_options_resolve(&opts, set.spec.dim, set.n);
	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	if (anomaly_progress_notice())
		ereport(NOTICE,
				(errmsg("read %zu rows of %d features in %.1f s; training %s with %d epochs of batches of %d",
						set.n, set.spec.dim, INSTR_TIME_GET_DOUBLE(elapsed), method->name,
						opts.epochs, opts.batch_size)));

	/* standardise numeric dimensions only: 0/1 and one-hot stay as they are */
	memset(&model, 0, sizeof(model));
	model.spec = set.spec;
	fit_dim = palloc0(sizeof(bool) * set.spec.dim);
	for (int i = 0; i < set.spec.n_features; i++)
		if (set.spec.features[i].kind == AN_FEATURE_NUMERIC)
			fit_dim[set.spec.features[i].offset] = true;
	st = an_scaler_fit(&ctx, &model.scaler, opts.scaler, set.raw, set.n, set.spec.dim,
					   fit_dim);
	if (st != AN_OK)
		anomaly_core_error(&ctx, st);
	check_scaler(&model);
	x = an_scaler_apply_compact(&model.scaler, set.raw, set.n);

	st = fit_with_threads(&ctx, &model, &opts, x, set.n);
	if (st != AN_OK)
		anomaly_core_error(&ctx, st);
	an_free(&ctx, set.raw);

	st = an_model_encode(&ctx, &model, &doc, &doc_len);
	if (st != AN_OK)
		anomaly_core_error(&ctx, st);
	check_document(&ctx, doc, doc_len);

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);

	memset(&v, 0, sizeof(v));
	v.name = req->name;
	v.method = method->name;
	v.source = req->source;
	v.features = anomaly_feature_names(&ctx, &model.spec);
	v.exclude = req->exclude;
	v.options = req->options ? req->options
		: DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	v.model = palloc(VARHDRSZ + doc_len);
	SET_VARSIZE(v.model, VARHDRSZ + doc_len);
	memcpy(VARDATA(v.model), doc, doc_len);
	v.trained_rows = (int64) set.n;
	v.train_seconds = INSTR_TIME_GET_DOUBLE(elapsed);
	v.loss = model.loss;
	v.threshold = model.threshold;
	v.replace = req->replace;
	v.api = req->api;
	result = anomaly_catalog_store(&v, &version);

	/* for scheduled jobs: one line per training in the server log */
	if (anomaly_progress == ANOMALY_PROGRESS_LOG)
		ereport(LOG,
				(errmsg("trained model \"%s\" version %d: %s on %zu rows, %d epochs, loss %.6g, %.1f s",
						req->name, version, method->name, set.n, model.epochs_run,
						model.loss, v.train_seconds)));

	MemoryContextDelete(train_cxt);
	return result;
}

Datum
anomaly_create_model_0_2(PG_FUNCTION_ARGS)
{
	AnomalyTrainRequest req;

	memset(&req, 0, sizeof(req));
	req.name = required_text(fcinfo, 0, "name");
	req.source = required_text(fcinfo, 1, "source");
	req.method = required_text(fcinfo, 2, "method");
	req.exclude = PG_ARGISNULL(3) ? construct_empty_array(TEXTOID) : PG_GETARG_ARRAYTYPE_P(3);
	req.options = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	req.replace = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	req.api = ANOMALY_CATALOG_0_2;
	PG_RETURN_DATUM(anomaly_train(&req));
}
