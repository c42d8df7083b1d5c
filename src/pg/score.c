/*-------------------------------------------------------------------------
 *
 * score.c
 *	  anomaly_score, anomaly_is_anomaly and anomaly_percentile: scoring rows
 *	  in queries.
 *
 * The per-call-site state in fn_extra lives as long as the query, so the
 * model is validated against the catalog once per query (cache.c), and
 * the mapping from the row type's columns to the model's features is built
 * once per row type.  Columns are matched by name; extra columns are
 * ignored, a missing one is an error naming it.  The trigger (trigger.c)
 * scores heap tuples through the same state.
 *
 * The planner rewrites a call on a table's whole row into a call on just
 * the model's columns (score_support.c), which saves forming the row as a
 * composite and deforming it again.  The column form receives the column
 * names the plan was made with and maps the model's features to them by
 * name once per query (and per model version), so a model retrained with
 * other features or another column order never scores the wrong columns:
 * a feature the plan does not pass is an error, and the catalog write that
 * made the new version invalidated the plan for the next run.
 *
 * anomaly_is_anomaly compares with the threshold of the catalog row, which
 * the cache keeps with the model: the document's threshold is only the
 * value that row started with.  anomaly_percentile places a score among
 * the training rows' scores, from the document's stored quantiles.
 *
 * IDENTIFICATION
 *	  src/pg/score.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "anomaly/explain.h"
#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_score_row);
PG_FUNCTION_INFO_V1(anomaly_score_array);
PG_FUNCTION_INFO_V1(anomaly_is_anomaly_row);
PG_FUNCTION_INFO_V1(anomaly_percentile_row);
PG_FUNCTION_INFO_V1(anomaly_percentile_array);
PG_FUNCTION_INFO_V1(anomaly_score_columns);
PG_FUNCTION_INFO_V1(anomaly_is_anomaly_columns);
PG_FUNCTION_INFO_V1(anomaly_percentile_columns);

typedef struct ScoreState
{
	char		name[ANOMALY_REF_MAXLEN];	/* "m" or "m@3" */
	AnomalyCachedModel *cached;
	double	   *raw;			/* one encoded row */
	int			raw_size;

	/*
	 * row type -> features, valid for (row type, model generation); in the
	 * column form (desc NULL) attno is the argument of each feature
	 */
	Oid			row_type;
	int32		row_typmod;
	uint64		map_generation;
	TupleDesc	desc;			/* copy of the row type's descriptor */
	int		   *attno;			/* per feature: 0-based attribute */
	Oid		   *basetype;		/* per feature: the attribute's base type */
	Datum	   *values;
	bool	   *nulls;
} ScoreState;

/*
 * A call site keeps one ScoreState per model it has seen in this query, so
 * a query that takes the model name from a column (one model per merchant,
 * say) validates each model once, not once per row.  Beyond
 * MAX_MODELS_PER_CALL models the oldest state is recycled.
 */
#define MAX_MODELS_PER_CALL 8

typedef struct ScoreCallSite
{
	int			n;
	int			next_victim;
	ScoreState	states[MAX_MODELS_PER_CALL];

	/*
	 * The model name when the call passes it as a constant (the usual
	 * case), read once rather than copied out of its text for every row.
	 */
	bool		name_known;
	char		const_name[ANOMALY_REF_MAXLEN];
} ScoreCallSite;

/* the state of model name at a call site whose state is in *sitep */
static ScoreState *
site_state(MemoryContext mcxt, void **sitep, const char *name)
{
	ScoreCallSite *site = *sitep;
	ScoreState *state = NULL;
	AnomalyCachedModel *cached;

	if (site == NULL)
	{
		site = MemoryContextAllocZero(mcxt, sizeof(ScoreCallSite));
		*sitep = site;
	}
	for (int i = 0; i < site->n; i++)
		if (strcmp(site->states[i].name, name) == 0)
			return &site->states[i];

	/* look the model up before taking a slot, which an error would leave half-made */
	cached = anomaly_cache_get(name, ANOMALY_PRIV_SCORE);
	if (site->n < MAX_MODELS_PER_CALL)
		state = &site->states[site->n++];
	else
	{
		/* recycle a state: its buffers are reused or replaced below */
		state = &site->states[site->next_victim];
		site->next_victim = (site->next_victim + 1) % MAX_MODELS_PER_CALL;
		state->map_generation = 0;
	}
	state->cached = cached;
	strlcpy(state->name, name, sizeof(state->name));
	if (cached->model.spec.dim > state->raw_size)
	{
		if (state->raw)
			pfree(state->raw);
		state->raw_size = cached->model.spec.dim;
		state->raw = MemoryContextAlloc(mcxt, sizeof(double) * state->raw_size);
	}
	return state;
}

static ScoreState *
score_state(FunctionCallInfo fcinfo, const char *name)
{
	return site_state(fcinfo->flinfo->fn_mcxt, &fcinfo->flinfo->fn_extra, name);
}

/*
 * The state of the model named by the call's first argument.  A constant
 * name is read once per call site; any other is read per call.
 */
static ScoreState *
call_state(FunctionCallInfo fcinfo)
{
	ScoreCallSite *site = fcinfo->flinfo->fn_extra;
	text	   *t;
	char	   *name;

	if (site && site->name_known)
		return score_state(fcinfo, site->const_name);
	t = PG_GETARG_TEXT_PP(0);
	name = text_to_cstring(t);
	if (get_fn_expr_arg_stable(fcinfo->flinfo, 0) &&
		VARSIZE_ANY_EXHDR(t) < ANOMALY_REF_MAXLEN)
	{
		ScoreState *state = score_state(fcinfo, name);

		/* only once the model was found: an error leaves the site as it was */
		site = fcinfo->flinfo->fn_extra;
		strlcpy(site->const_name, name, sizeof(site->const_name));
		site->name_known = true;
		return state;
	}
	return score_state(fcinfo, name);
}

static const char *
class_description(AnFeatureKind kind)
{
	switch (kind)
	{
		case AN_FEATURE_NUMERIC:
			return "a number";
		case AN_FEATURE_BOOLEAN:
			return "a boolean";
		case AN_FEATURE_CATEGORICAL:
			break;
	}
	return "text or an enum";
}

bool
anomaly_feature_accepts(AnFeatureKind kind, AnomalyTypeClass cls)
{
	switch (kind)
	{
		case AN_FEATURE_NUMERIC:
			return cls == ANOMALY_TYPE_NUMERIC;
		case AN_FEATURE_BOOLEAN:
			return cls == ANOMALY_TYPE_BOOLEAN;
		case AN_FEATURE_CATEGORICAL:
			return cls == ANOMALY_TYPE_TEXT;
	}
	return false;
}

/*
 * The class and base type of the last type map_feature saw: a row's
 * features are mostly of one type, and each costs two syscache lookups,
 * which for a single-row INSERT (a map built per statement) was more than
 * scoring the row.
 */
typedef struct TypeMemo
{
	Oid			typid;
	AnomalyTypeClass cls;
	Oid			basetype;
} TypeMemo;

#define TYPE_MEMO_INIT {InvalidOid, ANOMALY_TYPE_UNSUPPORTED, InvalidOid}

/*
 * Feature i of state's model is read from position pos (an attribute of
 * the row, or an argument of the column form) of type typid: check that
 * the type can carry the feature, and record where and how to read it.
 */
static void
map_feature(ScoreState *state, int i, int pos, Oid typid, TypeMemo *memo)
{
	const AnFeature *f = &state->cached->model.spec.features[i];

	if (memo->typid != typid)
	{
		memo->cls = anomaly_type_class(typid);
		memo->basetype = getBaseType(typid);
		memo->typid = typid;
	}
	if (!anomaly_feature_accepts(f->kind, memo->cls))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" has type %s, but model \"%s\" expects %s",
						f->name, format_type_be(typid),
						state->name, class_description(f->kind))));
	state->attno[i] = pos;
	state->basetype[i] = memo->basetype;
}

/* map the columns of desc (the type row_type, row_typmod) to the features */
static void
build_row_map(MemoryContext mcxt, ScoreState *state, TupleDesc source_desc,
			  Oid row_type, int32 row_typmod)
{
	const AnFeatureSpec *spec = &state->cached->model.spec;
	TupleDesc	desc;
	MemoryContext oldcxt;
	TypeMemo	memo = TYPE_MEMO_INIT;
	bool		unique_names = row_type != RECORDOID;

	/* keep a copy in the function's context: the type cache's may change */
	oldcxt = MemoryContextSwitchTo(mcxt);
	if (state->desc)
		FreeTupleDesc(state->desc);
	state->desc = CreateTupleDescCopy(source_desc);
	MemoryContextSwitchTo(oldcxt);
	desc = state->desc;

	/* rebuilt whenever the query switches models: free the previous map */
	if (state->attno)
	{
		pfree(state->attno);
		pfree(state->basetype);
		pfree(state->values);
		pfree(state->nulls);
	}
	state->attno = MemoryContextAlloc(mcxt, sizeof(int) * spec->n_features);
	state->basetype = MemoryContextAlloc(mcxt, sizeof(Oid) * spec->n_features);
	state->values = MemoryContextAlloc(mcxt, sizeof(Datum) * Max(desc->natts, 1));
	state->nulls = MemoryContextAlloc(mcxt, sizeof(bool) * Max(desc->natts, 1));

	/*
	 * The attributes of a named row type (a table's, a composite type's)
	 * have unique names (pg_attribute's unique index), so the search may
	 * start after the previous feature's column, where the next one usually
	 * is: for a single-row INSERT through the trigger the name comparisons
	 * were the largest part of a map built per statement.  An anonymous
	 * record (a subquery's row) may repeat a name: the first one counts.
	 */
	for (int i = 0, next = 0; i < spec->n_features; i++)
	{
		const AnFeature *f = &spec->features[i];
		int			found = -1;

		for (int k = 0; k < desc->natts; k++)
		{
			int			a = unique_names ? (next + k) % desc->natts : k;
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!att->attisdropped && strcmp(NameStr(att->attname), f->name) == 0)
			{
				found = a;
				break;
			}
		}
		if (found < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of model \"%s\" is missing from the row",
							f->name, state->name),
					 errhint("Pass a row with every feature column, by name (for example the table's row).")));
		map_feature(state, i, found, TupleDescAttr(desc, found)->atttypid, &memo);
		next = found + 1;
	}
	state->row_type = row_type;
	state->row_typmod = row_typmod;
	state->map_generation = state->cached->generation;
}

static bool
row_map_valid(const ScoreState *state, Oid row_type, int32 row_typmod)
{
	return state->desc != NULL && state->row_type == row_type &&
		state->row_typmod == row_typmod &&
		state->map_generation == state->cached->generation;
}

/*
 * Encode one feature's value (of base type typid) into raw, which the
 * caller zeroed: a NULL number takes the training mean, a NULL category
 * the "other" slot.
 */
static inline void
encode_value(const AnFeature *f, double *raw, Datum value, bool isnull, Oid typid)
{
	if (f->kind != AN_FEATURE_CATEGORICAL)
		raw[f->offset] = isnull ? f->fill : anomaly_feature_double(value, typid, f->name);
	else
	{
		int			slot = f->n_categories;

		if (!isnull)
			slot = an_feature_category_slot(f, anomaly_datum_to_category(value, typid));
		raw[f->offset + slot] = 1.0;
	}
}

/* the encoded (unscaled) feature vector of a tuple of state->desc, into state->raw */
static void
encode_tuple(ScoreState *state, HeapTuple tuple)
{
	const AnFeatureSpec *spec = &state->cached->model.spec;

	heap_deform_tuple(tuple, state->desc, state->values, state->nulls);

	memset(state->raw, 0, sizeof(double) * spec->dim);
	for (int i = 0; i < spec->n_features; i++)
	{
		int			a = state->attno[i];

		encode_value(&spec->features[i], state->raw, state->values[a], state->nulls[a],
					 state->basetype[i]);
	}
}

/* the encoded feature vector of a composite value, into state->raw */
static void
encode_row(FunctionCallInfo fcinfo, ScoreState *state, HeapTupleHeader rec)
{
	Oid			row_type = HeapTupleHeaderGetTypeId(rec);
	int32		row_typmod = HeapTupleHeaderGetTypMod(rec);
	HeapTupleData tuple;

	if (!row_map_valid(state, row_type, row_typmod))
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(row_type, row_typmod);

		build_row_map(fcinfo->flinfo->fn_mcxt, state, desc, row_type, row_typmod);
		ReleaseTupleDesc(desc);
	}

	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	encode_tuple(state, &tuple);
}

double
anomaly_score_heap_tuple(MemoryContext mcxt, void **site, const char *ref,
						 TupleDesc desc, HeapTuple tuple, double *threshold)
{
	ScoreState *state = site_state(mcxt, site, ref);
	double		score;

	if (!row_map_valid(state, desc->tdtypeid, desc->tdtypmod))
		build_row_map(mcxt, state, desc, desc->tdtypeid, desc->tdtypmod);
	encode_tuple(state, tuple);
	an_model_score_raw(&state->cached->model, state->raw, 1, &score);
	*threshold = state->cached->threshold;
	return score;
}

const double *
anomaly_encode_record(FunctionCallInfo fcinfo, const char *ref, HeapTupleHeader rec,
					  AnomalyCachedModel **cached, bool **feature_null)
{
	ScoreState *state = score_state(fcinfo, ref);
	const AnFeatureSpec *spec = &state->cached->model.spec;

	encode_row(fcinfo, state, rec);
	*cached = state->cached;
	if (feature_null)
	{
		*feature_null = palloc(sizeof(bool) * spec->n_features);
		for (int i = 0; i < spec->n_features; i++)
			(*feature_null)[i] = state->nulls[state->attno[i]];
	}
	return state->raw;
}

static double
score_row(FunctionCallInfo fcinfo, ScoreState **out)
{
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(1);
	ScoreState *state = call_state(fcinfo);
	double		score;

	encode_row(fcinfo, state, rec);
	an_model_score_raw(&state->cached->model, state->raw, 1, &score);
	*out = state;
	return score;
}

Datum
anomaly_score_row(PG_FUNCTION_ARGS)
{
	ScoreState *state;

	PG_RETURN_FLOAT8(score_row(fcinfo, &state));
}

Datum
anomaly_is_anomaly_row(PG_FUNCTION_ARGS)
{
	ScoreState *state;
	double		score = score_row(fcinfo, &state);

	PG_RETURN_BOOL(score > state->cached->threshold);
}

/* the score of an encoded feature vector (a float8[] in model order) */
static double
score_array(FunctionCallInfo fcinfo, ScoreState **out)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(1);
	ScoreState *state = score_state(fcinfo, name);
	int			dim = state->cached->model.spec.dim;
	int			n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	const float8 *values;
	double		score;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array")));
	if (array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("features must not contain NULL")));
	if (n != dim)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("model \"%s\" expects %d features, got %d", name, dim, n),
				 errhint("The order is that of the features column of anomaly.models.")));
	values = (const float8 *) ARR_DATA_PTR(arr);
	for (int j = 0; j < dim; j++)
	{
		if (!isfinite(values[j]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("feature %d contains %s", j + 1,
							isnan(values[j]) ? "NaN" : "Infinity")));
		state->raw[j] = values[j];
	}
	an_model_score_raw(&state->cached->model, state->raw, 1, &score);
	*out = state;
	return score;
}

Datum
anomaly_score_array(PG_FUNCTION_ARGS)
{
	ScoreState *state;

	PG_RETURN_FLOAT8(score_array(fcinfo, &state));
}

/*
 * The fraction of the training rows' scores below the row's score, from
 * the 101 quantiles the document stores (explain.c), so that scores of
 * different models, or methods, read on one scale.
 */
Datum
anomaly_percentile_row(PG_FUNCTION_ARGS)
{
	ScoreState *state;
	double		score = score_row(fcinfo, &state);

	PG_RETURN_FLOAT8(an_model_percentile(&state->cached->model, score));
}

Datum
anomaly_percentile_array(PG_FUNCTION_ARGS)
{
	ScoreState *state;
	double		score = score_array(fcinfo, &state);

	PG_RETURN_FLOAT8(an_model_percentile(&state->cached->model, score));
}

/*---- the column form, which the planner substitutes (score_support.c) ----*/

/* the first argument of the column form that is a column */
#define FIRST_COLUMN_ARG 2

/*
 * Map the model's features to the call's columns, by the names in the
 * text[] second argument.  Every feature must be among them, with a
 * compatible type: the plan passed the columns of the model it was made
 * for, and a model since retrained with other features must not score
 * whatever columns happen to sit at the same places.
 */
static void
build_column_map(FunctionCallInfo fcinfo, ScoreState *state)
{
	const AnFeatureSpec *spec = &state->cached->model.spec;
	MemoryContext mcxt = fcinfo->flinfo->fn_mcxt;
	int			n_columns = PG_NARGS() - FIRST_COLUMN_ARG;
	ArrayType  *names;
	Datum	   *elems;
	bool	   *elem_nulls;
	int			n_names;
	TypeMemo	memo = TYPE_MEMO_INIT;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("column names must not be NULL")));
	names = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(names) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("column names must be a one-dimensional array")));
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elem_nulls, &n_names);
	if (n_names != n_columns)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%d column names for %d columns", n_names, n_columns)));

	if (state->attno)
	{
		pfree(state->attno);
		pfree(state->basetype);
	}
	state->attno = MemoryContextAlloc(mcxt, sizeof(int) * spec->n_features);
	state->basetype = MemoryContextAlloc(mcxt, sizeof(Oid) * spec->n_features);
	state->map_generation = 0;

	for (int i = 0; i < spec->n_features; i++)
	{
		const AnFeature *f = &spec->features[i];
		int			found = -1;
		Oid			argtype;

		for (int j = 0; j < n_names && found < 0; j++)
		{
			text	   *t = DatumGetTextPP(elems[j]);

			if (!elem_nulls[j] && VARSIZE_ANY_EXHDR(t) == strlen(f->name) &&
				memcmp(VARDATA_ANY(t), f->name, VARSIZE_ANY_EXHDR(t)) == 0)
				found = j;
		}
		if (found < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of model \"%s\" is not among the columns passed",
							f->name, state->name),
					 errdetail("A query is planned with the columns of the model version deployed then; another version is deployed now."),
					 errhint("Run the query again: it is planned anew for the deployed version.")));
		argtype = get_fn_expr_argtype(fcinfo->flinfo, FIRST_COLUMN_ARG + found);
		if (!OidIsValid(argtype))
			elog(ERROR, "could not determine the type of column \"%s\"", f->name);
		map_feature(state, i, FIRST_COLUMN_ARG + found, argtype, &memo);
	}
	state->map_generation = state->cached->generation;
}

static double
score_columns(FunctionCallInfo fcinfo, ScoreState **out)
{
	ScoreState *state = call_state(fcinfo);
	const AnFeatureSpec *spec = &state->cached->model.spec;
	double		score;

	/* names that are not a constant may differ from call to call */
	/* (a column-form call site never maps a row: its state has no desc) */
	if (state->attno == NULL ||
		state->map_generation != state->cached->generation ||
		!get_fn_expr_arg_stable(fcinfo->flinfo, 1))
		build_column_map(fcinfo, state);

	memset(state->raw, 0, sizeof(double) * spec->dim);
	for (int i = 0; i < spec->n_features; i++)
	{
		int			a = state->attno[i];

		encode_value(&spec->features[i], state->raw, fcinfo->args[a].value,
					 fcinfo->args[a].isnull, state->basetype[i]);
	}
	an_model_score_raw(&state->cached->model, state->raw, 1, &score);
	*out = state;
	return score;
}

Datum
anomaly_score_columns(PG_FUNCTION_ARGS)
{
	ScoreState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(score_columns(fcinfo, &state));
}

Datum
anomaly_is_anomaly_columns(PG_FUNCTION_ARGS)
{
	ScoreState *state;
	double		score;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	score = score_columns(fcinfo, &state);
	PG_RETURN_BOOL(score > state->cached->threshold);
}

Datum
anomaly_percentile_columns(PG_FUNCTION_ARGS)
{
	ScoreState *state;
	double		score;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	score = score_columns(fcinfo, &state);
	PG_RETURN_FLOAT8(an_model_percentile(&state->cached->model, score));
}
