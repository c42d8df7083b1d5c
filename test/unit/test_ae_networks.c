/*-------------------------------------------------------------------------
 *
 * test_ae_networks.c
 *	  The autoencoder's "networks" option: a model that averages several
 *	  networks, each the network a model of one would have with its seed.
 *
 * IDENTIFICATION
 *	  test/unit/test_ae_networks.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/codec.h"
#include "anomaly/explain.h"
#include "anomaly/method.h"
#include "anomaly/trainer.h"
#include "fixture.h"
#include "unit.h"

#define N_ROWS 400

static const AnMethod *
ae(void)
{
	return an_method_lookup("autoencoder");
}

/* the fixture's autoencoder with K networks and the given seed, trained */
static AnStatus
fit_networks(AnContext *ctx, AnModel *model, const double *raw, int k, uint64_t seed,
			 float **x)
{
	AnOptions	opts;
	AnOptionValue v = unit_num(k);
	AnStatus	st;

	AN_TRY(fixture_prepare(ctx, model, raw, N_ROWS, AN_SCALER_STANDARD, x));
	AN_TRY(fixture_options(ctx, &opts, 8, seed, N_ROWS));
	st = an_options_set(ctx, &opts, "networks", &v);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, &opts, *x, N_ROWS);
	an_options_free(ctx, &opts);
	return st;
}

UNIT_TEST(ae_networks_option_checked)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;
	static const double bad[] = {0, 17, 2.5, -1};

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, ae()) == AN_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		v = unit_num(bad[i]);
		CHECK_STATUS(an_options_set(&ctx, &opts, "networks", &v), AN_ERR_INVALID);
		CHECK_CONTAINS(ctx.errmsg, "\"networks\"");
	}
	v.kind = AN_OPTION_STRING;
	v.string = "three";
	CHECK_STATUS(an_options_set(&ctx, &opts, "networks", &v), AN_ERR_INVALID);
	v = unit_num(16);
	CHECK_STATUS(an_options_set(&ctx, &opts, "networks", &v), AN_OK);
	an_options_free(&ctx, &opts);

	/* the other methods do not take it; auto's autoencoder members are one network */
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("deep_svdd")) == AN_OK);
	v = unit_num(2);
	CHECK_STATUS(an_options_set(&ctx, &opts, "networks", &v), AN_ERR_INVALID);
	an_options_free(&ctx, &opts);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("auto")) == AN_OK);
	CHECK_STATUS(an_options_set(&ctx, &opts, "networks", &v), AN_ERR_INVALID);
	an_options_free(&ctx, &opts);
}

/*
 * Three networks score the mean of the three models of one network trained
 * with seeds s, s + 1000 and s + 2000; report the mean of their losses and
 * the most epochs one ran; explain the mean of their explanations; and the
 * first of them is the model of one network with seed s, bit for bit.
 */
UNIT_TEST(ae_networks_mean_of_separate_models)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	double	   *raw = fixture_rows(31, N_ROWS);
	double	   *probe = fixture_outliers(32, 20);
	AnModel		three,
				one[3];
	float	   *x = NULL;
	double		s3[N_ROWS],
				s1[3][N_ROWS],
				p3[20],
				p1[3][20];

	unit_context_counting(&ctx, &counter);
	memset(&three, 0, sizeof(three));
	REQUIRE(fit_networks(&ctx, &three, raw, 3, 5, &x) == AN_OK);
	free(x);
	for (int k = 0; k < 3; k++)
	{
		memset(&one[k], 0, sizeof(one[k]));
		REQUIRE(fit_networks(&ctx, &one[k], raw, 1, 5 + 1000 * k, &x) == AN_OK);
		free(x);
		an_model_score_raw(&one[k], raw, N_ROWS, s1[k]);
		an_model_score_raw(&one[k], probe, 20, p1[k]);
	}
	an_model_score_raw(&three, raw, N_ROWS, s3);
	an_model_score_raw(&three, probe, 20, p3);
	for (int i = 0; i < N_ROWS; i++)
		CHECK(s3[i] == (s1[0][i] + s1[1][i] + s1[2][i]) / 3);
	for (int i = 0; i < 20; i++)
		CHECK(p3[i] == (p1[0][i] + p1[1][i] + p1[2][i]) / 3);
	/* the networks differ: the mean is not any one of them */
	CHECK(s3[0] != s1[0][0] && s3[0] != s1[1][0]);

	CHECK(fabs(three.loss - (one[0].loss + one[1].loss + one[2].loss) / 3) <= 1e-12 * three.loss);
	{
		int			most = 0;

		for (int k = 0; k < 3; k++)
			if (one[k].epochs_run > most)
				most = one[k].epochs_run;
		CHECK(three.epochs_run == most);
	}

	/* per-feature explanations: the mean of the networks', adding up to the score */
	{
		int			nf = three.spec.n_features;
		double		f3[16],
					f1[3][16],
					rest,
					score,
					total = 0;

		REQUIRE(nf <= 16);
		REQUIRE(an_model_explain(&ctx, &three, probe, f3, &rest, &score) == AN_OK);
		CHECK(fabs(score - p3[0]) <= 1e-6 * p3[0]);
		for (int k = 0; k < 3; k++)
			REQUIRE(an_model_explain(&ctx, &one[k], probe, f1[k], &rest, &score) == AN_OK);
		for (int f = 0; f < nf; f++)
		{
			double		mean = (f1[0][f] + f1[1][f] + f1[2][f]) / 3;

			CHECK(fabs(f3[f] - mean) <= 1e-9 * (fabs(mean) + 1e-12));
			total += f3[f];
		}
		CHECK(fabs(total + rest - p3[0]) <= 1e-5 * p3[0]);
	}

	/* network 0 of the three is the model of one network with seed 5 */
	{
		FixtureState doc3,
					doc1;
		const AnObject *st3 = fixture_state_object(&ctx, ae(), three.state, &doc3);
		const AnObject *st1 = fixture_state_object(&ctx, ae(), one[0].state, &doc1);
		const AnObject *nets = st3 ? an_map_get(st3, "networks") : NULL;
		AnMlp		a,
					b;

		REQUIRE(st3 && st1 && nets && nets->type == MSGPACK_OBJECT_ARRAY);
		CHECK(nets->via.array.size == 3);
		CHECK(an_map_get(st3, "network") == NULL);
		/* one network is written as before: {"network": ...} and nothing else */
		CHECK(st1->via.map.size == 1 && an_map_get(st1, "network") != NULL);
		REQUIRE(an_get_mlp_object(&ctx, &nets->via.array.ptr[0], "n0", FIX_DIM, false, 1, &a) == AN_OK);
		REQUIRE(an_get_mlp(&ctx, st1, "network", FIX_DIM, false, 1, &b) == AN_OK);
		REQUIRE(a.n_layers == b.n_layers);
		for (int l = 0; l < a.n_layers; l++)
		{
			CHECK(memcmp(a.layers[l].w, b.layers[l].w,
						 sizeof(float) * a.layers[l].in * a.layers[l].out) == 0);
			CHECK(memcmp(a.layers[l].b, b.layers[l].b, sizeof(float) * a.layers[l].out) == 0);
		}
		an_mlp_free(&ctx, &a);
		an_mlp_free(&ctx, &b);
		fixture_state_free(&doc3);
		fixture_state_free(&doc1);
	}

	/* the decoded model of three networks scores as the trained one */
	{
		char	   *data = NULL;
		size_t		len = 0;
		AnModel		back;
		double		b3[N_ROWS];

		REQUIRE(an_model_encode(&ctx, &three, &data, &len) == AN_OK);
		REQUIRE(an_model_decode(&ctx, data, len, &back) == AN_OK);
		an_model_score_raw(&back, raw, N_ROWS, b3);
		CHECK(memcmp(b3, s3, sizeof(s3)) == 0);
		an_model_free(&ctx, &back);
		an_free(&ctx, data);
	}

	an_model_free(&ctx, &three);
	for (int k = 0; k < 3; k++)
		an_model_free(&ctx, &one[k]);
	CHECK_NO_LEAKS(&counter);
	free(raw);
	free(probe);
}

/* the mean of a model's scores of the training rows: its network's fit error */
static double
mean_of(const double *s, int n)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
		sum += s[i];
	return sum / n;
}

static double
median_of_five(const double *v)
{
	double		s[5];

	memcpy(s, v, sizeof(s));
	for (int i = 1; i < 5; i++)
		for (int j = i; j > 0 && s[j - 1] > s[j]; j--)
		{
			double		t = s[j];

			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	return s[2];
}

/*
 * The first seed s from `from` to 40 whose five networks, the one-network
 * models of seeds s + 1000 k, include one that fails to train on raw: its
 * fit error more than twice the median of the five's; 0 if none does.
 * one, s1 and err receive the five models, their scores of raw and their
 * fit errors (the models are the caller's to free).
 */
static uint64_t
failing_seed(AnContext *ctx, const double *raw, uint64_t from, AnModel *one,
			 double (*s1)[N_ROWS], double *err)
{
	for (uint64_t seed = from; seed <= 40; seed++)
	{
		bool		found = false;
		double		median;

		for (int k = 0; k < 5; k++)
		{
			float	   *x = NULL;

			memset(&one[k], 0, sizeof(one[k]));
			if (fit_networks(ctx, &one[k], raw, 1, seed + 1000 * k, &x) != AN_OK)
				return 0;
			free(x);
			an_model_score_raw(&one[k], raw, N_ROWS, s1[k]);
			err[k] = mean_of(s1[k], N_ROWS);
		}
		median = median_of_five(err);
		for (int k = 0; k < 5; k++)
			found |= err[k] > 2 * median;
		if (found)
			return seed;
		for (int k = 0; k < 5; k++)
			an_model_free(ctx, &one[k]);
	}
	return 0;
}

/*
 * The replacement rule applied by hand to the one-network models of a
 * failing seed (failing_seed's one, s1, err): a failed network's slot
 * takes the model of seed + 1000 (5 + j), j = 0, 1, ..., while it is
 * still failed, keeping the lower fit error; then the model of five
 * networks must score the mean of the five so chosen, bit for bit.
 * Counts the slots replaced, network 0's among them, and the candidates
 * rejected for fitting worse than the network they would replace.
 */
static void
check_replacement(AnContext *ctx, const double *raw, const double *probe, uint64_t seed,
				  AnModel *one, double (*s1)[N_ROWS], double *err,
				  int *replaced, int *replaced_first, int *rejected)
{
	double		median = median_of_five(err);
	int			spare = 0;
	AnModel		five;
	float	   *x = NULL;
	double		s5[N_ROWS],
				p5[20],
				p1[5][20];

	for (int k = 0; k < 5; k++)
	{
		while (err[k] > 2 * median && spare < 5)
		{
			AnModel		candidate;
			double		sc[N_ROWS];
			double		e;

			memset(&candidate, 0, sizeof(candidate));
			REQUIRE(fit_networks(ctx, &candidate, raw, 1, seed + 1000 * (5 + spare), &x) == AN_OK);
			free(x);
			spare++;
			an_model_score_raw(&candidate, raw, N_ROWS, sc);
			e = mean_of(sc, N_ROWS);
			if (e < err[k])
			{
				an_model_free(ctx, &one[k]);
				one[k] = candidate;
				err[k] = e;
				memcpy(s1[k], sc, sizeof(sc));
				(*replaced)++;
				*replaced_first += k == 0;
			}
			else
			{
				an_model_free(ctx, &candidate);
				(*rejected)++;
			}
		}
	}

	memset(&five, 0, sizeof(five));
	REQUIRE(fit_networks(ctx, &five, raw, 5, seed, &x) == AN_OK);
	free(x);
	an_model_score_raw(&five, raw, N_ROWS, s5);
	an_model_score_raw(&five, probe, 20, p5);
	for (int k = 0; k < 5; k++)
		an_model_score_raw(&one[k], probe, 20, p1[k]);
	for (int i = 0; i < N_ROWS; i++)
		CHECK(s5[i] == (s1[0][i] + s1[1][i] + s1[2][i] + s1[3][i] + s1[4][i]) / 5);
	for (int i = 0; i < 20; i++)
		CHECK(p5[i] == (p1[0][i] + p1[1][i] + p1[2][i] + p1[3][i] + p1[4][i]) / 5);
	an_model_free(ctx, &five);
}

/*
 * A network that failed to train (its fit error over the training rows
 * more than twice the median of the five) is replaced by the network of
 * the next unused seed until one trains (check_replacement).  The test
 * walks fixtures and seeds until it has checked a replaced network 0 (the
 * epoch loop's own network), a rejected candidate and three failing seeds
 * in all: fixtures that no longer produce these cases fail the test rather
 * than let it check nothing.
 */
UNIT_TEST(ae_networks_retrain_failed)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	double	   *probe = fixture_outliers(42, 20);
	static const uint64_t fixtures[] = {41, 7, 13, 21};
	int			checked = 0,
				replaced = 0,
				replaced_first = 0,
				rejected = 0;

	unit_context_counting(&ctx, &counter);
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++)
	{
		double	   *raw = fixture_rows(fixtures[f], N_ROWS);
		uint64_t	seed = 0;

		while (!(checked >= 3 && replaced_first > 0 && rejected > 0))
		{
			AnModel		one[5];
			double		s1[5][N_ROWS],
						err[5];

			seed = failing_seed(&ctx, raw, seed + 1, one, s1, err);
			if (seed == 0)
				break;
			check_replacement(&ctx, raw, probe, seed, one, s1, err,
							  &replaced, &replaced_first, &rejected);
			checked++;
			for (int k = 0; k < 5; k++)
				an_model_free(&ctx, &one[k]);
		}
		free(raw);
	}
	CHECK(checked >= 3);
	CHECK(replaced_first > 0);
	CHECK(rejected > 0);
	CHECK(replaced > 0);
	CHECK_NO_LEAKS(&counter);
	free(probe);
}

/*
 * The autoencoder's derived hidden width is at most 64 from 100 inputs on,
 * 2d rounded up to a power of two below; other methods keep 2d up to 256.
 */
UNIT_TEST(ae_wide_input_width_capped)
{
	AnContext	ctx;
	AnOptions	opts;
	static const int dims[] = {30, 36, 64, 99, 100, 166, 274};
	static const int want[] = {64, 128, 128, 256, 64, 64, 64};

	unit_context_malloc(&ctx);
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
	{
		REQUIRE(an_options_init(&ctx, &opts, ae()) == AN_OK);
		an_options_resolve(&opts, dims[i], 5000);
		CHECK(opts.n_hidden == 1 && opts.hidden[0] == want[i]);
		an_options_free(&ctx, &opts);

		REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("deep_svdd")) == AN_OK);
		an_options_resolve(&opts, dims[i], 5000);
		CHECK(opts.hidden[0] == (dims[i] >= 100 ? 256 : want[i]));
		an_options_free(&ctx, &opts);
	}
	/* an explicit width is the caller's */
	{
		AnOptionValue v = unit_num(128);

		REQUIRE(an_options_init(&ctx, &opts, ae()) == AN_OK);
		REQUIRE(an_options_set(&ctx, &opts, "hidden", &v) == AN_OK);
		an_options_resolve(&opts, 166, 5000);
		CHECK(opts.hidden[0] == 128);
		an_options_free(&ctx, &opts);
	}
}

/* ---- hostile documents ---- */

typedef enum NetsFault
{
	NF_GOOD_TWO,				/* two networks of different hidden widths: fine */
	NF_ZERO,					/* "networks": [] */
	NF_TOO_MANY,				/* 17 networks */
	NF_NOT_ARRAY,				/* "networks": 3 */
	NF_BOTH,					/* "network" and "networks" */
	NF_WRONG_INPUT,				/* the second network reads FIX_DIM + 1 inputs */
	NF_WRONG_OUTPUT,			/* the second network writes FIX_DIM - 1 outputs */
	NF_ELEMENT_NOT_MAP,			/* an element of the array is a string */
	NF_NONE,					/* neither key */
	NF_ONE_WRONG_OUTPUT,		/* "network" writes FIX_DIM - 1 outputs */
	NF_ONE_NOT_MAP				/* "network": 3 */
} NetsFault;

static void
make_net(AnContext *ctx, AnMlp *mlp, int in, int hidden, int out)
{
	int			dims[3] = {in, hidden, out};
	AnActivation acts[2] = {AN_ACT_LEAKY_RELU, AN_ACT_IDENTITY};
	AnRng		rng;

	REQUIRE(an_mlp_create(ctx, mlp, 2, dims, acts, true, false, 1) == AN_OK);
	an_rng_seed(&rng, (uint64_t) hidden);
	an_mlp_init(mlp, &rng);
}

static void
pack_state(AnContext *ctx, AnPacker *pk, NetsFault f)
{
	AnMlp		a,
				b;
	int			n = f == NF_TOO_MANY ? 17 : f == NF_ZERO ? 0 : 2;

	make_net(ctx, &a, FIX_DIM, 4, FIX_DIM);
	make_net(ctx, &b, f == NF_WRONG_INPUT ? FIX_DIM + 1 : FIX_DIM, 6,
			 f == NF_WRONG_OUTPUT || f == NF_ONE_WRONG_OUTPUT ? FIX_DIM - 1 : FIX_DIM);
	msgpack_pack_map(pk, f == NF_BOTH ? 2 : f == NF_NONE ? 0 : 1);
	if (f == NF_BOTH)
		an_pack_key_mlp(pk, "network", &a);
	if (f == NF_NONE)
		;
	else if (f == NF_ONE_WRONG_OUTPUT)
		an_pack_key_mlp(pk, "network", &b);
	else if (f == NF_ONE_NOT_MAP)
		an_pack_key_int(pk, "network", 3);
	else if (f == NF_NOT_ARRAY)
		an_pack_key_int(pk, "networks", 3);
	else
	{
		an_pack_str(pk, "networks");
		msgpack_pack_array(pk, n);
		for (int k = 0; k < n; k++)
		{
			if (k == 1 && f == NF_ELEMENT_NOT_MAP)
				an_pack_str(pk, "a network");
			else
				an_pack_mlp(pk, k == 1 ? &b : &a);
		}
	}
	an_mlp_free(ctx, &a);
	an_mlp_free(ctx, &b);
}

static AnStatus
decode_state(NetsFault f, AnContext *ctx, void **state)
{
	AnContext	pctx;
	AnBuffer	buf;
	AnPacker	pk;

	unit_context_malloc(&pctx);
	an_buffer_init(&buf, &pctx);
	an_packer_init(&pk, &buf);
	pack_state(&pctx, &pk, f);
	return fixture_decode_packed(ctx, ae(), &buf, FIX_DIM, state);
}

UNIT_TEST(ae_networks_decode_rejects_hostile_state)
{
	static const struct
	{
		NetsFault	fault;
		const char *message;
	}			cases[] = {
		{NF_ZERO, "1 to 16 networks"},
		{NF_TOO_MANY, "1 to 16 networks"},
		{NF_NOT_ARRAY, "1 to 16 networks"},
		{NF_BOTH, "both"},
		{NF_WRONG_INPUT, "input width"},
		{NF_WRONG_OUTPUT, "output width"},
		{NF_ELEMENT_NOT_MAP, "networks[1]"},
		{NF_NONE, "\"network\""},
		{NF_ONE_WRONG_OUTPUT, "output width"},
		{NF_ONE_NOT_MAP, "\"network\""},
	};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	void	   *state = NULL;
	float		row[FIX_DIM] = {0.5f, -1, 2, 0, 0.25f, 1, 0, 1, 0};
	double		score,
				s0,
				s1;

	unit_context_counting(&ctx, &counter);
	/* networks of different shapes, each d -> ... -> d, are a valid model */
	REQUIRE(decode_state(NF_GOOD_TWO, &ctx, &state) == AN_OK);
	ae()->score(state, row, 1, &score);
	CHECK(isfinite(score) && score > 0);
	/* the mean of the two networks' errors */
	{
		AnMlp		a,
					b;

		make_net(&ctx, &a, FIX_DIM, 4, FIX_DIM);
		make_net(&ctx, &b, FIX_DIM, 6, FIX_DIM);
		an_row_mse(an_mlp_forward(&a, row, 1), row, 1, FIX_DIM, &s0);
		an_row_mse(an_mlp_forward(&b, row, 1), row, 1, FIX_DIM, &s1);
		CHECK(fabs(score - (s0 + s1) / 2) <= 1e-6 * score);
		an_mlp_free(&ctx, &a);
		an_mlp_free(&ctx, &b);
	}
	ae()->destroy(&ctx, state);
	CHECK_NO_LEAKS(&counter);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		state = NULL;
		CHECK_STATUS(decode_state(cases[i].fault, &ctx, &state), AN_ERR_CORRUPT);
		CHECK_CONTAINS(ctx.errmsg, cases[i].message);
		CHECK(state == NULL);
		CHECK_NO_LEAKS(&counter);
	}
}

/* every allocation of training several networks may fail, and nothing leaks */
UNIT_TEST(ae_networks_out_of_memory_leaks_nothing)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	double	   *raw = fixture_rows(33, N_ROWS);
	AnModel		model;
	float	   *x = NULL;
	long		base,
				needed;

	unit_context_counting(&ctx, &counter);
	memset(&model, 0, sizeof(model));
	base = counter.n_allocs;
	REQUIRE(fit_networks(&ctx, &model, raw, 2, 7, &x) == AN_OK);
	needed = counter.n_allocs - base;
	free(x);
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);
	for (long k = 1; k <= needed; k += 3)
	{
		AnStatus	st;

		counter.fail_at = counter.n_allocs + k;
		memset(&model, 0, sizeof(model));
		x = NULL;
		st = fit_networks(&ctx, &model, raw, 2, 7, &x);
		counter.fail_at = 0;
		CHECK(st == AN_ERR_NOMEM || st == AN_OK);
		free(x);
		an_model_free(&ctx, &model);
		CHECK_NO_LEAKS(&counter);
	}

	/* and while a failed network is retrained */
	{
		AnModel		one[5];
		double		s1[5][N_ROWS],
					err[5];
		double	   *raw41 = fixture_rows(41, N_ROWS);
		uint64_t	seed = failing_seed(&ctx, raw41, 1, one, s1, err);

		REQUIRE(seed != 0);
		for (int k = 0; k < 5; k++)
			an_model_free(&ctx, &one[k]);
		base = counter.n_allocs;
		REQUIRE(fit_networks(&ctx, &model, raw41, 5, seed, &x) == AN_OK);
		needed = counter.n_allocs - base;
		free(x);
		an_model_free(&ctx, &model);
		for (long k = 1; k <= needed; k++)
		{
			AnStatus	st;

			counter.fail_at = counter.n_allocs + k;
			memset(&model, 0, sizeof(model));
			x = NULL;
			st = fit_networks(&ctx, &model, raw41, 5, seed, &x);
			counter.fail_at = 0;
			CHECK(st == AN_ERR_NOMEM || st == AN_OK);
			free(x);
			an_model_free(&ctx, &model);
			CHECK_NO_LEAKS(&counter);
		}
		free(raw41);
	}
	free(raw);
}
