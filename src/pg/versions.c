/*-------------------------------------------------------------------------
 *
 * versions.c
 *	  Managing the versions of a model: anomaly_deploy,
 *	  anomaly_set_threshold and anomaly_drop_model.
 *
 * Each function takes the name's lock (catalog.c), checks that the caller
 * may change the model (a member of the name's owner role, or a
 * superuser), and writes the catalog as its owner; each is one statement
 * for the caller, so a roll back (deploy another version) is atomic.
 * Scoring in every session notices the change at its next query: the
 * catalog row changes, and the cache compares rows (cache.c).
 *
 * IDENTIFICATION
 *	  src/pg/versions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_language.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_deploy);
PG_FUNCTION_INFO_V1(anomaly_set_threshold);
PG_FUNCTION_INFO_V1(anomaly_drop_model);

/* whether version exists, and whether it is the deployed one; inside SPI */
static bool
version_exists(const char *name, int32 version, bool *deployed)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		args[2] = {CStringGetTextDatum(name), Int32GetDatum(version)};
	bool		isnull;

	anomaly_spi_exec("SELECT m.deployed FROM anomaly.model_versions m "
					 "WHERE m.name OPERATOR(pg_catalog.=) $1 "
					 "AND m.version OPERATOR(pg_catalog.=) $2",
					 2, types, args, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	*deployed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	return true;
}

static void
missing_version(const char *name, int32 version) pg_attribute_noreturn();

static void
missing_version(const char *name, int32 version)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("version %d of model \"%s\" does not exist", version, name),
			 errhint("List the versions in anomaly.models.")));
}

/* the deployed version of name; inside SPI */
static int32
deployed_version(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	anomaly_spi_exec("SELECT m.version FROM anomaly.model_versions m "
					 "WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.deployed",
					 1, types, args, SPI_OK_SELECT);
	if (SPI_processed == 0)
		anomaly_no_deployed_version(name);
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

Datum
anomaly_deploy(PG_FUNCTION_ARGS)
{
	char	   *arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int32		version = PG_GETARG_INT32(1);
	AnomalyModelRef ref;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	bool		deployed;
	AnomalyCatalogWrite w;
	Datum		result;

	anomaly_parse_model_ref(arg, &ref);
	if (ref.version > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("anomaly_deploy takes the model name and the version apart"),
				 errhint("Call anomaly.anomaly_deploy('%s', %d).", ref.name, ref.version)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	anomaly_lock_name(ref.name);
	anomaly_require_owner(ref.name);
	if (!version_exists(ref.name, version, &deployed))
		missing_version(ref.name, version);
	if (!deployed)
	{
		args[0] = CStringGetTextDatum(ref.name);
		args[1] = Int32GetDatum(version);
		anomaly_catalog_write_begin(&w);
		anomaly_spi_exec("UPDATE anomaly.model_versions SET deployed = false "
						 "WHERE name OPERATOR(pg_catalog.=) $1 AND deployed",
						 1, types, args, SPI_OK_UPDATE);
		anomaly_spi_exec("UPDATE anomaly.model_versions SET deployed = true "
						 "WHERE name OPERATOR(pg_catalog.=) $1 "
						 "AND version OPERATOR(pg_catalog.=) $2",
						 2, types, args, SPI_OK_UPDATE);
		anomaly_catalog_write_end(&w);
	}
	result = anomaly_catalog_models_row(ref.name, version);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

Datum
anomaly_set_threshold(PG_FUNCTION_ARGS)
{
	char	   *arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
	float8		threshold = PG_GETARG_FLOAT8(1);
	AnomalyModelRef ref;
	Oid			types[3] = {TEXTOID, INT4OID, FLOAT8OID};
	Datum		args[3];
	int32		version;
	bool		deployed;
	AnomalyCatalogWrite w;
	Datum		result;

	if (!isfinite(threshold))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be a finite number")));
	anomaly_parse_model_ref(arg, &ref);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	anomaly_lock_name(ref.name);
	anomaly_require_owner(ref.name);
	version = ref.version;
	if (version == 0)
		version = deployed_version(ref.name);
	else if (!version_exists(ref.name, version, &deployed))
		missing_version(ref.name, version);

	args[0] = CStringGetTextDatum(ref.name);
	args[1] = Int32GetDatum(version);
	args[2] = Float8GetDatum(threshold);
	anomaly_catalog_write_begin(&w);
	anomaly_spi_exec("UPDATE anomaly.model_versions SET threshold = $3 "
					 "WHERE name OPERATOR(pg_catalog.=) $1 "
					 "AND version OPERATOR(pg_catalog.=) $2",
					 3, types, args, SPI_OK_UPDATE);
	anomaly_catalog_write_end(&w);
	result = anomaly_catalog_models_row(ref.name, version);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/*
 * The triggers of this database that score with ref's model: every
 * anomaly_flag_trigger naming the model when a whole model goes, those
 * naming that very version ("m@3") when one version goes.  Inside SPI;
 * returns a description for the message and the count.
 */
static int
triggers_using(const AnomalyModelRef *ref, StringInfo list)
{
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(ClanguageId)};
	int			n = 0;

	/* the trigger function is found by its C symbol, wherever it was installed */
	anomaly_spi_exec("SELECT t.tgname::pg_catalog.text, t.tgrelid::pg_catalog.regclass::pg_catalog.text, "
					 "t.tgargs FROM pg_catalog.pg_trigger t "
					 "JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) t.tgfoid "
					 "WHERE p.prolang OPERATOR(pg_catalog.=) $1 "
					 "AND p.prosrc OPERATOR(pg_catalog.=) 'anomaly_flag_trigger' "
					 "AND t.tgnargs OPERATOR(pg_catalog.>=) 1 "
					 "ORDER BY 2, 1",
					 1, types, args, SPI_OK_SELECT);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bytea	   *tgargs = DatumGetByteaPP(SPI_getbinval(tuple, desc, 3, &isnull));
		char	   *first = pnstrdup(VARDATA_ANY(tgargs), VARSIZE_ANY_EXHDR(tgargs));
		AnomalyModelRef used;

		/*
		 * tgargs holds NUL-terminated arguments: pnstrdup stops at the
		 * first.  A malformed one names no model (that trigger fails anyway).
		 */
		if (!anomaly_split_model_ref(first, &used) ||
			strcmp(used.name, ref->name) != 0 ||
			(ref->version > 0 && used.version != ref->version))
			continue;
		if (n++ < 5)
			appendStringInfo(list, "%strigger \"%s\" on table %s", n > 1 ? ", " : "",
							 SPI_getvalue(tuple, desc, 1), SPI_getvalue(tuple, desc, 2));
	}
	if (n > 5)
		appendStringInfo(list, " and %d more", n - 5);
	return n;
}

Datum
anomaly_drop_model(PG_FUNCTION_ARGS)
{
	char	   *arg;
	bool		if_exists = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	bool		force = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	AnomalyModelRef ref;
	Oid			owner;
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	StringInfoData users;
	int			n_users;
	AnomalyCatalogWrite w;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("model must not be NULL")));
	arg = text_to_cstring(PG_GETARG_TEXT_PP(0));
	anomaly_parse_model_ref(arg, &ref);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	anomaly_lock_name(ref.name);
	owner = anomaly_name_owner(ref.name);
	/* first: another role learns nothing of the versions (it may not read them) */
	if (OidIsValid(owner))
		anomaly_check_owner(ref.name, owner);
	if (OidIsValid(owner) && ref.version > 0)
	{
		bool		deployed;

		if (!version_exists(ref.name, ref.version, &deployed))
			owner = InvalidOid;
		else if (deployed)
		{
			anomaly_check_owner(ref.name, owner);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot drop version %d of model \"%s\" because it is deployed",
							ref.version, ref.name),
					 errhint("Deploy another version with anomaly.anomaly_deploy() first, or drop the whole model.")));
		}
	}
	if (!OidIsValid(owner))
	{
		SPI_finish();
		if (if_exists)
		{
			ereport(NOTICE,
					(errmsg("model \"%s\" does not exist, skipping", arg)));
			PG_RETURN_VOID();
		}
		if (ref.version > 0)
			missing_version(ref.name, ref.version);
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", ref.name),
				 errhint("List models in anomaly.models.")));
	}
	anomaly_check_owner(ref.name, owner);

	initStringInfo(&users);
	n_users = triggers_using(&ref, &users);
	if (n_users > 0 && !force)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop model \"%s\" because other objects depend on it", arg),
				 errdetail("Used by %s.", users.data),
				 errhint("Drop the trigger first, or call anomaly.anomaly_drop_model('%s', force => true): "
						 "the trigger then fails on every row until a model of that name exists again.",
						 arg)));
	if (n_users > 0)
		ereport(WARNING,
				(errmsg("dropping model \"%s\", which other objects depend on", arg),
				 errdetail("Used by %s, which will fail on every row until a model of that name exists again.",
						   users.data)));

	args[0] = CStringGetTextDatum(ref.name);
	args[1] = Int32GetDatum(ref.version);
	anomaly_catalog_write_begin(&w);
	if (ref.version > 0)
		anomaly_spi_exec("DELETE FROM anomaly.model_versions "
						 "WHERE name OPERATOR(pg_catalog.=) $1 "
						 "AND version OPERATOR(pg_catalog.=) $2",
						 2, types, args, SPI_OK_DELETE);
	else
	{
		anomaly_spi_exec("DELETE FROM anomaly.model_versions "
						 "WHERE name OPERATOR(pg_catalog.=) $1",
						 1, types, args, SPI_OK_DELETE);
		anomaly_spi_exec("DELETE FROM anomaly.model_names "
						 "WHERE name OPERATOR(pg_catalog.=) $1",
						 1, types, args, SPI_OK_DELETE);
		/* a model created again later under this name starts private */
		if (anomaly_catalog_has_privileges())
			anomaly_spi_exec("DELETE FROM anomaly.model_privileges "
							 "WHERE name OPERATOR(pg_catalog.=) $1",
							 1, types, args, SPI_OK_DELETE);
	}
	anomaly_catalog_write_end(&w);
	SPI_finish();
	PG_RETURN_VOID();
}
