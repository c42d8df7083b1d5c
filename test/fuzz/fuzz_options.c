/*-------------------------------------------------------------------------
 *
 * fuzz_options.c
 *	  libFuzzer target: option parsing (an_options_set) and resolution, for
 *	  every registered method.
 *
 * Input: one byte choosing the method (an_method_at, modulo their count),
 * one byte for the input width and row count given to an_options_resolve,
 * then lines "kind key=value": kind n (number), s (string), b (boolean),
 * a (array of comma-separated numbers), z (null), o (other).  Every line
 * is passed to an_options_set, which must accept it or refuse it with a
 * message; then the options are resolved and freed.  The hosts pass
 * whatever a role writes in the options jsonb, so nothing here may crash,
 * leak or hit undefined behaviour.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_options.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/options.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 32

static void
set_line(AnContext *ctx, AnOptions *opts, char *line)
{
	char		kind = line[0];
	char	   *key = line + 1;
	char	   *eq;
	AnOptionValue v;
	double		items[MAX_ITEMS];

	if (kind == '\0')
		return;
	while (*key == ' ')
		key++;
	eq = strchr(key, '=');
	if (!eq)
		return;
	*eq = '\0';
	memset(&v, 0, sizeof(v));
	switch (kind)
	{
		case 'n':
			v.kind = AN_OPTION_NUMBER;
			v.number = strtod(eq + 1, NULL);
			break;
		case 's':
			v.kind = AN_OPTION_STRING;
			v.string = eq + 1;
			break;
		case 'b':
			v.kind = AN_OPTION_BOOL;
			v.boolean = eq[1] == 't';
			break;
		case 'a':
			{
				char	   *p = eq + 1;

				v.kind = AN_OPTION_ARRAY;
				while (*p && v.n_items < MAX_ITEMS)
				{
					char	   *end;

					items[v.n_items++] = strtod(p, &end);
					p = *end == ',' ? end + 1 : end + (*end != '\0');
				}
				v.items = items;
				break;
			}
		case 'z':
			v.kind = AN_OPTION_NULL;
			break;
		default:
			v.kind = AN_OPTION_OTHER;
			break;
	}
	/* refusals are expected; their message must be a terminated string */
	if (an_options_set(ctx, opts, key, &v) != AN_OK && strlen(ctx->errmsg) == 0)
	{
		fprintf(stderr, "fuzz_options: refused \"%s\" without a message\n", key);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	AnContext	ctx;
	AnOptions	opts;
	const AnMethod *method;
	int			n_methods = 0;
	char	   *text;
	char	   *line;
	char	   *save;

	if (size < 2)
		return 0;
	while (an_method_at(n_methods))
		n_methods++;
	method = an_method_at(data[0] % n_methods);

	an_context_init_malloc(&ctx);
	if (an_options_init(&ctx, &opts, method) != AN_OK)
		return 0;
	text = malloc(size - 1);
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		set_line(&ctx, &opts, line);
	an_options_resolve(&opts, 1 + data[1] % 64, (size_t) 1 + data[1] * 97u);
	an_options_free(&ctx, &opts);
	free(text);
	return 0;
}
