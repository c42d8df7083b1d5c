/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  anomaly_explain: which columns make a row's score.
 *
 * One output row per feature column of the model: its name (a
 * categorical column's shows the row's category, "shop=books", or
 * "shop=(other)" for a category the model does not know or NULL), the
 * row's value for a numeric or boolean column (NULL for a NULL, which the
 * model imputed, and for a categorical column) and its contribution,
 * highest first.  What a contribution is depends on the method (the
 * method's explain callback; docs/reference.md): the one-hot group of a
 * categorical column is summed back to the column in the core.
 *
 * IDENTIFICATION
 *	  src/pg/explain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "anomaly/explain.h"
#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_explain);

typedef struct Contribution
{
	int			feature;
	double		value;
} Contribution;

/* highest contribution first; ties in the model's feature order */
static int
by_contribution(const void *a, const void *b)
{
	const Contribution *x = a;
	const Contribution *y = b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	return x->feature - y->feature;
}

/* "shop=books", or "shop=(other)" for the other slot */
static char *
categorical_name(const AnFeature *f, const double *raw)
{
	for (int c = 0; c < f->n_categories; c++)
		if (raw[f->offset + c] != 0.0)
			return psprintf("%s=%s", f->name, f->categories[c]);
	return psprintf("%s=(other)", f->name);
}

Datum
anomaly_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *ref = text_to_cstring(PG_GETARG_TEXT_PP(0));
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(1);
	AnomalyCachedModel *cached;
	const double *raw;
	bool	   *feature_null;
	const AnFeatureSpec *spec;
	double	   *per_feature;
	Contribution *order;
	double		rest,
				score;
	AnContext	ctx;
	AnStatus	st;

	InitMaterializedSRF(fcinfo, 0);
	raw = anomaly_encode_record(fcinfo, ref, rec, &cached, &feature_null);
	spec = &cached->model.spec;
	if (!cached->model.method->explain)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("method %s cannot explain its scores", cached->model.method->name)));

	per_feature = palloc(sizeof(double) * spec->n_features);
	anomaly_context_init(&ctx, CurrentMemoryContext);
	st = an_model_explain(&ctx, &cached->model, raw, per_feature, &rest, &score);
	if (st != AN_OK)
		anomaly_core_error(&ctx, st);

	order = palloc(sizeof(Contribution) * spec->n_features);
	for (int i = 0; i < spec->n_features; i++)
	{
		order[i].feature = i;
		order[i].value = per_feature[i];
	}
	qsort(order, spec->n_features, sizeof(Contribution), by_contribution);

	for (int k = 0; k < spec->n_features; k++)
	{
		const AnFeature *f = &spec->features[order[k].feature];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (f->kind == AN_FEATURE_CATEGORICAL)
		{
			values[0] = CStringGetTextDatum(categorical_name(f, raw));
			nulls[1] = true;
		}
		else
		{
			values[0] = CStringGetTextDatum(f->name);
			values[1] = Float8GetDatum(raw[f->offset]);
			nulls[1] = feature_null[order[k].feature];
		}
		values[2] = Float8GetDatum(order[k].value);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
