/*-------------------------------------------------------------------------
 *
 * test_methods.c
 *	  The checks every registered method must pass, run over the registry:
 *	  a new method gets them by its registry line alone.
 *
 * For each method: it trains on the fixture with quick options and tells
 * the fixture's outliers from fresh normal rows; its document decodes to
 * a model that scores identically (a batch again, or one row alone) and
 * encodes to the same bytes; every truncation of the document (in a
 * buffer of exactly that length), every byte of it overwritten, and
 * random damage to a few bytes at once, is refused cleanly or decodes to
 * a model that can score, without a leak; every allocation of training,
 * of encoding and of decoding may fail without a leak; the same seed
 * gives the same document byte for byte, and another seed another one
 * (for a method that draws); options that do not apply to it are refused
 * by name.  The round trip, the allocation failures and determinism also
 * run on each method trained with its own non-default options (variants
 * below: other scores, objectives, layouts, a coreset), which reach the
 * code paths the quick options do not.  A method's own test file holds
 * only its own maths.
 *
 * IDENTIFICATION
 *	  test/unit/test_methods.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

#define TRAIN_ROWS	300
#define TEST_ROWS	200
#define QUICK_EPOCHS 10

/* documents longer than this are cut or damaged at a stride, not everywhere */
#define MAX_POSITIONS 4000
/* damaged documents that decode score these rows (fixture outliers, normal rows) */
#define DAMAGE_ROWS 8
/* random damage of one to eight bytes at once, per method */
#define RANDOM_TRIALS 400

/*
 * A method with options of its own set to other than their defaults, on
 * top of the quick options: up to three (key, value) pairs.
 */
typedef struct MethodOption
{
	const char *key;
	AnOptionValue value;
} MethodOption;

typedef struct Variant
{
	const char *method;
	MethodOption opts[3];
} Variant;

#define NUM(x)	{.kind = AN_OPTION_NUMBER, .number = (x)}
#define STR(s)	{.kind = AN_OPTION_STRING, .string = (s)}
#define BOOL(b) {.kind = AN_OPTION_BOOL, .boolean = (b)}

static const Variant variants[] = {
	/* the default averages seven networks; one is the document of 0.1.0 */
	{"autoencoder", {{"networks", NUM(1)}}},
	{"autoencoder", {{"networks", NUM(2)}, {"hidden", NUM(8)}}},
	{"vae", {{"score", STR("elbo")}, {"beta", NUM(0.5)}}},
	{"vae", {{"score", STR("recon_kl")}, {"beta", NUM(2)}}},
	/* the default is pretrained features and 64 RBF centres */
	{"ocnn", {{"pretrain", BOOL(false)}, {"rbf_centers", NUM(12)}, {"units", NUM(6)}}},
	{"ocnn", {{"rbf_centers", NUM(0)}, {"pretrain_epochs", NUM(1)}, {"nu", NUM(0.1)}}},
	{"ocnn", {{"pretrain", BOOL(false)}, {"rbf_centers", NUM(0)}}},
	/* pretraining, and a radius fitted in epoch_end */
	{"deep_svdd", {{"objective", STR("soft_boundary")}, {"pretrain_epochs", NUM(1)}}},
	/* a coreset below the training rows (the default 10000 is above) */
	{"knn", {{"coreset_size", NUM(40)}, {"aggregate", STR("mean")}, {"k", NUM(3)}}},
	{"iforest", {{"n_trees", NUM(7)}, {"sample_size", NUM(64)}, {"max_depth", NUM(3)}}},
	{"pca", {{"n_components", NUM(2)}}},
	/* no wide latents and no decay of D; then wide latents only */
	{"algan", {{"alpha", NUM(1)}, {"weight_decay", NUM(0)}}},
	{"algan", {{"alpha", NUM(0.01)}, {"sigma", NUM(10)}}},
	{"ecod", {{"variant", STR("paper")}}},
	{"auto", {{"members", STR("ecod,knn")}, {"combine", STR("mean")}}},
};

#define N_VARIANTS ((int) (sizeof(variants) / sizeof(variants[0])))

/*
 * The cases: every registered method with quick options (i < number of
 * methods), then the variants; NULL past the last.  *variant is NULL for
 * a method's quick options.
 */
static const AnMethod *
case_at(int i, const Variant **variant)
{
	int			n_methods = 0;

	while (an_method_at(n_methods))
		n_methods++;
	*variant = NULL;
	if (i < n_methods)
		return an_method_at(i);
	if (i - n_methods >= N_VARIANTS)
		return NULL;
	*variant = &variants[i - n_methods];
	return an_method_lookup((*variant)->method);
}

/* "vae" or "vae score=... beta=...", for messages */
static const char *
case_name(const AnMethod *m, const Variant *variant)
{
	static char name[160];
	size_t		used;

	used = (size_t) snprintf(name, sizeof(name), "%s", m->name);
	for (int k = 0; variant && k < 3 && variant->opts[k].key; k++)
		if (used < sizeof(name))
			used += (size_t) snprintf(name + used, sizeof(name) - used, " %s",
									  variant->opts[k].key);
	return name;
}

/* the fixture's quick options, then the variant's own, resolved */
static AnStatus
quick_options(AnContext *ctx, AnOptions *opts, const AnMethod *method,
			  const Variant *variant, uint64_t seed)
{
	AN_TRY(fixture_quick_options(ctx, opts, method, seed, QUICK_EPOCHS));
	for (int k = 0; variant && k < 3 && variant->opts[k].key; k++)
		AN_TRY(an_options_set(ctx, opts, variant->opts[k].key, &variant->opts[k].value));
	an_options_resolve(opts, FIX_DIM, TRAIN_ROWS);
	return AN_OK;
}

/* spec, scaler and scaled rows of the fixture's training set, in ctx */
static AnStatus
prepare(AnContext *ctx, AnModel *model, float **x)
{
	double	   *raw = fixture_rows(1042, TRAIN_ROWS);
	AnStatus	st = fixture_prepare(ctx, model, raw, TRAIN_ROWS, AN_SCALER_STANDARD, x);

	free(raw);
	return st;
}

static AnStatus
train(AnContext *ctx, const AnMethod *method, const Variant *variant, uint64_t seed,
	  AnModel *model)
{
	AnOptions	opts;
	float	   *x = NULL;
	AnStatus	st;

	memset(&opts, 0, sizeof(opts));
	st = prepare(ctx, model, &x);
	if (st == AN_OK)
		st = quick_options(ctx, &opts, method, variant, seed);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, &opts, x, TRAIN_ROWS);
	an_options_free(ctx, &opts);
	free(x);
	return st;
}

static AnStatus
encode(AnContext *ctx, const AnModel *model, char **doc, size_t *len)
{
	return an_model_encode(ctx, model, doc, len);
}

/* scores of fixed outliers (first TEST_ROWS) and normal rows (next TEST_ROWS) */
static void
score_probe(AnModel *model, double *scores)
{
	double	   *out = fixture_outliers(7, TEST_ROWS);
	double	   *norm = fixture_rows(8, TEST_ROWS);

	an_model_score_raw(model, out, TEST_ROWS, scores);
	an_model_score_raw(model, norm, TEST_ROWS, scores + TEST_ROWS);
	free(out);
	free(norm);
}

/* the same rows as score_probe, each scored alone (rowkernel.c for a decoded network) */
static void
score_probe_alone(AnModel *model, double *scores)
{
	double	   *out = fixture_outliers(7, TEST_ROWS);
	double	   *norm = fixture_rows(8, TEST_ROWS);

	for (int k = 0; k < TEST_ROWS; k++)
	{
		an_model_score_raw(model, out + (size_t) k * FIX_DIM, 1, scores + k);
		an_model_score_raw(model, norm + (size_t) k * FIX_DIM, 1, scores + TEST_ROWS + k);
	}
	free(out);
	free(norm);
}

UNIT_TEST(methods_registry)
{
	int			n = 0;

	for (const AnMethod *m; (m = an_method_at(n)) != NULL; n++)
	{
		CHECK(an_method_lookup(m->name) == m);
		CHECK_CONTAINS(an_method_names(), m->name);
		CHECK(m->score && m->encode && m->decode && m->destroy);
		if (an_method_is_gradient(m))
			CHECK(m->create && m->train_batch && m->params);
	}
	CHECK(n >= 4);
	CHECK(an_method_at(-1) == NULL);
	CHECK(an_method_lookup("no_such_method") == NULL);
}

/*
 * The stored quantiles are those of the decoded model's scores of the
 * training rows, bit for bit, whatever blocks training scored them in
 * (model.c takes blocks of AN_SCORE_BATCH for a method whose rows are
 * independent, AN_DECODE_BATCH otherwise, as a decoded model does): the
 * percentiles SQL reports are the ones its scores have.
 */
static void
check_stored_quantiles(const AnMethod *m, const Variant *variant, const AnModel *model,
					   AnModel *back)
{
	double	   *raw = fixture_rows(1042, TRAIN_ROWS);
	double	   *s = malloc(TRAIN_ROWS * sizeof(double));
	bool		same = true;

	an_model_score_raw(back, raw, TRAIN_ROWS, s);
	an_sort_doubles(s, TRAIN_ROWS);
	for (int q = 0; q < AN_N_QUANTILES; q++)
	{
		double		v = an_quantile_sorted(s, TRAIN_ROWS, (double) q / (AN_N_QUANTILES - 1));

		same &= memcmp(&v, &model->quantiles[q], sizeof(double)) == 0;
	}
	if (!same)
		unit_fail(__FILE__, __LINE__, "%s: stored quantiles differ from the decoded model's",
				  case_name(m, variant));
	free(raw);
	free(s);
}

/*
 * Train a case, check detection (quick options only), decode its document
 * and compare: the same scores, a batch scored again the same bit for
 * bit, one row alone as in its batch (before and after decoding), and the
 * same document re-encoded.
 */
static void
detect_and_round_trip(const AnMethod *m, const Variant *variant)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model,
				back;
	char	   *doc = NULL,
			   *again = NULL;
	size_t		len = 0,
				again_len = 0;
	double		s1[2 * TEST_ROWS],
				s2[2 * TEST_ROWS],
				s3[2 * TEST_ROWS];
	double		pairs = 0,
				auroc,
				one;
	double	   *out = fixture_outliers(7, 1);

	unit_context_counting(&ctx, &counter);
	if (train(&ctx, m, variant, 42, &model) != AN_OK)
	{
		unit_fail(__FILE__, __LINE__, "%s: training failed: %s",
				  case_name(m, variant), ctx.errmsg);
		an_model_free(&ctx, &model);
		free(out);
		return;
	}
	CHECK(model.method == m);
	CHECK(isfinite(model.threshold));
	score_probe(&model, s1);

	/*
	 * The fixture's outliers break its correlations by several standard
	 * deviations: whatever the method, quick training must rank them above
	 * fresh normal rows (AUROC by counting pairs, ties half).  The
	 * autoencoders and Deep SVDD reach 1.0 here; OC-NN, whose hinge needs
	 * more rows and epochs than these, about 0.79.  Variants only round trip.
	 */
	for (int k = 0; k < TEST_ROWS; k++)
	{
		CHECK(isfinite(s1[k]) && isfinite(s1[TEST_ROWS + k]));
		for (int l = 0; l < TEST_ROWS; l++)
			pairs += s1[k] > s1[TEST_ROWS + l] ? 1.0
				: s1[k] == s1[TEST_ROWS + l] ? 0.5 : 0.0;
	}
	auroc = pairs / ((double) TEST_ROWS * TEST_ROWS);
	if (!variant && !(auroc >= 0.75))
		unit_fail(__FILE__, __LINE__, "%s: AUROC %.3f on the fixture's outliers",
				  m->name, auroc);

	/* scoring is deterministic, and a row alone scores as in its batch */
	score_probe(&model, s3);
	if (memcmp(s1, s3, sizeof(s1)) != 0)
		unit_fail(__FILE__, __LINE__, "%s: the same rows scored twice differ",
				  case_name(m, variant));
	an_model_score_raw(&model, out, 1, &one);
	CHECK_CLOSE(one, s1[0], 1e-5, 1e-6);

	REQUIRE(encode(&ctx, &model, &doc, &len) == AN_OK);
	if (an_model_decode(&ctx, doc, len, &back) != AN_OK)
		unit_fail(__FILE__, __LINE__, "%s: decode failed: %s", case_name(m, variant),
				  ctx.errmsg);
	else
	{
		CHECK(back.method == m);
		score_probe(&back, s2);
		for (int k = 0; k < 2 * TEST_ROWS; k++)
			CHECK_CLOSE(s1[k], s2[k], 1e-6, 1e-9);
		/*
		 * One row at a time, as SQL scores: float32 sums in another order.
		 * OC-NN's score r - yhat cancels, so the rounding of a network
		 * output of order one shows as an absolute error, hence atol.
		 */
		score_probe_alone(&back, s3);
		for (int k = 0; k < 2 * TEST_ROWS; k++)
			CHECK_CLOSE(s1[k], s3[k], 1e-5, 1e-5);
		CHECK(back.threshold == model.threshold);
		check_stored_quantiles(m, variant, &model, &back);
		REQUIRE(encode(&ctx, &back, &again, &again_len) == AN_OK);
		if (again_len != len || memcmp(again, doc, len) != 0)
			unit_fail(__FILE__, __LINE__, "%s: the decoded model encodes differently",
					  case_name(m, variant));
		an_free(&ctx, again);
		an_model_free(&ctx, &back);
	}
	an_free(&ctx, doc);
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);
	free(out);
}

UNIT_TEST(methods_detect_and_round_trip)
{
	const Variant *variant;
	const AnMethod *m;

	for (int i = 0; (m = case_at(i, &variant)) != NULL; i++)
		detect_and_round_trip(m, variant);
}

/* decode a damaged copy; a model it accepts must score and free cleanly */
static AnStatus
decode_damaged(const AnMethod *m, const char *copy, size_t len, const double *rows,
			   size_t pos)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		back;
	AnStatus	st;
	double		s[DAMAGE_ROWS];

	unit_context_counting(&ctx, &counter);
	st = an_model_decode(&ctx, copy, len, &back);
	if (st == AN_OK)
	{
		/* a damaged float is still a model: it must score, not crash */
		an_model_score_raw(&back, rows, DAMAGE_ROWS, s);
		an_model_free(&ctx, &back);
	}
	else if (st != AN_ERR_CORRUPT)
		unit_fail(__FILE__, __LINE__, "%s: damaged at %zu: status %d (%s)",
				  m->name, pos, (int) st, ctx.errmsg);
	if (counter.outstanding != 0 || counter.bad_frees != 0)
		unit_fail(__FILE__, __LINE__, "%s: damaged at %zu: %ld allocations leaked",
				  m->name, pos, counter.outstanding);
	return st;
}

/*
 * Decode every prefix (from a buffer of exactly its length, so that ASan
 * or valgrind sees a read past the end), every copy with one byte
 * overwritten, and copies with one to eight random bytes changed; nothing
 * may crash or leak, and no prefix may decode.
 */
static void
damage_document(const AnMethod *m, const char *doc, size_t len)
{
	size_t		stride = len / MAX_POSITIONS + 1;
	double	   *rows = fixture_outliers(7, DAMAGE_ROWS / 2);
	double	   *normal = fixture_rows(8, DAMAGE_ROWS / 2);
	char	   *copy;
	int			accepted = 0,
				refused = 0;
	AnRng		rng;

	rows = realloc(rows, DAMAGE_ROWS * FIX_DIM * sizeof(double));
	memcpy(rows + DAMAGE_ROWS / 2 * FIX_DIM, normal, DAMAGE_ROWS / 2 * FIX_DIM * sizeof(double));
	for (size_t pos = 0; pos < len; pos += stride)
	{
		copy = malloc(pos ? pos : 1);
		memcpy(copy, doc, pos);
		if (decode_damaged(m, copy, pos, rows, pos) == AN_OK)
			unit_fail(__FILE__, __LINE__, "%s: a %zu-byte prefix decoded", m->name, pos);
		free(copy);
	}
	copy = malloc(len);
	for (size_t pos = 0; pos < len; pos += stride)
	{
		memcpy(copy, doc, len);
		copy[pos] ^= 0x5a;
		decode_damaged(m, copy, len, rows, pos);
	}
	an_rng_seed(&rng, 2024);
	for (int trial = 0; trial < RANDOM_TRIALS; trial++)
	{
		int			n_bytes = 1 + (int) an_rng_below(&rng, trial % 4 == 0 ? 8 : 2);
		size_t		at = 0;

		memcpy(copy, doc, len);
		for (int k = 0; k < n_bytes; k++)
		{
			at = (size_t) an_rng_below(&rng, len);
			if (an_rng_below(&rng, 2))
				copy[at] ^= (char) (1 << an_rng_below(&rng, 8));
			else
				copy[at] = (char) an_rng_below(&rng, 256);
		}
		if (decode_damaged(m, copy, len, rows, at) == AN_OK)
			accepted++;
		else
			refused++;
	}
	/* some hits land on weights (still a model), some on structure */
	if (!(refused > RANDOM_TRIALS / 20))
		unit_fail(__FILE__, __LINE__, "%s: %d of %d randomly damaged documents refused",
				  m->name, refused, RANDOM_TRIALS);
	(void) accepted;
	free(copy);
	free(rows);
	free(normal);
}

UNIT_TEST(methods_damaged_documents)
{
	for (int i = 0; an_method_at(i); i++)
	{
		const AnMethod *m = an_method_at(i);
		AnContext	ctx;
		AnModel		model;
		char	   *doc;
		size_t		len;

		unit_context_malloc(&ctx);
		REQUIRE(train(&ctx, m, NULL, 42, &model) == AN_OK);
		REQUIRE(encode(&ctx, &model, &doc, &len) == AN_OK);
		damage_document(m, doc, len);
		an_free(&ctx, doc);
		an_model_free(&ctx, &model);
	}
}

static void
allocation_failures(const AnMethod *m, const Variant *variant)
{
	const char *name = case_name(m, variant);
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	char	   *doc,
			   *out;
	size_t		len,
				out_len;
	long		n_train,
				n_encode,
				n_decode,
				stride;

	/* how many allocations a full training, an encode and a decode make */
	unit_context_counting(&ctx, &counter);
	REQUIRE(train(&ctx, m, variant, 42, &model) == AN_OK);
	n_train = counter.n_allocs;
	counter.n_allocs = 0;
	REQUIRE(encode(&ctx, &model, &doc, &len) == AN_OK);
	n_encode = counter.n_allocs;
	for (long k = 1; k <= n_encode; k++)
	{
		out = NULL;
		counter.n_allocs = 0;
		counter.fail_at = k;
		CHECK_STATUS(an_model_encode(&ctx, &model, &out, &out_len), AN_ERR_NOMEM);
		counter.fail_at = 0;
		CHECK(out == NULL);
	}
	an_model_free(&ctx, &model);
	counter.n_allocs = 0;
	REQUIRE(an_model_decode(&ctx, doc, len, &model) == AN_OK);
	n_decode = counter.n_allocs;
	an_model_free(&ctx, &model);

	stride = n_train / 400 + 1;
	for (long k = 1; k <= n_train; k += stride)
	{
		AnStatus	st;

		counter.n_allocs = 0;
		counter.fail_at = k;
		st = train(&ctx, m, variant, 42, &model);
		counter.fail_at = 0;
		if (st != AN_ERR_NOMEM)
			unit_fail(__FILE__, __LINE__, "%s: allocation %ld of training failed, status %d",
					  name, k, (int) st);
		an_model_free(&ctx, &model);
	}
	for (long k = 1; k <= n_decode; k++)
	{
		counter.n_allocs = 0;
		counter.fail_at = k;
		CHECK_STATUS(an_model_decode(&ctx, doc, len, &model), AN_ERR_NOMEM);
		counter.fail_at = 0;
	}
	an_free(&ctx, doc);
	if (counter.outstanding != 0 || counter.bad_frees != 0)
		unit_fail(__FILE__, __LINE__, "%s: %ld allocations leaked, %ld bad frees",
				  name, counter.outstanding, counter.bad_frees);
}

/*
 * A fit callback that fails leaves *state NULL and nothing allocated
 * (method.h), for every allocation it makes; the quick options' rows and
 * options stay alive around it.
 */
static void
fit_allocation_failures(const AnMethod *m, const Variant *variant)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		holder;
	AnOptions	opts;
	AnRng		rng;
	float	   *x = NULL;
	void	   *state = NULL;
	long		n_fit;

	unit_context_counting(&ctx, &counter);
	memset(&opts, 0, sizeof(opts));
	REQUIRE(prepare(&ctx, &holder, &x) == AN_OK);
	REQUIRE(quick_options(&ctx, &opts, m, variant, 42) == AN_OK);
	counter.n_allocs = 0;
	an_rng_seed(&rng, 42);
	REQUIRE(m->fit(&ctx, &opts, x, TRAIN_ROWS, FIX_DIM, &rng, &state) == AN_OK);
	n_fit = counter.n_allocs;
	m->destroy(&ctx, state);
	for (long k = 1; k <= n_fit; k += n_fit / 400 + 1)
	{
		state = NULL;
		counter.n_allocs = 0;
		counter.fail_at = k;
		an_rng_seed(&rng, 42);
		CHECK_STATUS(m->fit(&ctx, &opts, x, TRAIN_ROWS, FIX_DIM, &rng, &state), AN_ERR_NOMEM);
		counter.fail_at = 0;
		if (state != NULL)
			unit_fail(__FILE__, __LINE__, "%s: allocation %ld of fit failed, state left",
					  case_name(m, variant), k);
	}
	an_options_free(&ctx, &opts);
	an_model_free(&ctx, &holder);
	free(x);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(methods_allocation_failures)
{
	const Variant *variant;
	const AnMethod *m;

	for (int i = 0; (m = case_at(i, &variant)) != NULL; i++)
	{
		allocation_failures(m, variant);
		/* (an ensemble of networks by default: its cheap variant only) */
		if (m->fit && (!m->network_options || variant))
			fit_allocation_failures(m, variant);
	}
}

/*
 * The same seed gives the same document byte for byte (weights,
 * threshold, quantiles, loss); for a method trained by gradient steps,
 * another seed gives other scores.
 */
static void
deterministic(const AnMethod *m, const Variant *variant)
{
	AnContext	ctx;
	AnModel		a,
				b,
				c;
	char	   *da,
			   *db;
	size_t		la,
				lb;
	double		sa[2 * TEST_ROWS],
				sc[2 * TEST_ROWS];
	int			differ = 0;

	unit_context_malloc(&ctx);
	REQUIRE(train(&ctx, m, variant, 7, &a) == AN_OK);
	REQUIRE(train(&ctx, m, variant, 7, &b) == AN_OK);
	REQUIRE(encode(&ctx, &a, &da, &la) == AN_OK);
	REQUIRE(encode(&ctx, &b, &db, &lb) == AN_OK);
	if (la != lb || memcmp(da, db, la) != 0)
		unit_fail(__FILE__, __LINE__, "%s: the same seed gave different documents",
				  case_name(m, variant));
	if (an_method_is_gradient(m))
	{
		REQUIRE(train(&ctx, m, variant, 8, &c) == AN_OK);
		score_probe(&a, sa);
		score_probe(&c, sc);
		for (int k = 0; k < 2 * TEST_ROWS; k++)
			differ += sa[k] != sc[k];
		if (differ < TEST_ROWS)
			unit_fail(__FILE__, __LINE__, "%s: another seed changed %d of %d scores",
					  case_name(m, variant), differ, 2 * TEST_ROWS);
		an_model_free(&ctx, &c);
	}
	an_free(&ctx, da);
	an_free(&ctx, db);
	an_model_free(&ctx, &a);
	an_model_free(&ctx, &b);
}

UNIT_TEST(methods_deterministic)
{
	const Variant *variant;
	const AnMethod *m;

	for (int i = 0; (m = case_at(i, &variant)) != NULL; i++)
		deterministic(m, variant);
}

UNIT_TEST(methods_refuse_foreign_options)
{
	for (int i = 0; an_method_at(i); i++)
	{
		const AnMethod *m = an_method_at(i);
		AnContext	ctx;
		AnOptions	opts;
		AnOptionValue v = unit_num(3);
		char		expected[128];

		unit_context_malloc(&ctx);
		REQUIRE(an_options_init(&ctx, &opts, m) == AN_OK);
		CHECK_STATUS(an_options_set(&ctx, &opts, "no_such_option", &v), AN_ERR_INVALID);
		snprintf(expected, sizeof(expected), "\"no_such_option\" for method \"%s\"", m->name);
		CHECK_CONTAINS(ctx.errmsg, expected);
		if (!an_method_is_gradient(m) && !m->network_options)
		{
			CHECK_STATUS(an_options_set(&ctx, &opts, "epochs", &v), AN_ERR_INVALID);
			CHECK_CONTAINS(ctx.errmsg, "does not apply");
		}
		an_options_free(&ctx, &opts);
	}
}
