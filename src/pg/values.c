/*-------------------------------------------------------------------------
 *
 * values.c
 *	  Which column types can be features, and their values as numbers or
 *	  category labels.
 *
 * Numeric types (through their base type for domains) become doubles,
 * boolean becomes 0/1, text-like types and enums become categories, keyed
 * by their text output.  The same functions serve training and scoring,
 * so both see a value the same way.
 *
 * IDENTIFICATION
 *	  src/pg/values.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "anomaly/pg.h"

AnomalyTypeClass
anomaly_type_class(Oid typid)
{
	Oid			base = getBaseType(typid);

	switch (base)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			return ANOMALY_TYPE_NUMERIC;
		case BOOLOID:
			return ANOMALY_TYPE_BOOLEAN;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
			return ANOMALY_TYPE_TEXT;
		default:
			return type_is_enum(base) ? ANOMALY_TYPE_TEXT : ANOMALY_TYPE_UNSUPPORTED;
	}
}

/* value of a numeric or boolean column; NaN/Infinity pass through */
double
anomaly_datum_to_double(Datum value, Oid typid)
{
	return anomaly_base_datum_to_double(value, getBaseType(typid));
}

/* the same, for a type already resolved to its base type (no catalog lookup) */
double
anomaly_base_datum_to_double(Datum value, Oid basetype)
{
	switch (basetype)
	{
		case INT2OID:
			return (double) DatumGetInt16(value);
		case INT4OID:
			return (double) DatumGetInt32(value);
		case INT8OID:
			return (double) DatumGetInt64(value);
		case FLOAT4OID:
			return (double) DatumGetFloat4(value);
		case FLOAT8OID:
			return DatumGetFloat8(value);
		case NUMERICOID:
			/* NaN and +-Infinity come back as such; so do numbers beyond float8 */
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
													  value));
		case BOOLOID:
			return DatumGetBool(value) ? 1.0 : 0.0;
	}
	elog(ERROR, "anomaly: type %u is not numeric", basetype);
	return 0.0;					/* keep compiler quiet */
}

double
anomaly_checked_double(Datum value, Oid basetype, const char *column)
{
	double		x = anomaly_base_datum_to_double(value, basetype);

	if (!isfinite(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("column \"%s\" contains %s", column,
						isnan(x) ? "NaN" : "Infinity"),
				 errdetail("Feature values must be finite numbers."),
				 errhint("Filter or replace the value in a source query, or exclude the column.")));
	return x;
}

char *
anomaly_datum_to_category(Datum value, Oid base)
{
	Oid			outfunc;
	bool		varlena;

	if (base == TEXTOID || base == VARCHAROID)
		return text_to_cstring(DatumGetTextPP(value));
	getTypeOutputInfo(base, &outfunc, &varlena);
	return OidOutputFunctionCall(outfunc, value);
}
