/*-------------------------------------------------------------------------
 *
 * privileges.c
 *	  anomaly_grant and anomaly_revoke: who besides a model's owner may
 *	  score it ('score') or also read it ('read': its source, features and
 *	  document, export included).
 *
 * Privileges are per model name, in anomaly.model_privileges, and only the
 * name's owner (its roles, superusers) grants and revokes them.  They are
 * checked where a model is looked up (catalog.c), with the validation of the
 * cached model, which every change invalidates (cache.c), so a change is
 * seen by the next statement of every session.  The grantee
 * is a role or PUBLIC (stored as role OID 0, which regrole prints as "-").
 *
 * IDENTIFICATION
 *	  src/pg/privileges.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_grant);
PG_FUNCTION_INFO_V1(anomaly_revoke);

static AnomalyPrivilege
parse_privilege(const char *text)
{
	if (pg_strcasecmp(text, "score") == 0)
		return ANOMALY_PRIV_SCORE;
	if (pg_strcasecmp(text, "read") == 0)
		return ANOMALY_PRIV_READ;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unrecognized model privilege \"%s\"", text),
			 errhint("The privileges are \"score\" and \"read\" (which includes \"score\").")));
	return ANOMALY_PRIV_SCORE;	/* keep the compiler quiet */
}

/* a role name, or "public" (any case, as in GRANT) for every role */
static Oid
parse_grantee(const char *text)
{
	if (pg_strcasecmp(text, "public") == 0)
		return InvalidOid;
	return get_role_oid(text, false);
}

/* the model name of the first argument: a name, not a version */
static char *
model_name_arg(FunctionCallInfo fcinfo)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	AnomalyModelRef ref;

	anomaly_parse_model_ref(name, &ref);
	if (ref.version > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("privileges are granted on a model, not on version %d", ref.version),
				 errhint("Grant them on \"%s\": they hold for all its versions.", ref.name)));
	return name;
}

Datum
anomaly_grant(PG_FUNCTION_ARGS)
{
	char	   *name = model_name_arg(fcinfo);
	Oid			grantee = parse_grantee(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	AnomalyPrivilege priv = parse_privilege(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	Oid			types[4] = {TEXTOID, REGROLEOID, TEXTOID, REGROLEOID};
	Datum		args[4];
	AnomalyCatalogWrite w;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	anomaly_lock_name(name);
	anomaly_require_owner(name);

	args[0] = CStringGetTextDatum(name);
	args[1] = ObjectIdGetDatum(grantee);
	args[2] = CStringGetTextDatum(priv == ANOMALY_PRIV_READ ? "read" : "score");
	args[3] = ObjectIdGetDatum(GetUserId());
	anomaly_catalog_write_begin(&w);
	anomaly_spi_exec("INSERT INTO anomaly.model_privileges (name, grantee, privilege, granted_by) "
					 "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
					 4, types, args, SPI_OK_INSERT);
	anomaly_catalog_write_end(&w);
	SPI_finish();
	PG_RETURN_VOID();
}

/* revoking 'score' revokes 'read' too, which includes it */
Datum
anomaly_revoke(PG_FUNCTION_ARGS)
{
	char	   *name = model_name_arg(fcinfo);
	Oid			grantee = parse_grantee(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	AnomalyPrivilege priv = parse_privilege(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	Oid			types[3] = {TEXTOID, REGROLEOID, BOOLOID};
	Datum		args[3];
	AnomalyCatalogWrite w;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	anomaly_lock_name(name);
	anomaly_require_owner(name);

	args[0] = CStringGetTextDatum(name);
	args[1] = ObjectIdGetDatum(grantee);
	args[2] = BoolGetDatum(priv == ANOMALY_PRIV_SCORE);
	anomaly_catalog_write_begin(&w);
	anomaly_spi_exec("DELETE FROM anomaly.model_privileges p "
					 "WHERE p.name OPERATOR(pg_catalog.=) $1 "
					 "AND p.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) $2::pg_catalog.oid "
					 "AND (p.privilege OPERATOR(pg_catalog.=) 'read' OR $3)",
					 3, types, args, SPI_OK_DELETE);
	anomaly_catalog_write_end(&w);
	SPI_finish();
	PG_RETURN_VOID();
}
