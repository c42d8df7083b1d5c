/*-------------------------------------------------------------------------
 *
 * trigger.c
 *	  anomaly_flag_trigger: score rows as they are inserted or updated.
 *
 *	  CREATE TRIGGER ... BEFORE INSERT OR UPDATE ON t FOR EACH ROW
 *	  EXECUTE FUNCTION anomaly_flag_trigger('model', 'score_column'
 *	                                        [, 'flag_column']);
 *
 * The new row is scored once, straight from the heap tuple (no composite
 * value is built), and the score and the flag (score above the threshold
 * of the version used) are written into it.  The trigger's columns are
 * resolved and the model looked up once per statement: fn_extra of a
 * trigger function lives as long as the statement, so a COPY of a million
 * rows looks the model up once.  A stream of single-row INSERTs, a
 * statement each, finds the model's last validation still believed by the
 * cache (cache.c) and runs no catalog query.
 *
 * The model is named like everywhere else: "m" is the deployed version,
 * "m@3" version 3.  anomaly_drop_model refuses to drop a model that a
 * trigger names (versions.c).
 *
 * IDENTIFICATION
 *	  src/pg/trigger.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_flag_trigger);

/* what one trigger resolves once per statement */
typedef struct FlagTriggerState
{
	Oid			relid;
	Oid			tgoid;
	int			score_attno;	/* 1-based */
	Oid			score_type;
	int			flag_attno;		/* 1-based, 0 if none */
	void	   *site;			/* score.c's per-query state */
} FlagTriggerState;

/* the attribute number of column name of rel, checked against the wanted types */
static int
trigger_column(Relation rel, const Trigger *tg, const char *name, const char *role,
			   const Oid *types, const char *type_names)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attno = SPI_fnumber(desc, name);
	Oid			typid;

	if (attno == SPI_ERROR_NOATTRIBUTE || attno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s column \"%s\" of trigger \"%s\" does not exist in table \"%s\"",
						role, name, tg->tgname, RelationGetRelationName(rel))));
	typid = TupleDescAttr(desc, attno - 1)->atttypid;
	for (int i = 0; OidIsValid(types[i]); i++)
		if (typid == types[i])
			return attno;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("%s column \"%s\" of table \"%s\" has type %s, but must be %s",
					role, name, RelationGetRelationName(rel), format_type_be(typid),
					type_names)));
	return 0;					/* keep the compiler quiet */
}

static FlagTriggerState *
trigger_state(FunctionCallInfo fcinfo, TriggerData *td)
{
	static const Oid score_types[] = {FLOAT8OID, FLOAT4OID, NUMERICOID, InvalidOid};
	static const Oid flag_types[] = {BOOLOID, InvalidOid};
	FlagTriggerState *state = fcinfo->flinfo->fn_extra;
	const Trigger *tg = td->tg_trigger;
	Relation	rel = td->tg_relation;

	if (state != NULL && state->relid == RelationGetRelid(rel) && state->tgoid == tg->tgoid)
		return state;

	if (tg->tgnargs < 2 || tg->tgnargs > 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" gives anomaly_flag_trigger %d arguments, but it takes 2 or 3",
						tg->tgname, tg->tgnargs),
				 errhint("The arguments are the model, the score column and, optionally, the flag column.")));

	state = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FlagTriggerState));
	state->score_attno = trigger_column(rel, tg, tg->tgargs[1], "score", score_types,
										"double precision, real or numeric");
	state->score_type = TupleDescAttr(RelationGetDescr(rel), state->score_attno - 1)->atttypid;
	if (tg->tgnargs == 3)
		state->flag_attno = trigger_column(rel, tg, tg->tgargs[2], "flag", flag_types,
										   "boolean");
	state->relid = RelationGetRelid(rel);
	state->tgoid = tg->tgoid;
	fcinfo->flinfo->fn_extra = state;
	return state;
}

static Datum
score_datum(double score, Oid type)
{
	switch (type)
	{
		case FLOAT4OID:
			return Float4GetDatum((float4) score);
		case NUMERICOID:
			return DirectFunctionCall1(float8_numeric, Float8GetDatum(score));
		default:
			return Float8GetDatum(score);
	}
}

Datum
anomaly_flag_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	FlagTriggerState *state;
	HeapTuple	tuple;
	double		score;
	double		threshold;
	int			attnos[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("anomaly_flag_trigger must be called as a trigger")));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" must be FOR EACH ROW", td->tg_trigger->tgname),
				 errhint("Create it as BEFORE INSERT OR UPDATE ... FOR EACH ROW.")));
	if (!TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" must be fired BEFORE the row is written", td->tg_trigger->tgname),
				 errdetail("An AFTER or INSTEAD OF trigger cannot set the score of the row."),
				 errhint("Create it as BEFORE INSERT OR UPDATE ... FOR EACH ROW.")));
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		tuple = td->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		tuple = td->tg_newtuple;
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" must be fired by INSERT or UPDATE", td->tg_trigger->tgname)));

	state = trigger_state(fcinfo, td);
	score = anomaly_score_heap_tuple(fcinfo->flinfo->fn_mcxt, &state->site,
									 td->tg_trigger->tgargs[0],
									 RelationGetDescr(td->tg_relation), tuple, &threshold);

	attnos[0] = state->score_attno;
	values[0] = score_datum(score, state->score_type);
	attnos[1] = state->flag_attno;
	values[1] = BoolGetDatum(score > threshold);
	tuple = heap_modify_tuple_by_cols(tuple, RelationGetDescr(td->tg_relation),
									  state->flag_attno ? 2 : 1, attnos, values, nulls);
	return PointerGetDatum(tuple);
}
