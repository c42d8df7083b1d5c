/*-------------------------------------------------------------------------
 *
 * compat.c
 *	  Entry points of older SQL installs, and the 0.1.0 catalog writes.
 *
 * One shared library serves every installed SQL version: an extension
 * installed as 0.1.0 and not yet updated calls these symbols, so they keep
 * the 0.1.0 behaviour (as pg_stat_statements versions its entry points).
 * The 0.1.0 catalog has an owner per row and row-level security, and the
 * caller writes it directly.  Scoring needs no such split: its catalog
 * lookup reads columns both layouts have.
 *
 * IDENTIFICATION
 *	  src/pg/compat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_create_model);

/*
 * The owner of model name (any version), or InvalidOid if there is none.
 * Called inside SPI.
 */
static Oid
catalog_owner_0_1(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	anomaly_spi_exec("SELECT m.owner FROM anomaly.model_versions m "
					 "WHERE m.name OPERATOR(pg_catalog.=) $1 "
					 "ORDER BY m.version DESC LIMIT 1",
					 1, argtypes, args, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return InvalidOid;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
}

void
anomaly_catalog_check_create_0_1(const char *name, bool replace)
{
	Oid			owner;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	owner = catalog_owner_0_1(name);
	SPI_finish();
	if (!OidIsValid(owner))
		return;
	if (!replace)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" already exists", name),
				 errhint("Use replace => true to train a new version, or drop it with anomaly_drop_model().")));
	anomaly_check_owner(name, owner);
}

Datum
anomaly_catalog_store_0_1(const AnomalyNewVersion *v, int32 *version_out)
{
	Oid			name_types[1] = {TEXTOID};
	Datum		name_args[1];
	Oid			ins_types[14] = {TEXTOID, INT4OID, TEXTOID, TEXTARRAYOID, INT8OID,
		FLOAT8OID, FLOAT8OID, FLOAT8OID, REGROLEOID, TEXTOID, TEXTARRAYOID,
	JSONBOID, BYTEAOID, BOOLOID};
	Datum		ins_args[14];
	char		ins_nulls[14];
	Oid			owner;
	int32		version = 1;
	bool		isnull;
	Datum		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	anomaly_lock_name(v->name);
	name_args[0] = CStringGetTextDatum(v->name);
	owner = catalog_owner_0_1(v->name);
	if (OidIsValid(owner))
	{
		if (!v->replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" already exists", v->name),
					 errdetail("Another session created it while this one was training.")));
		anomaly_check_owner(v->name, owner);
		anomaly_spi_exec("SELECT pg_catalog.max(m.version) FROM anomaly.model_versions m "
						 "WHERE m.name OPERATOR(pg_catalog.=) $1",
						 1, name_types, name_args, SPI_OK_SELECT);
		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											  SPI_tuptable->tupdesc, 1, &isnull)) + 1;
		anomaly_spi_exec("UPDATE anomaly.model_versions SET deployed = false "
						 "WHERE name OPERATOR(pg_catalog.=) $1 AND deployed",
						 1, name_types, name_args, SPI_OK_UPDATE);
	}

	memset(ins_nulls, ' ', sizeof(ins_nulls));
	ins_args[0] = name_args[0];
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
		elog(ERROR, "could not store the model");

	result = anomaly_catalog_models_row(v->name, version);
	SPI_finish();
	*version_out = version;
	return result;
}

/* anomaly_create_model of the 0.1.0 install script */
Datum
anomaly_create_model(PG_FUNCTION_ARGS)
{
	AnomalyTrainRequest req;

	memset(&req, 0, sizeof(req));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL",
						PG_ARGISNULL(0) ? "name" : PG_ARGISNULL(1) ? "source" : "method")));
	req.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	req.source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	req.method = text_to_cstring(PG_GETARG_TEXT_PP(2));
	req.exclude = PG_ARGISNULL(3) ? construct_empty_array(TEXTOID) : PG_GETARG_ARRAYTYPE_P(3);
	req.options = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	req.replace = PG_ARGISNULL(5) ? false : PG_GETARG_BOOL(5);
	req.api = ANOMALY_CATALOG_0_1;
	PG_RETURN_DATUM(anomaly_train(&req));
}
