/*-------------------------------------------------------------------------
 *
 * compat.c
 *	  Entry points of older SQL installs, and the 0.1.0 catalog's owners.
 *
 * One shared library serves every installed SQL version: an extension
 * installed as 0.1.0 and not yet updated calls these symbols, so they keep
 * the 0.1.0 behaviour (as pg_stat_statements versions its entry points).
 * The 0.1.0 catalog has an owner per row and row-level security, and the
 * caller writes it directly; catalog.c writes both layouts, with the owner
 * lookup below for this one.  Scoring needs no such split: its catalog
 * lookup reads columns both layouts have.
 *
 * IDENTIFICATION
 *	  src/pg/compat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_create_model);

/*
 * The owner of model name in the 0.1.0 catalog, which keeps one per row:
 * its latest version's, or InvalidOid if there is none.  Called inside
 * SPI; catalog.c's checks and writes take it for the 0.1.0 layout.
 */
Oid
anomaly_name_owner_0_1(const char *name)
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
