/*-------------------------------------------------------------------------
 *
 * score_support.c
 *	  The planner support function of the scoring functions: a call on a
 *	  table's whole row becomes a call on just the model's columns.
 *
 * anomaly.anomaly_score('m', t) passes the row as a composite datum: the
 * executor forms it from the scanned tuple and score.c deforms it again,
 * which costs more than the model's arithmetic.  When the model name is a
 * constant and the row is the whole-row variable of a table, this support
 * function (SupportRequestSimplify) replaces the call at plan time by
 *
 *	  anomaly.anomaly_score_columns('m', '{f0,f1,...}', t.f0, t.f1, ...)
 *
 * with the model's feature columns, looked up by name in the table, and
 * their names, which the column form maps to the features by name again
 * when it runs (score.c): the plan may outlive the model version it was
 * made for (a prepared statement, a cached plan of a function), and a new
 * version with other features or another order must not score the wrong
 * columns.  Every catalog write invalidates the relcache entry of the
 * catalog (anomaly_catalog_write_end calls anomaly_score_plans_invalidate),
 * and a rewritten plan depends on the catalog, so such a plan is made again
 * at its next execution.
 *
 * The call is left alone, and behaves as before, whenever the rewrite
 * could change what it does: a model that does not exist, or that the
 * user may not score, at plan time (the error stays at run time, where it
 * was); a column missing or of another kind (the record form names it); a
 * row that is not a plain table's, or a query with an outer join, where a
 * whole row is NULL (and the strict record form returns NULL) but its
 * columns would score as a row of NULLs.
 *
 * IDENTIFICATION
 *	  src/pg/score_support.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_score_support);

/* the column form of each record form the support function is attached to */
static const struct
{
	const char *record_form;
	const char *column_form;
} column_forms[] = {
	{"anomaly_score", "anomaly_score_columns"},
	{"anomaly_is_anomaly", "anomaly_is_anomaly_columns"},
	{"anomaly_percentile", "anomaly_percentile_columns"},
};

/*
 * anomaly.model_versions: a rewritten plan depends on it, as if it read
 * it, so that the relcache invalidation of a catalog write re-plans it.
 */
static Oid
catalog_relid(void)
{
	Oid			relid = get_relname_relid("model_versions",
										  get_namespace_oid("anomaly", false));

	if (!OidIsValid(relid))
		elog(ERROR, "table anomaly.model_versions is missing");
	return relid;
}

void
anomaly_score_plans_invalidate(void)
{
	CacheInvalidateRelcacheByRelid(catalog_relid());
}

/* can a whole row of this query be NULL-extended by an outer join? */
static bool
has_outer_join(Query *parse)
{
	ListCell   *lc;

	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind == RTE_JOIN && rte->jointype != JOIN_INNER)
			return true;
	}
	return false;
}

/* the column form of the record form funcid, in its schema; InvalidOid if none */
static Oid
column_form_of(Oid funcid)
{
	char	   *name = get_func_name(funcid);
	Oid			nsp = get_func_namespace(funcid);
	Oid			argtypes[3] = {TEXTOID, TEXTARRAYOID, ANYOID};

	if (name == NULL)
		return InvalidOid;
	for (int i = 0; i < lengthof(column_forms); i++)
		if (strcmp(name, column_forms[i].record_form) == 0)
			return LookupFuncName(list_make2(makeString(get_namespace_name(nsp)),
											 makeString(pstrdup(column_forms[i].column_form))),
								  3, argtypes, true);
	return InvalidOid;
}

/*
 * The rewritten call, or NULL to keep fcall.  Checks the cheap conditions
 * first: planning any query with a scoring call runs this.
 */
static Node *
rewrite_whole_row(PlannerInfo *root, FuncExpr *fcall)
{
	Const	   *model;
	Var		   *row;
	RangeTblEntry *rte;
	AnomalyCachedModel *cached;
	const AnFeatureSpec *spec;
	char	   *name;
	Oid			column_form;
	Datum	   *names;
	List	   *args;
	FuncExpr   *result;

	if (root == NULL || root->parse == NULL || root->glob == NULL ||
		list_length(fcall->args) != 2)
		return NULL;
	model = linitial(fcall->args);
	row = lsecond(fcall->args);
	if (!IsA(model, Const) || model->constisnull || model->consttype != TEXTOID ||
		!IsA(row, Var) || row->varattno != InvalidAttrNumber || row->varlevelsup != 0 ||
		row->varno < 1 || row->varno > list_length(root->parse->rtable))
		return NULL;
	rte = rt_fetch(row->varno, root->parse->rtable);
	if (rte->rtekind != RTE_RELATION || has_outer_join(root->parse))
		return NULL;
	column_form = column_form_of(fcall->funcid);
	if (!OidIsValid(column_form))
		return NULL;

	/* the model as the call would find it now; any doubt keeps the call */
	name = TextDatumGetCString(model->constvalue);
	cached = anomaly_cache_try_get(name, ANOMALY_PRIV_SCORE);
	if (cached == NULL)
		return NULL;
	spec = &cached->model.spec;
	/* the column form takes the model, the names and a value per feature */
	if (spec->n_features + 2 > FUNC_MAX_ARGS)
		return NULL;

	names = palloc(sizeof(Datum) * Max(spec->n_features, 1));
	args = list_make2(model, NULL);
	for (int i = 0; i < spec->n_features; i++)
	{
		const AnFeature *f = &spec->features[i];
		AttrNumber	attnum = get_attnum(rte->relid, f->name);
		Oid			typid;
		int32		typmod;
		Oid			collid;

		if (attnum <= 0)
			return NULL;		/* missing (or a system column): the record form says so */
		get_atttypetypmodcoll(rte->relid, attnum, &typid, &typmod, &collid);
		if (!anomaly_feature_accepts(f->kind, anomaly_type_class(typid)))
			return NULL;		/* so does a type it cannot score */
		names[i] = CStringGetTextDatum(f->name);
		args = lappend(args, makeVar(row->varno, attnum, typid, typmod, collid, 0));
	}
	lsecond(args) = makeConst(TEXTARRAYOID, -1, InvalidOid, -1,
							  PointerGetDatum(construct_array(names, spec->n_features,
															  TEXTOID, -1, false,
															  TYPALIGN_INT)),
							  false, false);

	/* made again after a catalog write, which may change the features */
	root->glob->relationOids = lappend_oid(root->glob->relationOids,
										   catalog_relid());

	result = makeFuncExpr(column_form, fcall->funcresulttype, args,
						  fcall->funccollid, fcall->inputcollid, fcall->funcformat);
	result->location = fcall->location;
	return (Node *) result;
}

Datum
anomaly_score_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestSimplify))
	{
		SupportRequestSimplify *req = (SupportRequestSimplify *) rawreq;

		PG_RETURN_POINTER(rewrite_whole_row(req->root, req->fcall));
	}
	PG_RETURN_POINTER(NULL);
}
