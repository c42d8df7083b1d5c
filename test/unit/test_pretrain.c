/*-------------------------------------------------------------------------
 *
 * test_pretrain.c
 *	  Unit tests of the network layouts built from the hidden and latent
 *	  options (architecture.c), of the autoencoder's layout as stored, and
 *	  of an_autoencoder_pretrain, the encoder other methods start from.
 *
 * IDENTIFICATION
 *	  test/unit/test_pretrain.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "anomaly/pretrain.h"
#include "fixture.h"
#include "unit.h"

UNIT_TEST(architecture_dims_and_acts)
{
	AnContext	ctx;
	AnOptions	opts;
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("autoencoder")) == AN_OK);
	opts.n_hidden = 2;
	opts.hidden[0] = 64;
	opts.hidden[1] = 32;
	opts.activation = AN_ACT_TANH;

	CHECK(an_encoder_dims(&opts, 30, 8, dims) == 3);
	CHECK(dims[0] == 30 && dims[1] == 64 && dims[2] == 32 && dims[3] == 8);
	CHECK(an_decoder_dims(&opts, 8, 30, dims) == 3);
	CHECK(dims[0] == 8 && dims[1] == 32 && dims[2] == 64 && dims[3] == 30);

	an_hidden_acts(&opts, 4, AN_ACT_IDENTITY, acts);
	CHECK(acts[0] == AN_ACT_TANH && acts[1] == AN_ACT_TANH && acts[2] == AN_ACT_TANH);
	CHECK(acts[3] == AN_ACT_IDENTITY);
	an_hidden_acts(&opts, 1, AN_ACT_SIGMOID, acts);
	CHECK(acts[0] == AN_ACT_SIGMOID);

	/* no hidden layers: a single layer straight through */
	opts.n_hidden = 0;
	CHECK(an_encoder_dims(&opts, 5, 2, dims) == 1);
	CHECK(dims[0] == 5 && dims[1] == 2);
	CHECK(an_decoder_dims(&opts, 2, 5, dims) == 1);
	CHECK(dims[0] == 2 && dims[1] == 5);
}

/* the stored network of an autoencoder with hidden [8, 4], latent 2 */
UNIT_TEST(autoencoder_layout_as_stored)
{
	static const int widths[7] = {FIX_DIM, 8, 4, 2, 4, 8, FIX_DIM};
	static const double hidden[2] = {8, 4};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	AnOptions	opts;
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 2};
	double	   *raw = fixture_rows(17, 100);
	float	   *x = NULL;
	char	   *data = NULL;
	size_t		len = 0,
				off = 0;
	msgpack_unpacked msg;
	const AnObject *state,
			   *net,
			   *layers;

	unit_context_counting(&ctx, &counter);
	REQUIRE(fixture_prepare(&ctx, &model, raw, 100, AN_SCALER_STANDARD, &x) == AN_OK);
	REQUIRE(fixture_options(&ctx, &opts, 1, 17, 100) == AN_OK);
	REQUIRE(an_options_set(&ctx, &opts, "hidden", &v) == AN_OK);
	v.kind = AN_OPTION_NUMBER;
	v.number = 2;
	REQUIRE(an_options_set(&ctx, &opts, "latent", &v) == AN_OK);
	REQUIRE(an_model_fit(&ctx, &model, &opts, x, 100) == AN_OK);
	REQUIRE(an_model_encode(&ctx, &model, &data, &len) == AN_OK);

	msgpack_unpacked_init(&msg);
	REQUIRE(msgpack_unpack_next(&msg, data, len, &off) == MSGPACK_UNPACK_SUCCESS);
	if (an_get_map(&ctx, &msg.data, "state", &state) == AN_OK &&
		an_get_map(&ctx, state, "network", &net) == AN_OK &&
		an_get_array(&ctx, net, "layers", &layers) == AN_OK)
	{
		CHECK(layers->via.array.size == 6);
		for (uint32_t l = 0; l < layers->via.array.size && l < 6; l++)
		{
			const AnObject *layer = &layers->via.array.ptr[l];
			int64_t		in = -1,
						out = -1;

			CHECK(an_get_int(&ctx, layer, "in", 0, 100, &in) == AN_OK);
			CHECK(an_get_int(&ctx, layer, "out", 0, 100, &out) == AN_OK);
			CHECK(in == widths[l] && out == widths[l + 1]);
			/* the default leaky ReLU everywhere, the bottleneck included; a linear output */
			CHECK(an_object_str_eq(an_map_get(layer, "activation"),
								   l == 5 ? "identity" : "leaky_relu"));
			CHECK(an_map_get(layer, "bias") != NULL);
		}
	}
	else
		unit_fail(__FILE__, __LINE__, "no state.network.layers: %s", ctx.errmsg);
	msgpack_unpacked_destroy(&msg);

	an_free(&ctx, data);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
	free(raw);
	free(x);
}

/* how often a string occurs in an encoded document */
static int
count_in(const char *data, size_t len, const char *what)
{
	size_t		n = strlen(what);
	int			count = 0;

	for (size_t i = 0; i + n <= len; i++)
		count += memcmp(data + i, what, n) == 0;
	return count;
}

/*
 * auto's autoencoder members keep the autoencoder's own default activation
 * (leaky ReLU) unless the caller gives one, which then reaches every member.
 */
UNIT_TEST(auto_members_keep_their_activation)
{
	static const char *const given[2] = {NULL, "tanh"};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	double	   *raw = fixture_rows(29, 200);

	unit_context_counting(&ctx, &counter);
	for (int k = 0; k < 2; k++)
	{
		AnModel		model;
		AnOptions	opts;
		float	   *x = NULL;
		char	   *data = NULL;
		size_t		len = 0;
		AnOptionValue members = {.kind = AN_OPTION_STRING, .string = "autoencoder,pca"};
		AnOptionValue epochs = {.kind = AN_OPTION_NUMBER, .number = 2};

		REQUIRE(fixture_prepare(&ctx, &model, raw, 200, AN_SCALER_STANDARD, &x) == AN_OK);
		REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("auto")) == AN_OK);
		REQUIRE(an_options_set(&ctx, &opts, "members", &members) == AN_OK);
		REQUIRE(an_options_set(&ctx, &opts, "epochs", &epochs) == AN_OK);
		if (given[k])
			REQUIRE(an_options_set(&ctx, &opts, "activation",
								   &(AnOptionValue) {.kind = AN_OPTION_STRING, .string = given[k]}) == AN_OK);
		an_options_resolve(&opts, FIX_DIM, 200);
		REQUIRE(an_model_fit(&ctx, &model, &opts, x, 200) == AN_OK);
		REQUIRE(an_model_encode(&ctx, &model, &data, &len) == AN_OK);
		/* encoder and decoder hidden layers and the bottleneck: 3 layers */
		CHECK(count_in(data, len, "leaky_relu") == (given[k] ? 0 : 3));
		CHECK(count_in(data, len, "tanh") == (given[k] ? 3 : 0));
		an_free(&ctx, data);
		an_options_free(&ctx, &opts);
		an_model_free(&ctx, &model);
		free(x);
	}
	CHECK_NO_LEAKS(&counter);
	free(raw);
}

/*
 * auto's autoencoder members derive their own width unless the caller
 * gives one: from 100 inputs on the autoencoder's is at most 64 units, so
 * the document of auto with the derived width is the one with hidden [64]
 * given, and not the one with the generic 2d (256) given.
 */
static AnStatus
fit_wide_auto(AnContext *ctx, int width, char **data, size_t *len)
{
	enum
	{
		DIM = 120, N = 64
	};
	AnModel		model;
	AnOptions	opts;
	AnRng		rng;
	double	   *raw = malloc(sizeof(double) * DIM * N);
	float	   *x;
	AnStatus	st;

	memset(&model, 0, sizeof(model));
	an_rng_seed(&rng, 77);
	for (int i = 0; i < DIM * N; i++)
		raw[i] = an_rng_normal(&rng);
	model.spec.n_features = DIM;
	model.spec.features = an_alloc_array(ctx, DIM, sizeof(AnFeature));
	if (!model.spec.features)
		return an_nomem(ctx);
	memset(model.spec.features, 0, sizeof(AnFeature) * DIM);
	for (int j = 0; j < DIM; j++)
	{
		char		name[16];

		snprintf(name, sizeof(name), "f%d", j);
		model.spec.features[j].name = an_strdup(ctx, name);
	}
	AN_TRY(an_spec_layout(ctx, &model.spec));
	AN_TRY(an_scaler_fit(ctx, &model.scaler, AN_SCALER_STANDARD, raw, N, DIM, NULL));
	x = an_scaler_apply_compact(&model.scaler, raw, N);
	AN_TRY(an_options_init(ctx, &opts, an_method_lookup("auto")));
	st = an_options_set(ctx, &opts, "members",
						&(AnOptionValue) {.kind = AN_OPTION_STRING, .string = "autoencoder,pca"});
	if (st == AN_OK)
		st = an_options_set(ctx, &opts, "epochs", &(AnOptionValue) {.kind = AN_OPTION_NUMBER, .number = 1});
	if (st == AN_OK && width > 0)
		st = an_options_set(ctx, &opts, "hidden", &(AnOptionValue) {.kind = AN_OPTION_NUMBER, .number = width});
	an_options_resolve(&opts, DIM, N);
	if (st == AN_OK)
		st = an_model_fit(ctx, &model, &opts, x, N);
	if (st == AN_OK)
		st = an_model_encode(ctx, &model, data, len);
	an_options_free(ctx, &opts);
	an_model_free(ctx, &model);
	free(raw);
	return st;
}

UNIT_TEST(auto_members_derive_their_width)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	char	   *derived = NULL,
			   *w64 = NULL,
			   *w256 = NULL;
	size_t		n_derived = 0,
				n64 = 0,
				n256 = 0;

	unit_context_counting(&ctx, &counter);
	REQUIRE(fit_wide_auto(&ctx, 0, &derived, &n_derived) == AN_OK);
	REQUIRE(fit_wide_auto(&ctx, 64, &w64, &n64) == AN_OK);
	REQUIRE(fit_wide_auto(&ctx, 256, &w256, &n256) == AN_OK);
	CHECK(n_derived == n64 && memcmp(derived, w64, n64) == 0);
	CHECK(n256 > n64);
	an_free(&ctx, derived);
	an_free(&ctx, w64);
	an_free(&ctx, w256);
	CHECK_NO_LEAKS(&counter);
}

typedef struct PhaseLog
{
	UnitAlloc	counter;		/* first: the allocator's arg */
	int			n;
	int			bad_phase;
	int			epochs;
	int			interrupt_calls;
	int			interrupt_at;
} PhaseLog;

static void
log_phase(void *arg, const AnEpochReport *r)
{
	PhaseLog   *log = arg;

	log->n++;
	log->epochs = r->epochs;
	if (!r->phase || strcmp(r->phase, "pretrain") != 0)
		log->bad_phase++;
}

static bool
interrupt_after(void *arg)
{
	PhaseLog   *log = arg;

	return log->interrupt_at > 0 && ++log->interrupt_calls >= log->interrupt_at;
}

static AnStatus
pretrain(AnContext *ctx, const float *x, size_t n, bool bias, uint64_t seed,
		 AnMlp *encoder)
{
	AnOptions	opts;
	AnRng		rng;
	AnStatus	st;

	memset(encoder, 0, sizeof(*encoder));
	AN_TRY(fixture_options(ctx, &opts, 50, seed, n));
	an_rng_seed(&rng, seed);
	st = an_autoencoder_pretrain(ctx, &opts, 3, AN_ACT_IDENTITY, bias, x, n, FIX_DIM,
								 &rng, false, 32, encoder);
	an_options_free(ctx, &opts);
	return st;
}

UNIT_TEST(autoencoder_pretrain_encoder)
{
	AnContext	ctx;
	PhaseLog	log = {{0}};
	double	   *raw = fixture_rows(19, 300);
	float	   *x = NULL;
	AnModel		holder;
	AnMlp		enc,
				again,
				init;
	AnRng		rng;
	static const int full[5] = {FIX_DIM, 16, 3, 16, FIX_DIM};
	/* fixture_options are the autoencoder's: leaky ReLU by default */
	static const AnActivation full_acts[4] = {AN_ACT_LEAKY_RELU, AN_ACT_IDENTITY,
	AN_ACT_LEAKY_RELU, AN_ACT_IDENTITY};
	bool		trained = false;

	unit_context_counting(&ctx, &log.counter);
	ctx.arg = &log;
	ctx.progress = log_phase;
	ctx.interrupted = interrupt_after;
	REQUIRE(fixture_prepare(&ctx, &holder, raw, 300, AN_SCALER_STANDARD, &x) == AN_OK);

	for (int bias = 1; bias >= 0; bias--)
	{
		log.n = log.bad_phase = 0;
		CHECK_STATUS(pretrain(&ctx, x, 300, bias, 23, &enc), AN_OK);
		/* the phase is named, and runs the given epochs, not the option's 50 */
		CHECK(log.n == 3 && log.epochs == 3 && log.bad_phase == 0);
		REQUIRE(enc.n_layers == 2);
		CHECK(enc.dims[0] == FIX_DIM && enc.dims[1] == 16 && enc.dims[2] == 3);
		CHECK(enc.acts[0] == AN_ACT_LEAKY_RELU && enc.acts[1] == AN_ACT_IDENTITY);
		CHECK(enc.bias == (bool) bias && (enc.layers[0].b != NULL) == (bool) bias);
		CHECK(!enc.trainable && enc.layers[0].gw == NULL);
		CHECK(enc.max_batch == 32);

		/* the same seed gives the same encoder */
		CHECK_STATUS(pretrain(&ctx, x, 300, bias, 23, &again), AN_OK);
		for (int l = 0; l < 2; l++)
		{
			CHECK(memcmp(enc.layers[l].w, again.layers[l].w,
						 sizeof(float) * enc.dims[l] * enc.dims[l + 1]) == 0);
			if (bias)
				CHECK(memcmp(enc.layers[l].b, again.layers[l].b,
							 sizeof(float) * enc.dims[l + 1]) == 0);
		}
		an_mlp_free(&ctx, &again);

		/* the weights are trained ones, not the initial draws */
		REQUIRE(an_mlp_create(&ctx, &init, 4, full, full_acts, bias, false, 1) == AN_OK);
		an_rng_seed(&rng, 23);
		an_mlp_init(&init, &rng);
		trained = false;
		for (int i = 0; i < FIX_DIM * 16; i++)
		{
			CHECK(fabsf(enc.layers[0].w[i] - init.layers[0].w[i]) < 0.5f);
			trained |= enc.layers[0].w[i] != init.layers[0].w[i];
		}
		CHECK(trained);
		an_mlp_free(&ctx, &init);
		an_mlp_free(&ctx, &enc);
	}

	/* interrupted: an error, an empty encoder, no leak */
	log.interrupt_at = 4;
	log.interrupt_calls = 0;
	CHECK_STATUS(pretrain(&ctx, x, 300, true, 23, &enc), AN_ERR_INTERRUPTED);
	CHECK(enc.n_layers == 0 && enc.layers[0].w == NULL);
	an_mlp_free(&ctx, &enc);
	log.interrupt_at = 0;

	an_model_free(&ctx, &holder);
	CHECK_NO_LEAKS(&log.counter);

	/* every allocation may fail */
	{
		long		base = log.counter.n_allocs,
					needed;

		REQUIRE(pretrain(&ctx, x, 300, true, 23, &enc) == AN_OK);
		needed = log.counter.n_allocs - base;
		an_mlp_free(&ctx, &enc);
		CHECK_NO_LEAKS(&log.counter);
		for (long k = 1; k <= needed; k++)
		{
			log.counter.fail_at = log.counter.n_allocs + k;
			CHECK_STATUS(pretrain(&ctx, x, 300, true, 23, &enc), AN_ERR_NOMEM);
			log.counter.fail_at = 0;
			an_mlp_free(&ctx, &enc);
			CHECK_NO_LEAKS(&log.counter);
		}
	}
	free(raw);
	free(x);
}
