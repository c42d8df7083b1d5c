/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading the model catalog (anomaly.model_versions) through SPI.
 *
 * The lookup of a deployed version runs once per query per model (see
 * cache.c), so its plan is prepared once per backend and kept.  Every
 * name in these queries is schema-qualified: they are safe whatever the
 * caller's search_path.
 *
 * IDENTIFICATION
 *	  src/pg/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "anomaly/pg.h"

static SPIPlanPtr lookup_plan = NULL;

void
anomaly_check_model_name(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("model name must not be empty")));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name \"%s\" is too long", name),
				 errdetail("Model names have at most %d bytes.", NAMEDATALEN - 1)));
}

bool
anomaly_catalog_lookup(const char *name, bool fetch_model, AnomalyCatalogEntry *entry)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	Datum		args[1];
	bool		found = false;

	memset(entry, 0, sizeof(*entry));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "anomaly: SPI_connect failed");

	if (lookup_plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT m.version, m.xmin, m.ctid, m.model "
						   "FROM anomaly.model_versions m "
						   "WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.deployed",
						   1, argtypes);
		if (plan == NULL)
			elog(ERROR, "anomaly: could not prepare the catalog lookup: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		lookup_plan = plan;
	}

	args[0] = CStringGetTextDatum(name);
	if (SPI_execute_plan(lookup_plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "anomaly: catalog lookup failed");

	if (SPI_processed > 0)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		ItemPointer tid;

		found = true;
		entry->version = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		entry->xmin = DatumGetTransactionId(SPI_getbinval(tuple, desc, 2, &isnull));
		tid = (ItemPointer) DatumGetPointer(SPI_getbinval(tuple, desc, 3, &isnull));
		ItemPointerCopy(tid, &entry->tid);
		if (fetch_model)
		{
			Datum		model = SPI_getbinval(tuple, desc, 4, &isnull);
			MemoryContext oldcxt = MemoryContextSwitchTo(caller_cxt);

			/* detoast into the caller's context, which outlives SPI */
			entry->model = isnull ? NULL : DatumGetByteaPCopy(model);
			MemoryContextSwitchTo(oldcxt);
		}
	}
	SPI_finish();
	return found;
}

/*
 * The owner of model name (any version), or InvalidOid if there is none.
 * Called inside SPI.
 */
static Oid
catalog_owner(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	if (SPI_execute_with_args("SELECT m.owner FROM anomaly.model_versions m "
							  "WHERE m.name OPERATOR(pg_catalog.=) $1 "
							  "ORDER BY m.version DESC LIMIT 1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "anomaly: catalog owner lookup failed");
	if (SPI_processed == 0)
		return InvalidOid;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
}

static void
check_owner(const char *name, Oid owner)
{
	if (!has_privs_of_role(GetUserId(), owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of model \"%s\"", name),
				 errdetail("Model \"%s\" is owned by role %s.", name,
						   GetUserNameFromId(owner, true) ? GetUserNameFromId(owner, true) : "(dropped)")));
}

void
anomaly_catalog_check_create(const char *name, bool replace)
{
	Oid			owner;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "anomaly: SPI_connect failed");
	owner = catalog_owner(name);
	SPI_finish();
	if (!OidIsValid(owner))
		return;
	if (!replace)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" already exists", name),
				 errhint("Use replace => true to train a new version, or drop it with anomaly_drop_model().")));
	check_owner(name, owner);
}

Datum
anomaly_catalog_store(const AnomalyNewVersion *v)
{
	Oid			lock_types[1] = {TEXTOID};
	Datum		lock_args[1];
	Oid			ins_types[14] = {TEXTOID, INT4OID, TEXTOID, TEXTARRAYOID, INT8OID,
		FLOAT8OID, FLOAT8OID, FLOAT8OID, REGROLEOID, TEXTOID, TEXTARRAYOID,
	JSONBOID, BYTEAOID, BOOLOID};
	Datum		ins_args[14];
	char		ins_nulls[14];
	Oid			sel_types[2] = {TEXTOID, INT4OID};
	Datum		sel_args[2];
	Oid			owner;
	int32		version = 1;
	bool		isnull;
	Datum		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "anomaly: SPI_connect failed");

	/*
	 * Serialise versioning of one name; training itself ran unlocked.  Not
	 * an advisory lock: any role can take any advisory key and stall
	 * everyone's model creation.  An object lock on (the catalog table, a
	 * hash of the name) is one no SQL statement can take, and only
	 * creators of the same name (or a colliding hash) wait for each other.
	 */
	lock_args[0] = CStringGetTextDatum(v->name);
	LockDatabaseObject(get_relname_relid("model_versions",
										 get_namespace_oid("anomaly", false)),
					   hash_bytes((const unsigned char *) v->name, strlen(v->name)),
					   0, ExclusiveLock);

	owner = catalog_owner(v->name);
	if (OidIsValid(owner))
	{
		if (!v->replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" already exists", v->name),
					 errdetail("Another session created it while this one was training.")));
		check_owner(v->name, owner);
		if (SPI_execute_with_args("SELECT pg_catalog.max(m.version) FROM anomaly.model_versions m "
								  "WHERE m.name OPERATOR(pg_catalog.=) $1",
								  1, lock_types, lock_args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "anomaly: catalog version lookup failed");
		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull)) + 1;
		if (SPI_execute_with_args("UPDATE anomaly.model_versions SET deployed = false "
								  "WHERE name OPERATOR(pg_catalog.=) $1 AND deployed",
								  1, lock_types, lock_args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "anomaly: could not undeploy the previous version");
	}

	memset(ins_nulls, ' ', sizeof(ins_nulls));
	ins_args[0] = lock_args[0];
	ins_args[1] = Int32GetDatum(version);
	ins_args[2] = CStringGetTextDatum(v->method);
	ins_args[3] = PointerGetDatum(v->features);
	ins_args[4] = Int64GetDatum(v->trained_rows);
	ins_args[5] = Float8GetDatum(v->train_seconds);
	ins_args[6] = Float8GetDatum(v->loss);
	ins_nulls[6] = isfinite(v->loss) ? ' ' : 'n';
	ins_args[7] = Float8GetDatum(v->threshold);
	ins_args[8] = ObjectIdGetDatum(GetUserId());
	ins_args[9] = CStringGetTextDatum(v->source);
	ins_args[10] = PointerGetDatum(v->exclude);
	ins_args[11] = PointerGetDatum(v->options);
	ins_args[12] = PointerGetDatum(v->model);
	ins_args[13] = BoolGetDatum(true);
	if (SPI_execute_with_args("INSERT INTO anomaly.model_versions "
							  "(name, version, method, features, trained_rows, train_seconds, "
							  "loss, threshold, owner, source, exclude, options, model, deployed) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
							  14, ins_types, ins_args, ins_nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "anomaly: could not store the model");

	sel_args[0] = lock_args[0];
	sel_args[1] = Int32GetDatum(version);
	if (SPI_execute_with_args("SELECT m FROM anomaly.models m "
							  "WHERE m.name OPERATOR(pg_catalog.=) $1 "
							  "AND m.version OPERATOR(pg_catalog.=) $2",
							  2, sel_types, sel_args, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "anomaly: could not read back the stored model");
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = SPI_datumTransfer(result, false, -1);
	SPI_finish();
	return result;
}
