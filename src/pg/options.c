/*-------------------------------------------------------------------------
 *
 * options.c
 *	  The options jsonb of anomaly_create_model, handed key by key to the
 *	  core's validation.
 *
 * IDENTIFICATION
 *	  src/pg/options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "anomaly/pg.h"

static double
jsonb_number(JsonbValue *v)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											  NumericGetDatum(v->val.numeric)));
}

/* a jsonb value as the core's option value; arrays must hold numbers */
static void
to_option_value(JsonbValue *v, AnOptionValue *out)
{
	memset(out, 0, sizeof(*out));
	switch (v->type)
	{
		case jbvNumeric:
			out->kind = AN_OPTION_NUMBER;
			out->number = jsonb_number(v);
			break;
		case jbvString:
			out->kind = AN_OPTION_STRING;
			out->string = pnstrdup(v->val.string.val, v->val.string.len);
			break;
		case jbvBool:
			out->kind = AN_OPTION_BOOL;
			out->boolean = v->val.boolean;
			break;
		case jbvNull:
			out->kind = AN_OPTION_NULL;
			break;
		case jbvBinary:
			{
				JsonbContainer *c = v->val.binary.data;
				JsonbIterator *it;
				JsonbValue	elem;
				JsonbIteratorToken tok;
				double	   *items;
				int			n = 0;

				out->kind = AN_OPTION_OTHER;
				if (!JsonContainerIsArray(c))
					break;
				items = palloc(sizeof(double) * (JsonContainerSize(c) + 1));
				it = JsonbIteratorInit(c);
				while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
				{
					if (tok != WJB_ELEM)
						continue;
					if (elem.type != jbvNumeric)
						return;	/* AN_OPTION_OTHER */
					items[n++] = jsonb_number(&elem);
				}
				out->kind = AN_OPTION_ARRAY;
				out->items = items;
				out->n_items = n;
				break;
			}
		default:
			out->kind = AN_OPTION_OTHER;
			break;
	}
}

void
anomaly_parse_options(AnContext *ctx, AnOptions *opts, Jsonb *options)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (options == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a JSON object"),
				 errhint("For example: '{\"epochs\": 20, \"seed\": 42}'.")));

	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			AnOptionValue value;
			AnStatus	st;

			to_option_value(&v, &value);
			st = an_options_set(ctx, opts, key, &value);
			if (st != AN_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s", ctx->errmsg)));
		}
	}
}
