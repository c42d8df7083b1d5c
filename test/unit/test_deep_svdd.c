/*-------------------------------------------------------------------------
 *
 * test_deep_svdd.c
 *	  Unit tests of Deep SVDD (method_deep_svdd.c): its options, gradient
 *	  checks of both training losses, the centre, the soft-boundary radius,
 *	  pretraining, detection, the stored layout and its validation.  The
 *	  round trip, allocation failures and seeds run in test_methods.c, for
 *	  the one-class default and soft boundary with pretraining.
 *
 * The gradient checks go through the method's own callbacks: train_batch
 * leaves the gradients of the batch loss at the weights it started from in
 * the parameter list (the Adam step is undone from a saved copy), and they
 * are compared with central differences of a double-precision
 * re-implementation of the loss (entries whose perturbation flips a ReLU
 * or the soft-boundary hinge are skipped), and of the method's eval_loss
 * itself in float32 for smooth networks.  Weight decay is Adam's business
 * (tested with Adam), so the checks run without it.
 *
 * IDENTIFICATION
 *	  test/unit/test_deep_svdd.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/pretrain.h"
#include "fixture.h"
#include "unit.h"

#define MAX_W		64			/* widest layer the reference handles */

static const AnMethod *
svdd(void)
{
	return an_method_lookup("deep_svdd");
}

/*
 * deep_svdd options for the fixture's 9 inputs: hidden [16], latent 4,
 * batch 64, the given epochs and seed, resolved for n rows.
 */
static AnStatus
svdd_options(AnContext *ctx, AnOptions *opts, int epochs, uint64_t seed, size_t n)
{
	static const double hidden[1] = {16};
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};

	AN_TRY(an_options_init(ctx, opts, svdd()));
	AN_TRY(an_options_set(ctx, opts, "hidden", &v));
	AN_TRY(unit_set_num(ctx, opts, "latent", 4));
	AN_TRY(unit_set_num(ctx, opts, "epochs", epochs));
	AN_TRY(unit_set_num(ctx, opts, "batch_size", 64));
	AN_TRY(unit_set_num(ctx, opts, "seed", (double) seed));
	an_options_resolve(opts, FIX_DIM, n);
	return AN_OK;
}

/* fixture rows (seed data_seed), spec, scaler and an_model_fit */
static AnStatus
svdd_fit(AnContext *ctx, AnModel *model, const AnOptions *opts, size_t n,
		 uint64_t data_seed, double **raw_out, float **x_out)
{
	double	   *raw = fixture_rows(data_seed, n);
	float	   *x = NULL;
	AnStatus	st;

	st = fixture_prepare(ctx, model, raw, n, AN_SCALER_STANDARD, &x);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, opts, x, n);
	if (raw_out)
		*raw_out = raw;
	else
		free(raw);
	if (x_out)
		*x_out = x;
	else
		free(x);
	return st;
}

/* ---- a double-precision reference of the encoder and both losses ---- */

typedef struct RefSvdd
{
	int			n_layers;
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	double	   *w[AN_MAX_LAYERS];	/* out x in, as AnDense */
	double		centre[MAX_W];
	double		r2;
	double		nu;
	bool		soft;
} RefSvdd;

/* encoder output of one row into out (latent) */
static void
ref_forward(const RefSvdd *ref, const double *x, double *out, uint64_t *h)
{
	double		a[MAX_W],
				b[MAX_W];
	const double *in = x;
	double	   *cur = a;

	for (int l = 0; l < ref->n_layers; l++)
	{
		int			di = ref->dims[l],
					dout = ref->dims[l + 1];
		bool		kinked = ref->acts[l] == AN_ACT_RELU || ref->acts[l] == AN_ACT_LEAKY_RELU;

		for (int o = 0; o < dout; o++)
		{
			double		z = 0.0;

			for (int i = 0; i < di; i++)
				z += ref->w[l][(size_t) o * di + i] * in[i];
			if (kinked && h)
				*h = (*h ^ (uint64_t) (z > 0)) * UINT64_C(1099511628211);
			cur[o] = fixture_activation(ref->acts[l], z);
		}
		in = cur;
		cur = cur == a ? b : a;
	}
	memcpy(out, in, sizeof(double) * ref->dims[ref->n_layers]);
}

/* the training loss on n rows, and a hash of every kink's side */
static double
ref_loss(const RefSvdd *ref, const double *x, int n, uint64_t *signs)
{
	int			latent = ref->dims[ref->n_layers];
	uint64_t	h = UINT64_C(1469598103934665603);
	double		sum = 0.0;

	for (int r = 0; r < n; r++)
	{
		double		z[MAX_W];
		double		d = 0.0;

		ref_forward(ref, x + (size_t) r * ref->dims[0], z, &h);
		for (int k = 0; k < latent; k++)
			d += (z[k] - ref->centre[k]) * (z[k] - ref->centre[k]);
		if (ref->soft)
		{
			h = (h ^ (uint64_t) (d > ref->r2)) * UINT64_C(1099511628211);
			sum += d > ref->r2 ? d - ref->r2 : 0.0;
		}
		else
			sum += d;
	}
	if (signs)
		*signs = h;
	return ref->soft ? ref->r2 + sum / (n * ref->nu) : sum / n;
}

/* the reference from a state's weights (the parameter list) and document */
static bool
ref_from_state(RefSvdd *ref, AnContext *ctx, void *state, const AnParamList *params)
{
	FixtureState doc;
	const AnObject *obj = fixture_state_object(ctx, svdd(), state, &doc);
	const AnObject *enc,
			   *layers;
	float		centre[MAX_W];
	double		radius = -1,
				nu = 0;
	bool		ok = obj != NULL;

	memset(ref, 0, sizeof(*ref));
	ok = ok && an_get_map(ctx, obj, "encoder", &enc) == AN_OK &&
		an_get_array(ctx, enc, "layers", &layers) == AN_OK;
	if (ok)
	{
		ref->n_layers = (int) layers->via.array.size;
		ok = ref->n_layers == params->n - 1;
	}
	for (int l = 0; ok && l < ref->n_layers; l++)
	{
		const AnObject *layer = &layers->via.array.ptr[l];
		int64_t		in,
					out;
		const AnObject *a = an_map_get(layer, "activation");
		char		name[32] = "";

		ok = an_get_int(ctx, layer, "in", 1, MAX_W, &in) == AN_OK &&
			an_get_int(ctx, layer, "out", 1, MAX_W, &out) == AN_OK &&
			a && a->type == MSGPACK_OBJECT_STR && a->via.str.size < sizeof(name) &&
			params->items[l].size == (size_t) (in * out);
		if (!ok)
			break;
		memcpy(name, a->via.str.ptr, a->via.str.size);
		ok = an_activation_parse(name, &ref->acts[l]);
		ref->dims[l] = (int) in;
		ref->dims[l + 1] = (int) out;
		ref->w[l] = malloc(sizeof(double) * in * out);
		for (int64_t i = 0; i < in * out; i++)
			ref->w[l][i] = params->items[l].value[i];
	}
	ok = ok && an_get_floats(ctx, obj, "centre", centre, ref->dims[ref->n_layers]) == AN_OK &&
		an_get_real(ctx, obj, "radius", &radius) == AN_OK &&
		an_get_real(ctx, obj, "nu", &nu) == AN_OK;
	if (ok)
	{
		const AnObject *o = an_map_get(obj, "objective");

		for (int k = 0; k < ref->dims[ref->n_layers]; k++)
			ref->centre[k] = centre[k];
		ref->r2 = radius * radius;
		ref->nu = nu;
		ref->soft = o && an_object_str_eq(o, "soft_boundary");
	}
	fixture_state_free(&doc);
	return ok;
}

static void
ref_free(RefSvdd *ref)
{
	for (int l = 0; l < ref->n_layers; l++)
		free(ref->w[l]);
}

/* ---- options ---- */

UNIT_TEST(deep_svdd_registered)
{
	REQUIRE(svdd() != NULL);
	CHECK_STR(svdd()->name, "deep_svdd");
	CHECK(svdd() == an_method_lookup("deep_svdd"));
	CHECK_CONTAINS(an_method_names(), "deep_svdd");
	/* the callbacks the epoch loop and the document need */
	CHECK(svdd()->create && svdd()->prepare && svdd()->train_batch &&
		  svdd()->eval_loss && svdd()->epoch_end && svdd()->params &&
		  svdd()->score && svdd()->encode && svdd()->decode && svdd()->destroy);
}

UNIT_TEST(deep_svdd_options_validated)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue b = {.kind = AN_OPTION_BOOL, .boolean = true};
	AnOptionValue nul = {.kind = AN_OPTION_NULL};

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, svdd()) == AN_OK);
	CHECK(opts.method_options != NULL);

	CHECK_ACCEPTED(&ctx, &opts, "objective", unit_str("soft_boundary"));
	CHECK_ACCEPTED(&ctx, &opts, "objective", unit_str("one_class"));
	CHECK_ACCEPTED(&ctx, &opts, "nu", unit_num(1));
	CHECK_ACCEPTED(&ctx, &opts, "nu", unit_num(0.001));
	CHECK_ACCEPTED(&ctx, &opts, "eps", unit_num(1e-9));
	CHECK_ACCEPTED(&ctx, &opts, "eps", unit_num(5));
	CHECK_ACCEPTED(&ctx, &opts, "pretrain_epochs", unit_num(0));
	CHECK_ACCEPTED(&ctx, &opts, "pretrain_epochs", unit_num(30));

	CHECK_REJECTED(&ctx, &opts, "objective", unit_str("hard_boundary"));
	CHECK_CONTAINS(ctx.errmsg, "one_class, soft_boundary");
	CHECK_REJECTED(&ctx, &opts, "objective", unit_num(1));
	CHECK_REJECTED(&ctx, &opts, "objective", nul);
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(0));
	CHECK_CONTAINS(ctx.errmsg, "(0, 1]");
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(-0.1));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(1.0001));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(NAN));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_str("0.1"));
	CHECK_REJECTED(&ctx, &opts, "eps", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "eps", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "eps", unit_num(INFINITY));
	CHECK_REJECTED(&ctx, &opts, "eps", b);
	CHECK_REJECTED(&ctx, &opts, "pretrain_epochs", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "pretrain_epochs", unit_num(1.5));
	CHECK_REJECTED(&ctx, &opts, "pretrain_epochs", unit_num(1e9));
	CHECK_REJECTED(&ctx, &opts, "pretrain_epochs", unit_str("3"));
	/* a key neither the common options nor deep_svdd know */
	CHECK_REJECTED(&ctx, &opts, "radius", unit_num(1));
	CHECK_CONTAINS(ctx.errmsg, "deep_svdd");
	/* deep_svdd's keys mean nothing to the autoencoder */
	an_options_free(&ctx, &opts);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("autoencoder")) == AN_OK);
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(0.1));
	an_options_free(&ctx, &opts);
}

/* the defaults, and set values, as the stored state shows them */
UNIT_TEST(deep_svdd_option_defaults_and_effect)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};

	unit_context_counting(&ctx, &counter);
	for (int variant = 0; variant < 2; variant++)
	{
		AnOptions	opts;
		AnModel		model;
		FixtureState doc;
		const AnObject *st;
		double		nu = -1,
					eps = -1,
					radius = -1;

		REQUIRE(svdd_options(&ctx, &opts, 3, 7, 300) == AN_OK);
		if (variant == 1)
		{
			REQUIRE(unit_set_str(&ctx, &opts, "objective", "soft_boundary") == AN_OK);
			REQUIRE(unit_set_num(&ctx, &opts, "nu", 0.25) == AN_OK);
			REQUIRE(unit_set_num(&ctx, &opts, "eps", 0.5) == AN_OK);
		}
		REQUIRE(svdd_fit(&ctx, &model, &opts, 300, 70, NULL, NULL) == AN_OK);
		st = fixture_state_object(&ctx, svdd(), model.state, &doc);
		REQUIRE(st != NULL);
		CHECK(st->type == MSGPACK_OBJECT_MAP && st->via.map.size == 6);
		CHECK(an_object_str_eq(an_map_get(st, "objective"),
							   variant ? "soft_boundary" : "one_class"));
		CHECK(an_get_real(&ctx, st, "nu", &nu) == AN_OK);
		CHECK(an_get_real(&ctx, st, "eps", &eps) == AN_OK);
		CHECK(an_get_real(&ctx, st, "radius", &radius) == AN_OK);
		CHECK(nu == (variant ? 0.25 : 0.1));
		CHECK(eps == (variant ? 0.5 : 0.1));
		/* one_class has no radius; soft_boundary fitted one */
		CHECK(variant ? radius > 0 : radius == 0);
		fixture_state_free(&doc);
		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
	}
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(deep_svdd_rejects_bounded_activations)
{
	static const char *const bounded[] = {"sigmoid", "tanh"};
	static const char *const unbounded[] = {"relu", "leaky_relu", "identity"};
	AnContext	ctx;
	UnitAlloc	counter = {0};

	unit_context_counting(&ctx, &counter);
	for (int i = 0; i < 2; i++)
	{
		AnOptions	opts;
		AnModel		model;

		REQUIRE(svdd_options(&ctx, &opts, 1, 3, 100) == AN_OK);
		REQUIRE(unit_set_str(&ctx, &opts, "activation", bounded[i]) == AN_OK);
		ctx.errmsg[0] = '\0';
		CHECK_STATUS(svdd_fit(&ctx, &model, &opts, 100, 4, NULL, NULL), AN_ERR_INVALID);
		CHECK_CONTAINS(ctx.errmsg, "\"activation\"");
		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
	}
	for (int i = 0; i < 3; i++)
	{
		AnOptions	opts;
		AnModel		model;

		REQUIRE(svdd_options(&ctx, &opts, 1, 3, 100) == AN_OK);
		REQUIRE(unit_set_str(&ctx, &opts, "activation", unbounded[i]) == AN_OK);
		CHECK_STATUS(svdd_fit(&ctx, &model, &opts, 100, 4, NULL, NULL), AN_OK);
		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
	}
	CHECK_NO_LEAKS(&counter);
}

/* ---- gradients ---- */

/*
 * One train_batch on the first N of 200 fixture rows, with hidden [8, 6],
 * latent 3; its gradients against central differences of the double
 * reference (kinked networks) and of eval_loss in float32 (identity).
 */
static void
svdd_gradcheck(AnActivation act, bool soft, uint64_t seed)
{
	enum
	{
		NROWS = 200, N = 16
	};
	static const double hidden[2] = {8, 6};
	AnOptionValue hv = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 2};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	AnModel		holder;
	AnRng		rng;
	AnParamList params;
	RefSvdd		ref;
	void	   *state = NULL;
	double	   *raw = fixture_rows(seed, NROWS);
	float	   *x = NULL;
	double		xd[N * FIX_DIM];
	float	   *w0,
			   *g;
	size_t		total;
	double		loss,
				num;
	UnitGradStats	sref = {0},
				sfloat = {0};
	char		what[64];

	unit_context_counting(&ctx, &counter);
	REQUIRE(fixture_prepare(&ctx, &holder, raw, NROWS, AN_SCALER_STANDARD, &x) == AN_OK);
	REQUIRE(an_options_init(&ctx, &opts, svdd()) == AN_OK);
	REQUIRE(an_options_set(&ctx, &opts, "hidden", &hv) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "latent", 3) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "batch_size", N) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "epochs", 5) == AN_OK);	/* no warm-up */
	REQUIRE(unit_set_num(&ctx, &opts, "weight_decay", 0) == AN_OK);
	REQUIRE(unit_set_str(&ctx, &opts, "activation", an_activation_name(act)) == AN_OK);
	if (soft)
	{
		REQUIRE(unit_set_str(&ctx, &opts, "objective", "soft_boundary") == AN_OK);
		/* half the rows outside the sphere: half the gradients nonzero */
		REQUIRE(unit_set_num(&ctx, &opts, "nu", 0.5) == AN_OK);
	}
	an_options_resolve(&opts, FIX_DIM, NROWS);

	an_rng_seed(&rng, seed);
	REQUIRE(svdd()->create(&ctx, &opts, FIX_DIM, &rng, &state) == AN_OK);
	REQUIRE(svdd()->prepare(&ctx, state, &opts, x, NROWS, &rng) == AN_OK);
	if (soft)
		REQUIRE(svdd()->epoch_end(&ctx, state, x, NROWS) == AN_OK);

	memset(&params, 0, sizeof(params));
	svdd()->params(state, &params);
	/* two weight matrices and a bias-free latent layer, then the radius */
	REQUIRE(params.n == 4);
	REQUIRE(params.items[3].size == 1);
	CHECK(soft ? *params.items[3].value > 0 : *params.items[3].value == 0);
	total = an_params_total(&params);
	w0 = malloc(total * sizeof(float));
	g = malloc(total * sizeof(float));
	an_params_save(&params, w0);

	loss = svdd()->train_batch(state, x, N, &rng);
	{
		size_t		k = 0;

		for (int p = 0; p < params.n; p++)
			for (size_t i = 0; i < params.items[p].size; i++)
				g[k++] = params.items[p].grad[i];
	}
	/* the radius is not trained by gradient; the step changed the weights */
	CHECK(g[total - 1] == 0.0f);
	CHECK(memcmp(params.items[0].value, w0, params.items[0].size * sizeof(float)) != 0);
	an_params_restore(&params, w0);

	/* the batch loss is the validation loss on the same rows */
	CHECK_CLOSE(svdd()->eval_loss(state, x, N), loss, 1e-12, 0);

	REQUIRE(ref_from_state(&ref, &ctx, state, &params));
	CHECK(ref.soft == soft);
	for (int i = 0; i < N * FIX_DIM; i++)
		xd[i] = x[i];
	CHECK_CLOSE(ref_loss(&ref, xd, N, NULL), loss, 1e-5, 1e-7);

	{
		size_t		k = 0;

		for (int l = 0; l < ref.n_layers; l++)
		{
			for (int i = 0; i < ref.dims[l] * ref.dims[l + 1]; i++, k++)
			{
				double		p0 = ref.w[l][i],
							lp,
							lm;
				uint64_t	hp,
							hm;

				ref.w[l][i] = p0 + 1e-6;
				lp = ref_loss(&ref, xd, N, &hp);
				ref.w[l][i] = p0 - 1e-6;
				lm = ref_loss(&ref, xd, N, &hm);
				ref.w[l][i] = p0;
				if (hp != hm)
				{
					sref.skipped++;
					continue;
				}
				unit_grad_compare(&sref, g[k], (lp - lm) / 2e-6, 1e-3, 1e-5);
			}
		}
		CHECK(k == total - 1);
	}
	snprintf(what, sizeof(what), "deep_svdd %s %s", soft ? "soft_boundary" : "one_class",
			 an_activation_name(act));
	unit_grad_report(what, &sref, 1e-4);

	/* float32 central differences of eval_loss, the code itself (smooth) */
	if (act == AN_ACT_IDENTITY)
	{
		size_t		k = 0;

		for (int p = 0; p < params.n - 1; p++)
		{
			for (size_t i = 0; i < params.items[p].size; i++, k++)
			{
				float	   *v = &params.items[p].value[i];
				float		p0 = *v,
							pp = (float) (p0 + 1e-3),
							pm = (float) (p0 - 1e-3);
				double		lp,
							lm;

				*v = pp;
				lp = svdd()->eval_loss(state, x, N);
				*v = pm;
				lm = svdd()->eval_loss(state, x, N);
				*v = p0;
				num = (lp - lm) / ((double) pp - (double) pm);
				unit_grad_compare(&sfloat, g[k], num, 1e-2, 2e-3);
			}
		}
		unit_grad_report(what, &sfloat, 1e-2);
	}

	ref_free(&ref);
	free(w0);
	free(g);
	svdd()->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	an_model_free(&ctx, &holder);
	CHECK_NO_LEAKS(&counter);
	free(raw);
	free(x);
}

UNIT_TEST(deep_svdd_gradcheck_one_class)
{
	svdd_gradcheck(AN_ACT_RELU, false, 31);
	svdd_gradcheck(AN_ACT_LEAKY_RELU, false, 32);
	svdd_gradcheck(AN_ACT_IDENTITY, false, 33);
}

UNIT_TEST(deep_svdd_gradcheck_soft_boundary)
{
	svdd_gradcheck(AN_ACT_RELU, true, 34);
	svdd_gradcheck(AN_ACT_LEAKY_RELU, true, 35);
	svdd_gradcheck(AN_ACT_IDENTITY, true, 36);
}

/* ---- the centre ---- */

/*
 * The centre is the mean initial encoder output, with coordinates within
 * eps of zero pushed to +-eps by sign and an exact zero to +eps.
 */
UNIT_TEST(deep_svdd_centre)
{
	enum
	{
		NROWS = 300
	};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		holder;
	double	   *raw = fixture_rows(51, NROWS);
	float	   *x = NULL;
	double	   *xd = malloc(sizeof(double) * NROWS * FIX_DIM);

	unit_context_counting(&ctx, &counter);
	REQUIRE(fixture_prepare(&ctx, &holder, raw, NROWS, AN_SCALER_STANDARD, &x) == AN_OK);
	for (int i = 0; i < NROWS * FIX_DIM; i++)
		xd[i] = x[i];

	for (int variant = 0; variant < 3; variant++)
	{
		/* eps tiny: the plain mean; eps huge: every coordinate pushed */
		double		eps = variant == 0 ? 1e-12 : variant == 1 ? 0.1 : 1000.0;
		AnOptions	opts;
		AnRng		rng;
		AnParamList params;
		RefSvdd		ref;
		void	   *state = NULL;
		double		mean[MAX_W] = {0};
		double		radius0;
		int			latent;
		int			pushed = 0;

		REQUIRE(svdd_options(&ctx, &opts, 1, 52, NROWS) == AN_OK);
		REQUIRE(unit_set_num(&ctx, &opts, "eps", eps) == AN_OK);
		an_rng_seed(&rng, 53);
		REQUIRE(svdd()->create(&ctx, &opts, FIX_DIM, &rng, &state) == AN_OK);
		memset(&params, 0, sizeof(params));
		svdd()->params(state, &params);
		REQUIRE(params.n == 3);
		latent = opts.latent;
		/* latent coordinate 0 is exactly zero for every row */
		memset(params.items[1].value, 0, sizeof(float) * params.items[1].size / latent);
		REQUIRE(svdd()->prepare(&ctx, state, &opts, x, NROWS, &rng) == AN_OK);
		REQUIRE(ref_from_state(&ref, &ctx, state, &params));
		radius0 = sqrt(ref.r2);
		CHECK(radius0 == 0);

		for (int r = 0; r < NROWS; r++)
		{
			double		z[MAX_W];

			ref_forward(&ref, xd + (size_t) r * FIX_DIM, z, NULL);
			for (int k = 0; k < latent; k++)
				mean[k] += z[k] / NROWS;
		}
		CHECK(mean[0] == 0);
		CHECK(ref.centre[0] == (double) (float) eps);
		for (int k = 1; k < latent; k++)
		{
			if (fabs(mean[k]) < eps)
			{
				pushed++;
				CHECK(ref.centre[k] == (double) (float) (mean[k] < 0 ? -eps : eps));
			}
			else
				CHECK_CLOSE(ref.centre[k], mean[k], 1e-5, 1e-7);
		}
		if (variant == 0)
			CHECK(pushed == 0);
		if (variant == 2)
			CHECK(pushed == latent - 1);
		ref_free(&ref);
		svdd()->destroy(&ctx, state);
		an_options_free(&ctx, &opts);
	}
	an_model_free(&ctx, &holder);
	CHECK_NO_LEAKS(&counter);
	free(raw);
	free(x);
	free(xd);
}

/* ---- soft boundary: warm-up, then R = the (1 - nu) quantile ---- */

UNIT_TEST(deep_svdd_soft_boundary_radius)
{
	enum
	{
		NROWS = 400
	};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		holder;
	AnOptions	opts;
	AnRng		rng;
	AnParamList params;
	void	   *state = NULL;
	double	   *raw = fixture_rows(61, NROWS);
	float	   *x = NULL;
	double		scores[AN_SCORE_BATCH];
	float		r;
	int			inside = 0;

	unit_context_counting(&ctx, &counter);
	REQUIRE(fixture_prepare(&ctx, &holder, raw, NROWS, AN_SCALER_STANDARD, &x) == AN_OK);
	/* 30 epochs: a warm-up of 3 */
	REQUIRE(svdd_options(&ctx, &opts, 30, 62, NROWS) == AN_OK);
	REQUIRE(unit_set_str(&ctx, &opts, "objective", "soft_boundary") == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "nu", 0.2) == AN_OK);
	an_rng_seed(&rng, 63);
	REQUIRE(svdd()->create(&ctx, &opts, FIX_DIM, &rng, &state) == AN_OK);
	REQUIRE(svdd()->prepare(&ctx, state, &opts, x, NROWS, &rng) == AN_OK);
	memset(&params, 0, sizeof(params));
	svdd()->params(state, &params);
	for (int e = 1; e <= 3; e++)
	{
		REQUIRE(svdd()->epoch_end(&ctx, state, x, NROWS) == AN_OK);
		CHECK(*params.items[params.n - 1].value == 0);
	}
	REQUIRE(svdd()->epoch_end(&ctx, state, x, NROWS) == AN_OK);
	r = *params.items[params.n - 1].value;
	CHECK(r > 0);

	/*
	 * score = d - R^2 <= 0 inside the sphere: the linear-interpolation
	 * quantile at 0.8 of 400 rows lies between order statistics 320 and
	 * 321, so exactly 320 rows are inside.
	 */
	for (int i = 0; i < NROWS; i += AN_SCORE_BATCH)
	{
		int			m = NROWS - i < AN_SCORE_BATCH ? NROWS - i : AN_SCORE_BATCH;

		svdd()->score(state, x + (size_t) i * FIX_DIM, m, scores);
		for (int k = 0; k < m; k++)
			inside += scores[k] <= 0;
	}
	CHECK(inside == 320);

	/* the soft-boundary loss at this R is the validation loss */
	{
		double		sum = 0,
					l;

		for (int i = 0; i < NROWS; i += AN_SCORE_BATCH)
		{
			int			m = NROWS - i < AN_SCORE_BATCH ? NROWS - i : AN_SCORE_BATCH;

			svdd()->score(state, x + (size_t) i * FIX_DIM, m, scores);
			for (int k = 0; k < m; k++)
				sum += fmax(scores[k], 0.0);
		}
		l = (double) r * r + sum / (NROWS * 0.2);
		CHECK_CLOSE(svdd()->eval_loss(state, x, NROWS), l, 1e-9, 0);
	}
	svdd()->destroy(&ctx, state);
	an_options_free(&ctx, &opts);
	an_model_free(&ctx, &holder);
	CHECK_NO_LEAKS(&counter);
	free(raw);
	free(x);
}

/* ---- training ---- */

typedef struct Progress
{
	UnitAlloc	counter;		/* first: the allocator's arg */
	int			n;
	int			pretrain;
	AnEpochReport reports[FIX_MAX_EPOCHS];
} Progress;

static void
record(void *arg, const AnEpochReport *r)
{
	Progress   *p = arg;

	if (strcmp(r->phase, "pretrain") == 0)
		p->pretrain++;
	else if (p->n < FIX_MAX_EPOCHS)
		p->reports[p->n++] = *r;
}

UNIT_TEST(deep_svdd_training_reduces_loss)
{
	for (int soft = 0; soft <= 1; soft++)
	{
		AnContext	ctx;
		Progress	prog = {{0}};
		AnOptions	opts;
		AnModel		model;
		float	   *x = NULL;
		double		best = INFINITY;

		unit_context_counting(&ctx, &prog.counter);
		ctx.arg = &prog;
		ctx.progress = record;
		REQUIRE(svdd_options(&ctx, &opts, 20, 81, 1000) == AN_OK);
		if (soft)
		{
			REQUIRE(unit_set_str(&ctx, &opts, "objective", "soft_boundary") == AN_OK);
			/* stop early, so that an earlier epoch is restored */
			REQUIRE(unit_set_num(&ctx, &opts, "epochs", 100) == AN_OK);
			REQUIRE(unit_set_num(&ctx, &opts, "early_stopping_patience", 2) == AN_OK);
			REQUIRE(unit_set_num(&ctx, &opts, "learning_rate", 0.01) == AN_OK);
		}
		REQUIRE(svdd_fit(&ctx, &model, &opts, 1000, 82, NULL, &x) == AN_OK);
		REQUIRE(prog.n >= 5);
		CHECK(prog.pretrain == 0);
		for (int i = 0; i < prog.n; i++)
		{
			CHECK_STR(prog.reports[i].phase, "train");
			CHECK(isfinite(prog.reports[i].train_loss) && prog.reports[i].train_loss > 0);
			CHECK(isfinite(prog.reports[i].val_loss));
			if (prog.reports[i].val_loss < best)
				best = prog.reports[i].val_loss;
		}
		/* the encoder contracts the data around c */
		CHECK(prog.reports[prog.n - 1].train_loss < 0.5 * prog.reports[0].train_loss);
		CHECK(best < 0.5 * prog.reports[0].val_loss);
		CHECK(model.loss == best);
		CHECK(model.method == an_method_lookup("deep_svdd"));

		/*
		 * The radius was restored with the best epoch's weights, for which
		 * it was fitted: the 0.9 quantile of 1000 distances lies between
		 * order statistics 900 and 901, so 900 rows are inside the sphere.
		 */
		if (soft)
		{
			double	   *scores = malloc(1000 * sizeof(double));

			CHECK(model.epochs_run < 100);
			CHECK(!prog.reports[prog.n - 1].improved);
			int			inside = 0;

			an_model_score_scaled(&model, x, 1000, scores);
			for (int i = 0; i < 1000; i++)
				inside += scores[i] <= 0;
			CHECK(inside == 900);
			free(scores);
		}
		free(x);
		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
		CHECK_NO_LEAKS(&prog.counter);
	}
}

/*
 * Pretraining: the encoder starts from the pretrained autoencoder's
 * encoder (bit for bit), and the progress reports name both phases.
 */
UNIT_TEST(deep_svdd_pretraining)
{
	enum
	{
		NROWS = 300
	};
	AnContext	ctx;
	Progress	prog = {{0}};
	AnModel		holder,
				model;
	AnOptions	opts;
	AnRng		rng,
				rng2;
	AnParamList params;
	AnMlp		dummy,
				enc;
	void	   *state = NULL;
	double	   *raw = fixture_rows(91, NROWS);
	float	   *x = NULL;
	int			dims[3] = {FIX_DIM, 16, 4};
	AnActivation acts[2] = {AN_ACT_RELU, AN_ACT_IDENTITY};

	unit_context_counting(&ctx, &prog.counter);
	ctx.arg = &prog;
	ctx.progress = record;
	REQUIRE(fixture_prepare(&ctx, &holder, raw, NROWS, AN_SCALER_STANDARD, &x) == AN_OK);
	REQUIRE(svdd_options(&ctx, &opts, 4, 92, NROWS) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "pretrain_epochs", 3) == AN_OK);

	an_rng_seed(&rng, 93);
	REQUIRE(svdd()->create(&ctx, &opts, FIX_DIM, &rng, &state) == AN_OK);
	REQUIRE(svdd()->prepare(&ctx, state, &opts, x, NROWS, &rng) == AN_OK);
	CHECK(prog.pretrain == 3 && prog.n == 0);

	/* the same draws: the initial encoder, then the autoencoder */
	an_rng_seed(&rng2, 93);
	REQUIRE(an_mlp_create(&ctx, &dummy, 2, dims, acts, false, false, 1) == AN_OK);
	an_mlp_init(&dummy, &rng2);
	REQUIRE(an_autoencoder_pretrain(&ctx, &opts, 3, AN_ACT_IDENTITY, false, x, NROWS,
									FIX_DIM, &rng2, false, 1, &enc) == AN_OK);
	memset(&params, 0, sizeof(params));
	svdd()->params(state, &params);
	REQUIRE(params.n == 3);
	for (int l = 0; l < 2; l++)
	{
		size_t		sz = (size_t) dims[l] * dims[l + 1];

		REQUIRE(params.items[l].size == sz);
		CHECK(memcmp(params.items[l].value, enc.layers[l].w, sz * sizeof(float)) == 0);
		/* and not the initial draws */
		CHECK(memcmp(params.items[l].value, dummy.layers[l].w, sz * sizeof(float)) != 0);
	}
	an_mlp_free(&ctx, &dummy);
	an_mlp_free(&ctx, &enc);
	svdd()->destroy(&ctx, state);

	/* through an_model_fit: pretrain epochs first, then train */
	prog.pretrain = prog.n = 0;
	REQUIRE(svdd_fit(&ctx, &model, &opts, NROWS, 94, NULL, NULL) == AN_OK);
	CHECK(prog.pretrain == 3);
	CHECK(prog.n == model.epochs_run && prog.n >= 1);
	an_model_free(&ctx, &model);

	an_options_free(&ctx, &opts);
	an_model_free(&ctx, &holder);
	CHECK_NO_LEAKS(&prog.counter);
	free(raw);
	free(x);
}

/* ---- detection ---- */

UNIT_TEST(deep_svdd_detects_outliers)
{
	enum
	{
		NROWS = 2000, N_OUT = 50
	};

	for (int soft = 0; soft <= 1; soft++)
	{
		AnContext	ctx;
		AnOptions	opts;
		AnModel		model;
		double	   *out = fixture_outliers(101, N_OUT);
		double	   *normal = fixture_rows(102, N_OUT);
		double		so[N_OUT],
					sn[N_OUT];
		int			flagged = 0,
					normal_flagged = 0;

		unit_context_malloc(&ctx);
		REQUIRE(svdd_options(&ctx, &opts, 30, 103, NROWS) == AN_OK);
		if (soft)
			REQUIRE(unit_set_str(&ctx, &opts, "objective", "soft_boundary") == AN_OK);
		REQUIRE(svdd_fit(&ctx, &model, &opts, NROWS, 104, NULL, NULL) == AN_OK);
		an_model_score_raw(&model, out, N_OUT, so);
		an_model_score_raw(&model, normal, N_OUT, sn);
		for (int i = 0; i < N_OUT; i++)
		{
			flagged += so[i] > model.threshold;
			normal_flagged += sn[i] > model.threshold;
		}
		CHECK(flagged == N_OUT);
		CHECK(normal_flagged <= 3);
		/* soft boundary: the threshold lies outside the sphere */
		if (soft)
			CHECK(model.threshold > 0 && model.quantiles[50] < 0);
		else
			CHECK(model.quantiles[0] >= 0);
		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
		free(out);
		free(normal);
	}
}

/* ---- the stored document ---- */

/* the round trip itself, for both objectives: test_methods.c */
UNIT_TEST(deep_svdd_stored_layout)
{
	for (int soft = 0; soft <= 1; soft++)
	{
		AnContext	ctx;
		UnitAlloc	counter = {0};
		AnOptions	opts;
		AnModel		model;
		FixtureState doc;
		const AnObject *st,
				   *enc,
				   *layers;

		unit_context_counting(&ctx, &counter);
		REQUIRE(svdd_options(&ctx, &opts, 5, 122, 600) == AN_OK);
		if (soft)
			REQUIRE(unit_set_str(&ctx, &opts, "objective", "soft_boundary") == AN_OK);
		REQUIRE(svdd_fit(&ctx, &model, &opts, 600, 123, NULL, NULL) == AN_OK);

		/* the layout: an encoder 9 -> 16 -> 4 without bias, a 4-float centre */
		st = fixture_state_object(&ctx, svdd(), model.state, &doc);
		REQUIRE(st != NULL);
		REQUIRE(an_get_map(&ctx, st, "encoder", &enc) == AN_OK);
		REQUIRE(an_get_array(&ctx, enc, "layers", &layers) == AN_OK);
		CHECK(layers->via.array.size == 2);
		for (uint32_t l = 0; l < layers->via.array.size && l < 2; l++)
		{
			const AnObject *layer = &layers->via.array.ptr[l];

			CHECK(an_map_get(layer, "bias") == NULL);
			CHECK(an_object_str_eq(an_map_get(layer, "activation"),
								   l == 1 ? "identity" : "relu"));
		}
		{
			const AnObject *c = an_map_get(st, "centre");
			float		centre[4];

			CHECK(c && c->type == MSGPACK_OBJECT_BIN && c->via.bin.size == 16);
			CHECK(an_get_floats(&ctx, st, "centre", centre, 4) == AN_OK);
			for (int k = 0; k < 4; k++)
				CHECK(fabsf(centre[k]) >= 0.1f);
		}
		fixture_state_free(&doc);

		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
		CHECK_NO_LEAKS(&counter);
	}
}

/*
 * Hand-built state maps: a valid one, then one fault at a time.  Each
 * fault must give AN_ERR_CORRUPT naming the field, and leak nothing.
 */
typedef enum StateFault
{
	SF_NONE = 0,
	SF_NO_OBJECTIVE,
	SF_BAD_OBJECTIVE,
	SF_OBJECTIVE_NOT_STR,
	SF_NO_ENCODER,
	SF_ENCODER_BIAS,
	SF_ENCODER_INPUT,
	SF_ENCODER_LATENT_ACT,
	SF_ENCODER_BOUNDED,
	SF_ENCODER_NAN,
	SF_NO_CENTRE,
	SF_CENTRE_SHORT,
	SF_CENTRE_LONG,
	SF_CENTRE_NAN,
	SF_CENTRE_NOT_BIN,
	SF_NO_RADIUS,
	SF_RADIUS_NAN,
	SF_RADIUS_NEGATIVE,
	SF_RADIUS_ONE_CLASS,
	SF_NO_NU,
	SF_NU_ZERO,
	SF_NU_BIG,
	SF_NO_EPS,
	SF_EPS_ZERO,
	SF_COUNT
} StateFault;

static const char *const fault_field[SF_COUNT] = {
	"", "objective", "objective", "objective", "encoder", "encoder", "encoder",
	"encoder", "encoder", "weight", "centre", "centre", "centre", "centre", "centre",
	"radius", "radius", "radius", "radius", "nu", "nu", "nu", "eps", "eps"
};

static void
pack_layer(AnPacker *pk, int in, int out, const char *act, bool bias, bool nan_weight)
{
	float		w[128];

	for (int i = 0; i < in * out; i++)
		w[i] = 0.05f * (float) ((i * 7) % 11 - 5);
	if (nan_weight)
		w[3] = NAN;
	msgpack_pack_map(pk, bias ? 5 : 4);
	an_pack_key_int(pk, "in", in);
	an_pack_key_int(pk, "out", out);
	an_pack_key_str(pk, "activation", act);
	an_pack_key_floats(pk, "weight", w, (size_t) in * out);
	if (bias)
		an_pack_key_floats(pk, "bias", w, out);
}

/* a state for FIX_DIM inputs, hidden 8, latent 3, soft_boundary */
static void
pack_state(AnPacker *pk, StateFault f)
{
	static const float centre[4] = {0.5f, -0.1f, 0.1f, 0.2f};
	int			n = 6;

	n -= f == SF_NO_OBJECTIVE || f == SF_NO_ENCODER || f == SF_NO_CENTRE ||
		f == SF_NO_RADIUS || f == SF_NO_NU || f == SF_NO_EPS;
	msgpack_pack_map(pk, n);
	if (f == SF_OBJECTIVE_NOT_STR)
		an_pack_key_int(pk, "objective", 1);
	else if (f != SF_NO_OBJECTIVE)
		an_pack_key_str(pk, "objective",
						f == SF_BAD_OBJECTIVE ? "two_class" :
						f == SF_RADIUS_ONE_CLASS ? "one_class" : "soft_boundary");
	if (f != SF_NO_ENCODER)
	{
		an_pack_str(pk, "encoder");
		msgpack_pack_map(pk, 1);
		an_pack_str(pk, "layers");
		msgpack_pack_array(pk, 2);
		pack_layer(pk, f == SF_ENCODER_INPUT ? FIX_DIM + 1 : FIX_DIM, 8,
				   f == SF_ENCODER_BOUNDED ? "tanh" : "relu", f == SF_ENCODER_BIAS,
				   f == SF_ENCODER_NAN);
		pack_layer(pk, 8, 3, f == SF_ENCODER_LATENT_ACT ? "relu" : "identity",
				   f == SF_ENCODER_BIAS, false);
	}
	if (f == SF_CENTRE_NOT_BIN)
	{
		static const double c[3] = {0.5, -0.1, 0.1};

		an_pack_key_reals(pk, "centre", c, 3);
	}
	else if (f == SF_CENTRE_NAN)
	{
		float		c[3] = {0.5f, NAN, 0.1f};

		an_pack_key_floats(pk, "centre", c, 3);
	}
	else if (f != SF_NO_CENTRE)
		an_pack_key_floats(pk, "centre", centre,
						   f == SF_CENTRE_SHORT ? 2 : f == SF_CENTRE_LONG ? 4 : 3);
	if (f != SF_NO_RADIUS)
		an_pack_key_real(pk, "radius", f == SF_RADIUS_NAN ? NAN :
						 f == SF_RADIUS_NEGATIVE ? -1.0 : 0.75);
	if (f != SF_NO_NU)
		an_pack_key_real(pk, "nu", f == SF_NU_ZERO ? 0.0 : f == SF_NU_BIG ? 1.5 : 0.1);
	if (f != SF_NO_EPS)
		an_pack_key_real(pk, "eps", f == SF_EPS_ZERO ? 0.0 : 0.1);
}

static AnStatus
decode_state(StateFault f, UnitAlloc *counter, AnContext *ctx, void **state)
{
	AnContext	pctx;
	AnBuffer	buf;
	AnPacker	pk;

	unit_context_malloc(&pctx);
	an_buffer_init(&buf, &pctx);
	an_packer_init(&pk, &buf);
	pack_state(&pk, f);
	unit_context_counting(ctx, counter);
	return fixture_decode_packed(ctx, svdd(), &buf, FIX_DIM, state);
}

UNIT_TEST(deep_svdd_decode_rejects_corrupt_state)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	void	   *state = NULL;
	float		x[FIX_DIM] = {0.5f, -1, 2, 0, 0.25f, 1, 0, 1, 0};
	double		score = NAN;

	/* the valid state decodes and scores */
	CHECK_STATUS(decode_state(SF_NONE, &counter, &ctx, &state), AN_OK);
	REQUIRE(state != NULL);
	svdd()->score(state, x, 1, &score);
	CHECK(isfinite(score));
	svdd()->destroy(&ctx, state);
	CHECK_NO_LEAKS(&counter);

	for (int f = SF_NONE + 1; f < SF_COUNT; f++)
	{
		char		quoted[32];

		memset(&counter, 0, sizeof(counter));
		state = NULL;
		ctx.errmsg[0] = '\0';
		if (decode_state((StateFault) f, &counter, &ctx, &state) != AN_ERR_CORRUPT)
		{
			unit_fail(__FILE__, __LINE__, "state fault %d was not refused as corrupt", f);
			if (state)
				svdd()->destroy(&ctx, state);
			continue;
		}
		snprintf(quoted, sizeof(quoted), "%s", fault_field[f]);
		if (!strstr(ctx.errmsg, quoted))
			unit_fail(__FILE__, __LINE__, "fault %d: \"%s\" does not name %s",
					  f, ctx.errmsg, quoted);
		if (counter.outstanding != 0 || counter.bad_frees != 0)
			unit_fail(__FILE__, __LINE__, "fault %d: %ld allocations leaked", f,
					  counter.outstanding);
	}
}

/* deep_svdd trains 5 epochs unless told otherwise; the autoencoder keeps the generic rule */
UNIT_TEST(svdd_default_epochs)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v = {.kind = AN_OPTION_NUMBER, .number = 12};

	an_context_init_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("deep_svdd")) == AN_OK);
	an_options_resolve(&opts, 10, 5000);
	CHECK(opts.epochs == 5);
	an_options_free(&ctx, &opts);

	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("deep_svdd")) == AN_OK);
	REQUIRE(an_options_set(&ctx, &opts, "epochs", &v) == AN_OK);
	an_options_resolve(&opts, 10, 5000);
	CHECK(opts.epochs == 12);
	an_options_free(&ctx, &opts);

	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("autoencoder")) == AN_OK);
	an_options_resolve(&opts, 10, 5000);
	CHECK(opts.epochs != 5 && opts.epochs >= 5);
	an_options_free(&ctx, &opts);
}
