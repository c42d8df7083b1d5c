/*-------------------------------------------------------------------------
 *
 * options.c
 *	  Validation of training options and defaults derived from the data.
 *
 * IDENTIFICATION
 *	  src/core/options.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/options.h"

#define MAX_WIDTH 65536

static const char *
kind_name(AnOptionKind kind)
{
	switch (kind)
	{
		case AN_OPTION_NUMBER:
			return "a number";
		case AN_OPTION_STRING:
			return "a string";
		case AN_OPTION_BOOL:
			return "a boolean";
		case AN_OPTION_ARRAY:
			return "an array";
		case AN_OPTION_NULL:
			return "null";
		case AN_OPTION_OTHER:
			break;
	}
	return "an object";
}

AnStatus
an_option_int(AnContext *ctx, const char *key, const AnOptionValue *v,
			  int64_t min, int64_t max, int64_t *out)
{
	if (v->kind != AN_OPTION_NUMBER || !isfinite(v->number) ||
		v->number != floor(v->number) ||
		v->number < (double) min || v->number > (double) max)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" must be an integer between %lld and %lld",
						key, (long long) min, (long long) max);
	*out = (int64_t) v->number;
	return AN_OK;
}

AnStatus
an_option_real(AnContext *ctx, const char *key, const AnOptionValue *v,
			   double min, double max, bool min_open, double *out)
{
	if (v->kind != AN_OPTION_NUMBER || !isfinite(v->number) ||
		(min_open ? v->number <= min : v->number < min) || v->number > max)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" must be a number in %s%g, %g]",
						key, min_open ? "(" : "[", min, max);
	*out = v->number;
	return AN_OK;
}

AnStatus
an_option_bool(AnContext *ctx, const char *key, const AnOptionValue *v, bool *out)
{
	if (v->kind != AN_OPTION_BOOL)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" must be a boolean, not %s", key, kind_name(v->kind));
	*out = v->boolean;
	return AN_OK;
}

AnStatus
an_option_choice(AnContext *ctx, const char *key, const AnOptionValue *v,
				 const char *const *choices, int *out)
{
	char		list[256] = "";

	for (int i = 0; choices[i]; i++)
	{
		if (v->kind == AN_OPTION_STRING && strcmp(v->string, choices[i]) == 0)
		{
			*out = i;
			return AN_OK;
		}
		if (i > 0)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, choices[i], sizeof(list) - strlen(list) - 1);
	}
	return an_error(ctx, AN_ERR_INVALID, "option \"%s\" must be one of: %s", key, list);
}

AnStatus
an_options_init(AnContext *ctx, AnOptions *opts, const AnMethod *method)
{
	memset(opts, 0, sizeof(*opts));
	opts->activation = AN_ACT_RELU;
	opts->learning_rate = 1e-3;
	opts->weight_decay = -1.0;
	opts->validation_fraction = 0.1;
	opts->early_stopping_patience = 10;
	opts->contamination = 0.01;
	opts->max_rows = 1000000;
	opts->scaler = AN_SCALER_STANDARD;
	opts->max_categories = 20;
	opts->method = method;
	if (method->common_defaults)
		method->common_defaults(opts);
	if (method->options_size > 0)
	{
		opts->method_options = an_alloc0(ctx, method->options_size);
		if (!opts->method_options)
			return an_nomem(ctx);
		if (method->options_init)
			method->options_init(opts->method_options);
	}
	return AN_OK;
}

void
an_options_free(AnContext *ctx, AnOptions *opts)
{
	an_free(ctx, opts->method_options);
	opts->method_options = NULL;
}

static AnStatus
set_hidden(AnContext *ctx, AnOptions *opts, const char *key, const AnOptionValue *v)
{
	if (v->kind == AN_OPTION_NUMBER)
	{
		int64_t		width;

		AN_TRY(an_option_int(ctx, key, v, 1, MAX_WIDTH, &width));
		opts->n_hidden = 1;
		opts->hidden[0] = (int) width;
		opts->hidden_set = true;
		return AN_OK;
	}
	if (v->kind != AN_OPTION_ARRAY || v->n_items < 1 || v->n_items > AN_MAX_HIDDEN)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" must be an array of 1 to %d layer widths",
						key, AN_MAX_HIDDEN);
	/* validate every width before changing anything */
	for (int i = 0; i < v->n_items; i++)
	{
		double		w = v->items[i];

		if (!isfinite(w) || w != floor(w) || w < 1 || w > MAX_WIDTH)
			return an_error(ctx, AN_ERR_INVALID,
							"option \"%s\" must hold integer widths between 1 and %d",
							key, MAX_WIDTH);
	}
	for (int i = 0; i < v->n_items; i++)
		opts->hidden[i] = (int) v->items[i];
	opts->n_hidden = v->n_items;
	opts->hidden_set = true;
	return AN_OK;
}

/* the common options that shape and train a network */
static bool
is_network_option(const char *key)
{
	static const char *const keys[] = {"hidden", "latent", "activation", "epochs",
		"batch_size", "learning_rate", "weight_decay", "validation_fraction",
	"early_stopping_patience", NULL};

	for (int i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

AnStatus
an_options_set(AnContext *ctx, AnOptions *opts, const char *key, const AnOptionValue *v)
{
	int64_t		i;
	int			choice;
	AnStatus	st;

	/*
	 * A method that is not a network (an isolation forest, say) would
	 * silently ignore "epochs": refuse it, so that a user who expected it
	 * to matter learns at once that it does not.
	 */
	if (is_network_option(key) && !an_method_is_gradient(opts->method) &&
		!opts->method->network_options)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" does not apply to method \"%s\", which is not a neural network",
						key, opts->method->name);

	if (strcmp(key, "hidden") == 0)
		return set_hidden(ctx, opts, key, v);
	if (strcmp(key, "latent") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, MAX_WIDTH, &i));
		opts->latent = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "activation") == 0)
	{
		static const char *const acts[] = {"identity", "relu", "leaky_relu",
		"sigmoid", "tanh", NULL};

		AN_TRY(an_option_choice(ctx, key, v, acts, &choice));
		an_activation_parse(acts[choice], &opts->activation);
		opts->activation_set = true;
		return AN_OK;
	}
	if (strcmp(key, "epochs") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, 100000, &i));
		opts->epochs = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "batch_size") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, MAX_WIDTH, &i));
		opts->batch_size = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "learning_rate") == 0)
		return an_option_real(ctx, key, v, 0.0, 10.0, true, &opts->learning_rate);
	if (strcmp(key, "weight_decay") == 0)
		return an_option_real(ctx, key, v, 0.0, 10.0, false, &opts->weight_decay);
	if (strcmp(key, "seed") == 0)
	{
		/* JSON numbers are doubles: integers are exact up to 2^53 */
		AN_TRY(an_option_int(ctx, key, v, 0, INT64_C(9007199254740992), &i));
		opts->seed = (uint64_t) i;
		opts->seed_set = true;
		return AN_OK;
	}
	if (strcmp(key, "validation_fraction") == 0)
		return an_option_real(ctx, key, v, 0.0, 0.5, false, &opts->validation_fraction);
	if (strcmp(key, "early_stopping_patience") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 0, 100000, &i));
		opts->early_stopping_patience = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "contamination") == 0)
	{
		if (v->kind == AN_OPTION_STRING && strcmp(v->string, "auto") == 0)
		{
			opts->contamination_auto = true;
			return AN_OK;
		}
		if (v->kind == AN_OPTION_NUMBER)
		{
			opts->contamination_auto = false;
			return an_option_real(ctx, key, v, 0.0, 0.5, true, &opts->contamination);
		}
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" must be a number in (0, 0.5] or \"auto\"", key);
	}
	if (strcmp(key, "max_rows") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, INT64_C(1) << 40, &opts->max_rows));
		return AN_OK;
	}
	if (strcmp(key, "scaler") == 0)
	{
		static const char *const scalers[] = {"standard", "robust", "none", NULL};

		AN_TRY(an_option_choice(ctx, key, v, scalers, &choice));
		an_scaler_parse(scalers[choice], &opts->scaler);
		return AN_OK;
	}
	if (strcmp(key, "max_categories") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, 1000, &i));
		opts->max_categories = (int) i;
		return AN_OK;
	}

	st = AN_ERR_NOT_FOUND;
	if (opts->method->set_option)
		st = opts->method->set_option(ctx, opts->method_options, key, v);
	if (st == AN_ERR_NOT_FOUND)
		return an_error(ctx, AN_ERR_INVALID, "unrecognized option \"%s\" for method \"%s\"",
						key, opts->method->name);
	return st;
}

static int
pow2_ceil(int x)
{
	int			p = 1;

	while (p < x && p < (1 << 30))
		p <<= 1;
	return p;
}

static int
clamp_int(int64_t x, int lo, int hi)
{
	return x < lo ? lo : (x > hi ? hi : (int) x);
}

/*
 * Defaults from the shape of the data.  The network is d -> h -> latent
 * -> h -> d with h the power of two at or above 2d (16 to 256) and latent
 * half the power of two at or above d (2 to 32): d = 30 gives the
 * 30-64-16-64-30 autoencoder of the reference implementation.  Batches
 * grow with the table (32 to 256 rows), and small tables get more epochs
 * so that every model sees some thousands of optimiser steps; early
 * stopping ends training sooner when the validation loss stalls.  A
 * method may set its own epochs in common_defaults instead.  Last, the
 * method fills its own data-dependent defaults.
 *
 * The rule was checked against alternatives on every shared table (60/40
 * split, 3 seeds; test/bench/sweep.py, figures in docs/benchmarks.md):
 * the fixed d-64-16-64-d of the reference loses 0.02 mean AUROC, mostly on
 * small d where a narrow network detects better; no width, latent, step
 * budget, batch, learning rate or weight decay tried beat it on both the
 * mean and the worst seed.  A method may cap the width for 100 or more
 * inputs (wide_hidden_max, set in its common_defaults: the autoencoder's).
 */
void
an_options_resolve(AnOptions *opts, int dim, size_t n_rows)
{
	size_t		n_train;
	size_t		steps;

	if (opts->n_hidden == 0)
	{
		opts->n_hidden = 1;
		opts->hidden[0] = clamp_int(pow2_ceil(2 * dim), 16, 256);
		if (opts->wide_hidden_max > 0 && dim >= 100 &&
			opts->hidden[0] > opts->wide_hidden_max)
			opts->hidden[0] = opts->wide_hidden_max;
	}
	if (opts->latent == 0)
		opts->latent = clamp_int(pow2_ceil(dim) / 2, 2, 32);
	if (opts->batch_size == 0)
	{
		int			b = 32;

		while (b < 256 && (size_t) b * 2 * 100 <= n_rows)
			b *= 2;
		opts->batch_size = b;
	}
	if (opts->epochs == 0)
	{
		n_train = (size_t) ((double) n_rows * (1.0 - opts->validation_fraction));
		steps = (n_train + opts->batch_size - 1) / opts->batch_size;
		if (steps == 0)
			steps = 1;
		opts->epochs = clamp_int((int64_t) ((4000 + steps - 1) / steps), 5, 200);
	}
	if (opts->method && opts->method->options_resolve && opts->method_options)
		opts->method->options_resolve(opts->method_options, dim, n_rows);
}
