/*-------------------------------------------------------------------------
 *
 * test_options.c
 *	  Unit tests of option validation, the defaults derived from the
 *	  data's shape, and the method registry.
 *
 * IDENTIFICATION
 *	  test/unit/test_options.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "anomaly/method.h"
#include "anomaly/options.h"
#include "unit.h"

static AnOptionValue
array(const double *items, int n)
{
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = items, .n_items = n};

	return v;
}

static AnOptionValue
null_value(void)
{
	AnOptionValue v = {.kind = AN_OPTION_NULL};

	return v;
}

static void
init_opts(AnContext *ctx, AnOptions *opts)
{
	const AnMethod *ae = an_method_lookup("autoencoder");

	unit_context_malloc(ctx);
	if (!ae || an_options_init(ctx, opts, ae) != AN_OK)
		unit_fail(__FILE__, __LINE__, "an_options_init failed");
}

UNIT_TEST(options_defaults)
{
	AnContext	ctx;
	AnOptions	opts;

	init_opts(&ctx, &opts);
	CHECK(opts.method == an_method_lookup("autoencoder"));
	CHECK(opts.n_hidden == 0 && opts.latent == 0);
	CHECK(opts.epochs == 0 && opts.batch_size == 0);
	/* the autoencoder's own default (method_autoencoder.c); the others keep ReLU */
	CHECK(opts.activation == AN_ACT_LEAKY_RELU);
	CHECK(opts.learning_rate == 1e-3);
	CHECK(opts.weight_decay < 0);
	CHECK(!opts.seed_set);
	CHECK(opts.validation_fraction == 0.1);
	CHECK(opts.early_stopping_patience == 10);
	CHECK(opts.contamination == 0.01);
	CHECK(opts.scaler == AN_SCALER_STANDARD);
	CHECK(opts.max_categories == 20);
	CHECK(opts.max_rows == 1000000);
	/* the autoencoder's own option, "networks" (test_autoencoder_ensemble.c) */
	CHECK(opts.method_options != NULL);
	an_options_free(&ctx, &opts);
	/* the other networks keep ReLU */
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("vae")) == AN_OK);
	CHECK(opts.activation == AN_ACT_RELU);
	an_options_free(&ctx, &opts);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("deep_svdd")) == AN_OK);
	CHECK(opts.activation == AN_ACT_RELU);
	an_options_free(&ctx, &opts);
}

UNIT_TEST(options_accept_good_values)
{
	AnContext	ctx;
	AnOptions	opts;
	static const double two[2] = {64, 32};

	init_opts(&ctx, &opts);
	CHECK_ACCEPTED(&ctx, &opts, "hidden", unit_num(32));
	CHECK(opts.n_hidden == 1 && opts.hidden[0] == 32);
	CHECK_ACCEPTED(&ctx, &opts, "hidden", array(two, 2));
	CHECK(opts.n_hidden == 2 && opts.hidden[0] == 64 && opts.hidden[1] == 32);
	CHECK_ACCEPTED(&ctx, &opts, "latent", unit_num(8));
	CHECK(opts.latent == 8);
	CHECK_ACCEPTED(&ctx, &opts, "activation", unit_str("tanh"));
	CHECK(opts.activation == AN_ACT_TANH);
	CHECK_ACCEPTED(&ctx, &opts, "activation", unit_str("leaky_relu"));
	CHECK(opts.activation == AN_ACT_LEAKY_RELU);
	CHECK_ACCEPTED(&ctx, &opts, "epochs", unit_num(10));
	CHECK(opts.epochs == 10);
	CHECK_ACCEPTED(&ctx, &opts, "batch_size", unit_num(128));
	CHECK(opts.batch_size == 128);
	CHECK_ACCEPTED(&ctx, &opts, "learning_rate", unit_num(0.01));
	CHECK(opts.learning_rate == 0.01);
	CHECK_ACCEPTED(&ctx, &opts, "weight_decay", unit_num(0));
	CHECK(opts.weight_decay == 0);
	CHECK_ACCEPTED(&ctx, &opts, "seed", unit_num(42));
	CHECK(opts.seed == 42 && opts.seed_set);
	CHECK_ACCEPTED(&ctx, &opts, "seed", unit_num(9007199254740992.0));
	CHECK(opts.seed == UINT64_C(9007199254740992));
	CHECK_ACCEPTED(&ctx, &opts, "validation_fraction", unit_num(0));
	CHECK(opts.validation_fraction == 0);
	CHECK_ACCEPTED(&ctx, &opts, "validation_fraction", unit_num(0.5));
	CHECK(opts.validation_fraction == 0.5);
	CHECK_ACCEPTED(&ctx, &opts, "early_stopping_patience", unit_num(0));
	CHECK(opts.early_stopping_patience == 0);
	CHECK_ACCEPTED(&ctx, &opts, "contamination", unit_num(0.05));
	CHECK(opts.contamination == 0.05);
	CHECK_ACCEPTED(&ctx, &opts, "contamination", unit_num(0.5));
	CHECK(opts.contamination == 0.5);
	CHECK_ACCEPTED(&ctx, &opts, "max_rows", unit_num(1000));
	CHECK(opts.max_rows == 1000);
	CHECK_ACCEPTED(&ctx, &opts, "scaler", unit_str("robust"));
	CHECK(opts.scaler == AN_SCALER_ROBUST);
	CHECK_ACCEPTED(&ctx, &opts, "scaler", unit_str("none"));
	CHECK(opts.scaler == AN_SCALER_NONE);
	CHECK_ACCEPTED(&ctx, &opts, "max_categories", unit_num(5));
	CHECK(opts.max_categories == 5);
}

UNIT_TEST(options_reject_bad_values)
{
	AnContext	ctx;
	AnOptions	opts;
	static const double empty[1] = {0};
	static const double zero_width[2] = {16, 0};
	static const double fractional[1] = {1.5};
	static const double nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

	init_opts(&ctx, &opts);
	CHECK_REJECTED(&ctx, &opts, "hidden", array(empty, 0));
	CHECK_REJECTED(&ctx, &opts, "hidden", array(zero_width, 2));
	CHECK_REJECTED(&ctx, &opts, "hidden", array(fractional, 1));
	CHECK_REJECTED(&ctx, &opts, "hidden", array(nine, 9));
	CHECK_REJECTED(&ctx, &opts, "hidden", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "hidden", unit_num(65537));
	CHECK_REJECTED(&ctx, &opts, "hidden", unit_str("64"));
	CHECK(opts.n_hidden == 0);

	CHECK_REJECTED(&ctx, &opts, "latent", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "latent", unit_num(2.5));
	CHECK_REJECTED(&ctx, &opts, "latent", unit_str("8"));
	CHECK_REJECTED(&ctx, &opts, "latent", null_value());
	CHECK_REJECTED(&ctx, &opts, "activation", unit_str("softmax"));
	CHECK_REJECTED(&ctx, &opts, "activation", unit_num(1));
	CHECK_CONTAINS(ctx.errmsg, "relu");		/* the message lists the choices */
	CHECK_REJECTED(&ctx, &opts, "epochs", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "epochs", unit_num(100001));
	CHECK_REJECTED(&ctx, &opts, "epochs", unit_num(NAN));
	CHECK_REJECTED(&ctx, &opts, "epochs", unit_num(INFINITY));
	CHECK_REJECTED(&ctx, &opts, "batch_size", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "batch_size", unit_bool(true));
	CHECK_REJECTED(&ctx, &opts, "learning_rate", unit_num(0));	/* open at 0 */
	CHECK_REJECTED(&ctx, &opts, "learning_rate", unit_num(-0.1));
	CHECK_REJECTED(&ctx, &opts, "learning_rate", unit_num(11));
	CHECK_REJECTED(&ctx, &opts, "learning_rate", unit_num(NAN));
	CHECK_REJECTED(&ctx, &opts, "learning_rate", unit_str("0.1"));
	CHECK_REJECTED(&ctx, &opts, "weight_decay", unit_num(-0.1));
	CHECK_REJECTED(&ctx, &opts, "seed", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "seed", unit_num(0.5));
	CHECK_REJECTED(&ctx, &opts, "seed", unit_num(1e17));
	CHECK_REJECTED(&ctx, &opts, "validation_fraction", unit_num(0.6));
	CHECK_REJECTED(&ctx, &opts, "validation_fraction", unit_num(-0.1));
	CHECK_REJECTED(&ctx, &opts, "early_stopping_patience", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "contamination", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "contamination", unit_num(0.6));
	CHECK_REJECTED(&ctx, &opts, "max_rows", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "scaler", unit_str("minmax"));
	CHECK_REJECTED(&ctx, &opts, "max_categories", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "max_categories", unit_num(1001));

	/* nothing was changed by the rejected values */
	CHECK(opts.latent == 0 && opts.epochs == 0 && opts.batch_size == 0);
	CHECK(opts.activation == AN_ACT_LEAKY_RELU);
	CHECK(opts.learning_rate == 1e-3);
	CHECK(opts.weight_decay < 0);
	CHECK(!opts.seed_set);
	CHECK(opts.validation_fraction == 0.1);
	CHECK(opts.early_stopping_patience == 10);
	CHECK(opts.contamination == 0.01);
	CHECK(opts.max_rows == 1000000);
	CHECK(opts.scaler == AN_SCALER_STANDARD);
	CHECK(opts.max_categories == 20);
}

UNIT_TEST(options_unknown_key)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v = unit_num(1);

	init_opts(&ctx, &opts);
	CHECK_STATUS(an_options_set(&ctx, &opts, "hiden", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"hiden\"");
	CHECK_CONTAINS(ctx.errmsg, "autoencoder");
	CHECK_STATUS(an_options_set(&ctx, &opts, "", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "unrecognized");
}

UNIT_TEST(options_helpers)
{
	AnContext	ctx;
	AnOptionValue v;
	int64_t		i;
	double		d;
	bool		b = false;
	int			choice = -1;
	static const char *const choices[] = {"a", "bb", NULL};

	unit_context_malloc(&ctx);
	v = unit_num(-3);
	CHECK_STATUS(an_option_int(&ctx, "k", &v, -5, 5, &i), AN_OK);
	CHECK(i == -3);
	CHECK_STATUS(an_option_int(&ctx, "k", &v, -2, 5, &i), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "between -2 and 5");
	v = unit_num(0.25);
	CHECK_STATUS(an_option_real(&ctx, "r", &v, 0, 1, true, &d), AN_OK);
	CHECK(d == 0.25);
	v = unit_num(0);
	CHECK_STATUS(an_option_real(&ctx, "r", &v, 0, 1, false, &d), AN_OK);
	CHECK_STATUS(an_option_real(&ctx, "r", &v, 0, 1, true, &d), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "(0, 1]");
	v = unit_bool(true);
	CHECK_STATUS(an_option_bool(&ctx, "flag", &v, &b), AN_OK);
	CHECK(b);
	v = unit_num(1);
	CHECK_STATUS(an_option_bool(&ctx, "flag", &v, &b), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"flag\" must be a boolean, not a number");
	v = unit_str("bb");
	CHECK_STATUS(an_option_choice(&ctx, "c", &v, choices, &choice), AN_OK);
	CHECK(choice == 1);
	v = unit_str("c");
	CHECK_STATUS(an_option_choice(&ctx, "c", &v, choices, &choice), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "one of: a, bb");
}

/* d = 30: the 30-64-16-64-30 autoencoder of the reference implementation */
UNIT_TEST(options_resolve_defaults)
{
	AnContext	ctx;
	AnOptions	opts;

	init_opts(&ctx, &opts);
	an_options_resolve(&opts, 30, 10000);
	CHECK(opts.n_hidden == 1);
	CHECK(opts.hidden[0] == 64);
	CHECK(opts.latent == 16);
	/* 64 * 2 * 100 > 10000 stops the doubling at 64 */
	CHECK(opts.batch_size == 64);
	/* 9000 training rows, 141 steps per epoch, ceil(4000 / 141) = 29 */
	CHECK(opts.epochs == 29);

	/* narrow and wide inputs hit the clamps */
	init_opts(&ctx, &opts);
	an_options_resolve(&opts, 1, 100);
	CHECK(opts.hidden[0] == 16 && opts.latent == 2);
	CHECK(opts.batch_size == 32);
	CHECK(opts.epochs == 200);		/* 3 steps per epoch */
	init_opts(&ctx, &opts);
	an_options_resolve(&opts, 200, 1000000);
	/* the autoencoder caps the width at 64 from 100 inputs on (its own default) */
	CHECK(opts.hidden[0] == 64 && opts.latent == 32);
	CHECK(opts.batch_size == 256);
	CHECK(opts.epochs == 5);
	init_opts(&ctx, &opts);
	an_options_resolve(&opts, 5, 0);
	CHECK(opts.hidden[0] == 16 && opts.latent == 4);
	CHECK(opts.batch_size == 32 && opts.epochs == 200);

	/* explicit values are kept */
	init_opts(&ctx, &opts);
	opts.n_hidden = 2;
	opts.hidden[0] = 10;
	opts.hidden[1] = 7;
	opts.latent = 3;
	opts.batch_size = 50;
	opts.epochs = 9;
	an_options_resolve(&opts, 30, 10000);
	CHECK(opts.n_hidden == 2 && opts.hidden[0] == 10 && opts.hidden[1] == 7);
	CHECK(opts.latent == 3 && opts.batch_size == 50 && opts.epochs == 9);
}

UNIT_TEST(method_registry)
{
	const AnMethod *m = an_method_lookup("autoencoder");

	REQUIRE(m != NULL);
	CHECK(m == an_method_lookup("autoencoder"));
	CHECK_STR(m->name, "autoencoder");
	CHECK(m->create && m->train_batch && m->params && m->score &&
		  m->encode && m->decode && m->destroy);
	CHECK(an_method_lookup("Autoencoder") == NULL);
	CHECK(an_method_lookup("") == NULL);
	CHECK(an_method_lookup("vae_x") == NULL);
	CHECK_CONTAINS(an_method_names(), "autoencoder");
	/* a second call gives the same list, not a doubled one */
	(void) an_method_names();
	CHECK(strstr(an_method_names(), "autoencoder, autoencoder") == NULL);
}
