/*-------------------------------------------------------------------------
 *
 * test_vae.c
 *	  Unit tests of the variational autoencoder (method_vae.c): gradients
 *	  of the whole training loss, the loss and score definitions, training,
 *	  options, the decoder's checks of its stored state, and detection
 *	  (round trip, damage, memory and seeds: test_methods.c).
 *
 * The method is driven only through its AnMethod interface.  Gradients
 * are checked two ways: against a double-precision re-implementation of
 * the documented loss (ReLU, entries whose perturbation moves a ReLU
 * across its kink skipped), and by float32 central differences of the
 * method's own loss (tanh, with log variances held beyond the clamp).
 * The loss of a step is train_batch's return value, computed before the
 * optimiser moves the weights; the weights are restored after each call,
 * and the sampling noise is replayed from a copy of the generator.
 *
 * IDENTIFICATION
 *	  test/unit/test_vae.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

#define LOGVAR_LIMIT 15.0		/* the clamp of method_vae.c */

/*
 * VAE options for the fixture: hidden [16], latent 3, batches of 64,
 * learning rate 0.01; beta < 0 and score NULL keep the method's defaults.
 */
static AnStatus
vae_options(AnContext *ctx, AnOptions *opts, int epochs, uint64_t seed, size_t n,
			double beta, const char *score)
{
	static const double hidden[1] = {16};
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};

	AN_TRY(an_options_init(ctx, opts, an_method_lookup("vae")));
	AN_TRY(an_options_set(ctx, opts, "hidden", &v));
	v = unit_num(3);
	AN_TRY(an_options_set(ctx, opts, "latent", &v));
	v = unit_num(epochs);
	AN_TRY(an_options_set(ctx, opts, "epochs", &v));
	v = unit_num(64);
	AN_TRY(an_options_set(ctx, opts, "batch_size", &v));
	v = unit_num(0.01);
	AN_TRY(an_options_set(ctx, opts, "learning_rate", &v));
	v = unit_num((double) seed);
	AN_TRY(an_options_set(ctx, opts, "seed", &v));
	if (beta >= 0)
	{
		v = unit_num(beta);
		AN_TRY(an_options_set(ctx, opts, "beta", &v));
	}
	if (score)
	{
		v = unit_str(score);
		AN_TRY(an_options_set(ctx, opts, "score", &v));
	}
	an_options_resolve(opts, FIX_DIM, n);
	return AN_OK;
}

/* fixture rows (seed + 1000), spec, scaler and a fitted VAE */
static AnStatus
vae_fit(AnContext *ctx, AnModel *model, size_t n, int epochs, uint64_t seed,
		double beta, const char *score, float **x)
{
	double	   *raw = fixture_rows(seed + 1000, n);
	float	   *scaled = NULL;
	AnOptions	opts;
	AnStatus	st;

	memset(&opts, 0, sizeof(opts));
	st = fixture_prepare(ctx, model, raw, n, AN_SCALER_STANDARD, &scaled);
	if (st == AN_OK)
		st = vae_options(ctx, &opts, epochs, seed, n, beta, score);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, &opts, scaled, n);
	an_options_free(ctx, &opts);
	free(raw);
	if (x)
		*x = scaled;
	else
		free(scaled);
	return st;
}

/* ---- the shared trained VAE: 2000 rows, seed 42, default beta and score ---- */

static AnStatus
vae_default_options(AnContext *ctx, AnOptions *opts, int epochs, uint64_t seed, size_t n)
{
	return vae_options(ctx, opts, epochs, seed, n, -1, NULL);
}

static FixtureModel *shared;

static void
free_shared(void)
{
	fixture_model_free(shared);
	shared = NULL;
}

static FixtureModel *
vae_trained(void)
{
	if (!shared)
	{
		shared = fixture_model_train(vae_default_options, "VAE");
		atexit(free_shared);
	}
	return shared;
}

/* ---- a double-precision reference of the documented loss ---- */

typedef struct RefMlp
{
	int			n_layers;
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	double	   *w[AN_MAX_LAYERS];
	double	   *b[AN_MAX_LAYERS];
} RefMlp;

/* a network of the given widths whose last layer is linear */
static void
ref_create(RefMlp *r, int n_layers, const int *dims, AnActivation hidden_act)
{
	memset(r, 0, sizeof(*r));
	r->n_layers = n_layers;
	memcpy(r->dims, dims, (n_layers + 1) * sizeof(int));
	for (int l = 0; l < n_layers; l++)
	{
		r->acts[l] = l == n_layers - 1 ? AN_ACT_IDENTITY : hidden_act;
		r->w[l] = malloc((size_t) dims[l] * dims[l + 1] * sizeof(double));
		r->b[l] = malloc(dims[l + 1] * sizeof(double));
	}
}

static void
ref_free(RefMlp *r)
{
	for (int l = 0; l < r->n_layers; l++)
	{
		free(r->w[l]);
		free(r->b[l]);
	}
}

/*
 * Point p at every weight and bias in the method's parameter order (per
 * layer: weight, then bias) and fill them from the parameter list
 * starting at item *item.
 */
static void
ref_load(RefMlp *r, const AnParamList *list, int *item, double **p, int *np)
{
	for (int l = 0; l < r->n_layers; l++)
	{
		const AnParam *pw = &list->items[(*item)++];
		const AnParam *pb = &list->items[(*item)++];

		if (pw->size != (size_t) r->dims[l] * r->dims[l + 1] ||
			pb->size != (size_t) r->dims[l + 1])
		{
			unit_fail(__FILE__, __LINE__, "layer %d has unexpected parameter sizes", l);
			return;
		}
		for (size_t i = 0; i < pw->size; i++)
		{
			r->w[l][i] = pw->value[i];
			p[(*np)++] = &r->w[l][i];
		}
		for (size_t i = 0; i < pb->size; i++)
		{
			r->b[l][i] = pb->value[i];
			p[(*np)++] = &r->b[l][i];
		}
	}
}

/* one row; *signs hashes the sign of every pre-activation before a ReLU */
static void
ref_forward(const RefMlp *r, const double *x, double *y, uint64_t *signs)
{
	double		buf[2][64];
	const double *in = x;

	for (int l = 0; l < r->n_layers; l++)
	{
		int			di = r->dims[l],
					dout = r->dims[l + 1];
		double	   *out = l == r->n_layers - 1 ? y : buf[l % 2];

		for (int o = 0; o < dout; o++)
		{
			double		z = r->b[l][o];

			for (int i = 0; i < di; i++)
				z += r->w[l][(size_t) o * di + i] * in[i];
			if (r->acts[l] == AN_ACT_RELU)
				*signs = (*signs ^ (uint64_t) (z > 0)) * UINT64_C(1099511628211);
			out[o] = fixture_activation(r->acts[l], z);
		}
		in = out;
	}
}

/*
 * The documented loss: the batch mean of mean_j (y_j - x_j)^2 +
 * beta * KL, with z = mu + eps * exp(clamp(lv) / 2), or z = mu when eps
 * is NULL; recon and kl (per row) are optional outputs.
 */
static double
ref_vae_loss(const RefMlp *enc, const RefMlp *dec, const double *x, int n, int dim,
			 int latent, const double *eps, double beta, uint64_t *signs,
			 double *recon, double *kl)
{
	double		total = 0.0;

	*signs = UINT64_C(1469598103934665603);
	for (int i = 0; i < n; i++)
	{
		double		head[64],
					z[32],
					y[64],
					r = 0.0,
					k = 0.0;
		const double *xi = x + (size_t) i * dim;

		ref_forward(enc, xi, head, signs);
		for (int j = 0; j < latent; j++)
		{
			double		mu = head[j];
			double		lv = fmin(fmax(head[latent + j], -LOGVAR_LIMIT), LOGVAR_LIMIT);

			z[j] = mu + (eps ? eps[(size_t) i * latent + j] * exp(0.5 * lv) : 0.0);
			k += -0.5 * (1.0 + lv - mu * mu - exp(lv));
		}
		ref_forward(dec, z, y, signs);
		for (int j = 0; j < dim; j++)
			r += (y[j] - xi[j]) * (y[j] - xi[j]);
		r /= dim;
		if (recon)
			recon[i] = r;
		if (kl)
			kl[i] = k;
		total += r + beta * k;
	}
	return total / n;
}

/* ---- driving the method's own loss ---- */

typedef struct VaeProbe
{
	AnContext	ctx;
	UnitAlloc	counter;
	AnOptions	opts;
	void	   *state;
	AnParamList params;
	float	   *saved;
	size_t		total;
	AnRng		rng;			/* the noise of every evaluation */
} VaeProbe;

static bool
probe_create(VaeProbe *p, int dim, const double *hidden, int n_hidden, int latent,
			 const char *activation, double beta, uint64_t seed)
{
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = n_hidden};
	AnRng		init;

	memset(p, 0, sizeof(*p));
	unit_context_counting(&p->ctx, &p->counter);
	if (an_options_init(&p->ctx, &p->opts, an_method_lookup("vae")) != AN_OK ||
		an_options_set(&p->ctx, &p->opts, "hidden", &v) != AN_OK)
		return false;
	v = unit_num(latent);
	if (an_options_set(&p->ctx, &p->opts, "latent", &v) != AN_OK)
		return false;
	v = unit_str(activation);
	if (an_options_set(&p->ctx, &p->opts, "activation", &v) != AN_OK)
		return false;
	v = unit_num(beta);
	if (an_options_set(&p->ctx, &p->opts, "beta", &v) != AN_OK)
		return false;
	v = unit_num(16);
	if (an_options_set(&p->ctx, &p->opts, "batch_size", &v) != AN_OK)
		return false;
	an_options_resolve(&p->opts, dim, 100);
	an_rng_seed(&init, seed);
	if (an_method_lookup("vae")->create(&p->ctx, &p->opts, dim, &init, &p->state) != AN_OK)
		return false;
	an_method_lookup("vae")->params(p->state, &p->params);
	p->total = an_params_total(&p->params);
	p->saved = malloc(p->total * sizeof(float));
	an_params_save(&p->params, p->saved);
	an_rng_seed(&p->rng, seed + 1);
	return true;
}

static void
probe_free(VaeProbe *p)
{
	if (p->state)
		an_method_lookup("vae")->destroy(&p->ctx, p->state);
	an_options_free(&p->ctx, &p->opts);
	free(p->saved);
	CHECK_NO_LEAKS(&p->counter);
}

/* the loss of one step at the saved weights, which stay as they were */
static double
probe_loss(VaeProbe *p, const float *x, int n)
{
	AnRng		rng = p->rng;
	double		loss;

	an_params_restore(&p->params, p->saved);
	loss = an_method_lookup("vae")->train_batch(p->state, x, n, &rng);
	an_params_restore(&p->params, p->saved);
	return loss;
}

/* the gradients of that step, flattened in parameter order */
static double
probe_grads(VaeProbe *p, const float *x, int n, float *grads)
{
	double		loss = probe_loss(p, x, n);
	size_t		k = 0;

	for (int i = 0; i < p->params.n; i++)
		for (size_t j = 0; j < p->params.items[i].size; j++)
			grads[k++] = p->params.items[i].grad[j];
	return loss;
}

/* a saved weight, by its index in the flat parameter order */
static float *
probe_saved(VaeProbe *p, size_t flat)
{
	return flat < p->total ? &p->saved[flat] : NULL;
}

static void
fill_uniform(AnRng *rng, float *v, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float) (lo + (hi - lo) * an_rng_uniform(rng));
}

/*
 * The loss against the double reference, and every gradient against its
 * central differences (eps 1e-6), with ReLU hidden layers.
 */
UNIT_TEST(vae_gradcheck_reference)
{
	enum
	{
		DIM = 5, LATENT = 3, N = 6
	};
	static const double hidden[2] = {7, 4};
	static const int enc_dims[4] = {DIM, 7, 4, 2 * LATENT};
	static const int dec_dims[4] = {LATENT, 4, 7, DIM};
	VaeProbe	p;
	RefMlp		enc,
				dec;
	AnRng		rng;
	float		x[N * DIM];
	double		xd[N * DIM],
				eps[N * LATENT];
	double	  **ptr;
	float	   *grads;
	int			item = 0,
				np = 0,
				compared = 0,
				skipped = 0,
				bad = 0;
	double		loss,
				ref,
				max_grad = 0,
				diff2 = 0,
				sum2 = 0;
	uint64_t	signs;
	const double beta = 0.7;

	REQUIRE(probe_create(&p, DIM, hidden, 2, LATENT, "relu", beta, 101));
	an_rng_seed(&rng, 102);
	fill_uniform(&rng, x, N * DIM, -1.5, 1.5);
	for (int i = 0; i < N * DIM; i++)
		xd[i] = x[i];
	/* the noise in the documented order: row by row, latent by latent */
	{
		AnRng		noise = p.rng;

		for (int i = 0; i < N * LATENT; i++)
			eps[i] = (float) an_rng_normal(&noise);
	}

	ref_create(&enc, 3, enc_dims, AN_ACT_RELU);
	ref_create(&dec, 3, dec_dims, AN_ACT_RELU);
	ptr = malloc(p.total * sizeof(double *));
	ref_load(&enc, &p.params, &item, ptr, &np);
	ref_load(&dec, &p.params, &item, ptr, &np);
	REQUIRE(item == p.params.n && (size_t) np == p.total);

	grads = malloc(p.total * sizeof(float));
	loss = probe_grads(&p, x, N, grads);
	ref = ref_vae_loss(&enc, &dec, xd, N, DIM, LATENT, eps, beta, &signs, NULL, NULL);
	CHECK_CLOSE(loss, ref, 1e-5, 1e-6);
	/* the same noise gives the same loss; other noise another */
	CHECK(probe_loss(&p, x, N) == loss);
	{
		AnRng		keep = p.rng;

		an_rng_seed(&p.rng, 999);
		CHECK(probe_loss(&p, x, N) != loss);
		p.rng = keep;
	}

	for (size_t k = 0; k < p.total; k++)
	{
		double		v0 = *ptr[k],
					lp,
					lm,
					numeric;
		uint64_t	sp,
					sm;

		*ptr[k] = v0 + 1e-6;
		lp = ref_vae_loss(&enc, &dec, xd, N, DIM, LATENT, eps, beta, &sp, NULL, NULL);
		*ptr[k] = v0 - 1e-6;
		lm = ref_vae_loss(&enc, &dec, xd, N, DIM, LATENT, eps, beta, &sm, NULL, NULL);
		*ptr[k] = v0;
		if (sp != sm)
		{
			skipped++;
			continue;
		}
		numeric = (lp - lm) / 2e-6;
		compared++;
		max_grad = fmax(max_grad, fabs(numeric));
		diff2 += (grads[k] - numeric) * (grads[k] - numeric);
		sum2 += numeric * numeric + (double) grads[k] * grads[k];
		if (!unit_close(grads[k], numeric, 1e-3, 2e-5) && bad++ < 3)
			unit_fail(__FILE__, __LINE__, "parameter %zu: analytic %.8g, reference %.8g",
					  k, grads[k], numeric);
	}
	CHECK(bad == 0);
	CHECK(compared == (int) p.total - skipped && skipped <= compared / 10);
	CHECK(sqrt(diff2 / sum2) < 1e-4);
	/* a check of vanishing gradients would prove nothing */
	CHECK(max_grad > 1e-2);

	free(ptr);
	free(grads);
	ref_free(&enc);
	ref_free(&dec);
	probe_free(&p);
}

/*
 * Float32 central differences of the method's own loss (eps 1e-3), tanh
 * hidden layers, a large beta, and two log variances pushed beyond the
 * clamp, where both loss and gradient must not depend on them.
 */
static void
float_gradcheck(double beta, bool clamp)
{
	enum
	{
		DIM = 4, LATENT = 2, N = 5
	};
	static const double hidden[1] = {6};
	VaeProbe	p;
	AnRng		rng;
	float		x[N * DIM];
	float	   *grads;
	size_t		lv_bias = 0;
	int			bad = 0;
	double		max_grad = 0,
				diff2 = 0,
				sum2 = 0;

	REQUIRE(probe_create(&p, DIM, hidden, 1, LATENT, "tanh", beta, 201));
	an_rng_seed(&rng, 202);
	fill_uniform(&rng, x, N * DIM, -1.5, 1.5);
	/* encoder: w0 (6x4), b0 (6), w1 (4x6), b1 (4: mu0, mu1, lv0, lv1) */
	REQUIRE(p.params.n == 8 && p.params.items[3].size == 2 * LATENT);
	lv_bias = 24 + 6 + 24 + LATENT;
	if (clamp)
	{
		*probe_saved(&p, lv_bias) = 40.0f;
		*probe_saved(&p, lv_bias + 1) = -40.0f;
	}
	grads = malloc(p.total * sizeof(float));
	CHECK(isfinite(probe_grads(&p, x, N, grads)));

	for (size_t k = 0; k < p.total; k++)
	{
		float	   *v = probe_saved(&p, k);
		float		v0 = *v,
					vp = (float) (v0 + 1e-3),
					vm = (float) (v0 - 1e-3);
		double		lp,
					lm,
					numeric;

		*v = vp;
		lp = probe_loss(&p, x, N);
		*v = vm;
		lm = probe_loss(&p, x, N);
		*v = v0;
		numeric = (lp - lm) / ((double) vp - (double) vm);
		max_grad = fmax(max_grad, fabs(numeric));
		diff2 += (grads[k] - numeric) * (grads[k] - numeric);
		sum2 += numeric * numeric + (double) grads[k] * grads[k];
		if (!unit_close(grads[k], numeric, 1e-2, 2e-3) && bad++ < 3)
			unit_fail(__FILE__, __LINE__, "parameter %zu: analytic %.8g, numeric %.8g",
					  k, grads[k], numeric);
	}
	CHECK(bad == 0);
	CHECK(sqrt(diff2 / sum2) < 1e-2);
	CHECK(max_grad > 1e-2);
	if (clamp)
	{
		/* clamped: exactly no gradient, and the loss does not move */
		CHECK(grads[lv_bias] == 0.0f && grads[lv_bias + 1] == 0.0f);
		{
			double		l0 = probe_loss(&p, x, N);

			*probe_saved(&p, lv_bias) = 45.0f;
			CHECK(probe_loss(&p, x, N) == l0);
			*probe_saved(&p, lv_bias) = 40.0f;
		}
	}
	free(grads);
	probe_free(&p);
}

UNIT_TEST(vae_gradcheck_float)
{
	float_gradcheck(2.5, false);
}

UNIT_TEST(vae_gradcheck_float_clamped_logvar)
{
	float_gradcheck(1.0, true);
}

/* beta 0: a plain autoencoder with noise; the KL gradient must vanish */
UNIT_TEST(vae_gradcheck_float_beta_zero)
{
	float_gradcheck(0.0, false);
}

/* ---- training ---- */

/* the loss of a model that ignores its input: the mean column variance */
static double
collapsed_loss(const float *x, size_t n)
{
	double		total = 0.0;

	for (int j = 0; j < FIX_DIM; j++)
	{
		double		sum = 0.0,
					sum2 = 0.0;

		for (size_t i = 0; i < n; i++)
		{
			sum += x[i * FIX_DIM + j];
			sum2 += (double) x[i * FIX_DIM + j] * x[i * FIX_DIM + j];
		}
		total += sum2 / n - (sum / n) * (sum / n);
	}
	return total / FIX_DIM;
}

/*
 * With the default beta 1 and the reconstruction averaged over 9 dims, a
 * latent dimension costs more KL than it saves: training ends at the
 * collapsed optimum, where the model reconstructs every row as the mean.
 */
UNIT_TEST(vae_training_reduces_loss)
{
	FixtureModel *vs = vae_trained();
	double		best_val = INFINITY;
	double		floor_loss;
	const AnEpochReport *last;

	REQUIRE(vs->status == AN_OK);
	REQUIRE(vs->n_reports >= 2);
	CHECK(vs->model.method == an_method_lookup("vae"));
	CHECK(vs->n_reports == vs->model.epochs_run);
	for (int i = 0; i < vs->n_reports; i++)
	{
		const AnEpochReport *r = &vs->reports[i];

		CHECK(isfinite(r->train_loss) && r->train_loss > 0);
		CHECK(isfinite(r->val_loss) && r->val_loss > 0);
		CHECK(r->improved == (r->val_loss < best_val));
		if (r->val_loss < best_val)
			best_val = r->val_loss;
	}
	last = &vs->reports[vs->n_reports - 1];
	floor_loss = collapsed_loss(vs->x, vs->n);
	CHECK(last->train_loss < vs->reports[0].train_loss);
	CHECK(last->train_loss < 1.01 * floor_loss);
	CHECK(best_val < vs->reports[0].val_loss);
	CHECK(vs->model.loss == best_val);
}

/* a small beta keeps the two latent factors of the data in use */
UNIT_TEST(vae_small_beta_uses_latents)
{
	FixtureModel *vs = calloc(1, sizeof(FixtureModel));
	AnModel		model;
	float	   *x;
	double		floor_loss;

	fixture_model_context(vs);
	REQUIRE(vae_fit(&vs->ctx, &model, 1000, 30, 12, 0.05, "elbo", &x) == AN_OK);
	REQUIRE(vs->n_reports >= 2);
	floor_loss = collapsed_loss(x, 1000);
	CHECK(vs->reports[vs->n_reports - 1].train_loss < 0.5 * floor_loss);
	CHECK(model.loss < 0.4 * floor_loss);
	an_model_free(&vs->ctx, &model);
	free(x);
	free(vs);
}

/*
 * The validation loss is the loss at z = mu: the mean "elbo" score, the
 * documented loss of the reference with eps = 0.
 */
UNIT_TEST(vae_eval_loss_is_deterministic_elbo)
{
	FixtureModel *vs = vae_trained();
	void	   *state;
	const size_t n = 600;		/* more than one scoring batch */
	double	   *recon = malloc(n * sizeof(double));
	double	   *scores = malloc(n * sizeof(double));
	double		mean = 0,
				l1,
				l2;

	REQUIRE(vs->status == AN_OK);
	state = vs->model.state;
	an_model_score_scaled(&vs->model, vs->x, n, recon);
	l1 = an_method_lookup("vae")->eval_loss(state, vs->x, n);
	l2 = an_method_lookup("vae")->eval_loss(state, vs->x, n);
	CHECK(l1 == l2);
	/* beta is 1 by default: the elbo is recon + KL, KL >= 0 */
	{
		AnParamList list;
		RefMlp		enc,
					dec;
		static const int enc_dims[3] = {FIX_DIM, 16, 6};
		static const int dec_dims[3] = {3, 16, FIX_DIM};
		double	  **ptr = malloc(1000 * sizeof(double *));
		double	   *xd = malloc(n * FIX_DIM * sizeof(double));
		double	   *kl = malloc(n * sizeof(double));
		int			item = 0,
					np = 0;
		uint64_t	signs;
		double		ref;

		memset(&list, 0, sizeof(list));
		an_method_lookup("vae")->params(state, &list);
		ref_create(&enc, 2, enc_dims, AN_ACT_RELU);
		ref_create(&dec, 2, dec_dims, AN_ACT_RELU);
		ref_load(&enc, &list, &item, ptr, &np);
		ref_load(&dec, &list, &item, ptr, &np);
		for (size_t i = 0; i < n * FIX_DIM; i++)
			xd[i] = vs->x[i];
		ref = ref_vae_loss(&enc, &dec, xd, (int) n, FIX_DIM, 3, NULL, 1.0, &signs,
						   scores, kl);
		CHECK_CLOSE(l1, ref, 1e-5, 1e-7);
		for (size_t i = 0; i < n; i++)
		{
			CHECK_CLOSE(recon[i], scores[i], 1e-4, 1e-6);
			CHECK(kl[i] >= 0);
			mean += recon[i] + kl[i];
		}
		CHECK_CLOSE(l1, mean / n, 1e-5, 0);
		ref_free(&enc);
		ref_free(&dec);
		free(ptr);
		free(xd);
		free(kl);
	}
	free(recon);
	free(scores);
}

/* ---- scores ---- */

UNIT_TEST(vae_score_kinds)
{
	AnContext	ctx;
	AnModel		m[3];
	static const char *const kinds[3] = {"reconstruction", "elbo", "recon_kl"};
	const double beta = 2.0;
	const size_t n = 300;
	double	   *s[3];
	float	   *x[3];
	int			positive_kl = 0;

	unit_context_malloc(&ctx);
	/* the score does not change training: same weights, three scores */
	for (int k = 0; k < 3; k++)
	{
		REQUIRE(vae_fit(&ctx, &m[k], n, 5, 17, beta, kinds[k], &x[k]) == AN_OK);
		s[k] = malloc(n * sizeof(double));
		an_model_score_scaled(&m[k], x[k], n, s[k]);
	}
	for (size_t i = 0; i < n; i++)
	{
		double		kl = (s[1][i] - s[0][i]) / beta;

		CHECK(s[0][i] >= 0);
		CHECK(kl >= -1e-12);
		positive_kl += kl > 1e-3;
		CHECK_CLOSE(s[2][i], s[0][i] + 0.5 * kl, 1e-9, 1e-12);
	}
	CHECK(positive_kl > (int) n / 2);
	CHECK(m[0].threshold < m[1].threshold);

	/* deterministic: the same rows again, and a row alone, score the same */
	for (int k = 0; k < 3; k++)
	{
		double	   *again = malloc(n * sizeof(double));
		double		one;

		an_model_score_scaled(&m[k], x[k], n, again);
		CHECK(memcmp(again, s[k], n * sizeof(double)) == 0);
		an_model_score_scaled(&m[k], x[k] + 7 * FIX_DIM, 1, &one);
		CHECK_CLOSE(one, s[k][7], 1e-5, 1e-7);
		free(again);
		free(s[k]);
		free(x[k]);
		an_model_free(&ctx, &m[k]);
	}
}

UNIT_TEST(vae_outliers_score_above_threshold)
{
	FixtureModel *vs = vae_trained();
	enum
	{
		N_OUT = 50
	};
	int			flagged,
				normal_flagged;

	REQUIRE(vs->status == AN_OK);
	fixture_count_flagged(&vs->model, N_OUT, &flagged, &normal_flagged);
	CHECK(flagged == N_OUT);
	CHECK(normal_flagged <= 3);
}

/* the defaults are beta 1 and the reconstruction score (same seed: docs equal, test_methods.c) */
UNIT_TEST(vae_default_beta_and_score)
{
	AnContext	ctx;
	AnModel		a,
				d;
	float	   *x;
	double		sa[400],
				sd[400];

	unit_context_malloc(&ctx);
	REQUIRE(vae_fit(&ctx, &a, 400, 6, 5, -1, NULL, &x) == AN_OK);
	free(x);
	REQUIRE(vae_fit(&ctx, &d, 400, 6, 5, 1.0, "reconstruction", &x) == AN_OK);
	an_model_score_scaled(&a, x, 400, sa);
	an_model_score_scaled(&d, x, 400, sd);
	CHECK(memcmp(sa, sd, sizeof(sa)) == 0);
	free(x);
	an_model_free(&ctx, &a);
	an_model_free(&ctx, &d);
}

/* ---- options ---- */

UNIT_TEST(vae_options_validated)
{
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue boolean = {.kind = AN_OPTION_BOOL, .boolean = true};
	AnOptionValue null_value = {.kind = AN_OPTION_NULL};

	unit_context_malloc(&ctx);
	REQUIRE(an_method_lookup("vae") == an_method_lookup("vae"));
	CHECK_CONTAINS(an_method_names(), "vae");
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("vae")) == AN_OK);

	CHECK_ACCEPTED(&ctx, &opts, "beta", unit_num(0));
	CHECK_ACCEPTED(&ctx, &opts, "beta", unit_num(0.25));
	CHECK_ACCEPTED(&ctx, &opts, "beta", unit_num(1000));
	CHECK_REJECTED(&ctx, &opts, "beta", unit_num(-0.001));
	CHECK_REJECTED(&ctx, &opts, "beta", unit_num(1000.5));
	CHECK_REJECTED(&ctx, &opts, "beta", unit_num(NAN));
	CHECK_REJECTED(&ctx, &opts, "beta", unit_num(INFINITY));
	CHECK_REJECTED(&ctx, &opts, "beta", unit_str("1"));
	CHECK_REJECTED(&ctx, &opts, "beta", boolean);
	CHECK_REJECTED(&ctx, &opts, "beta", null_value);

	CHECK_ACCEPTED(&ctx, &opts, "score", unit_str("reconstruction"));
	CHECK_ACCEPTED(&ctx, &opts, "score", unit_str("elbo"));
	CHECK_ACCEPTED(&ctx, &opts, "score", unit_str("recon_kl"));
	CHECK_REJECTED(&ctx, &opts, "score", unit_str("ELBO"));
	CHECK_REJECTED(&ctx, &opts, "score", unit_str(""));
	CHECK_REJECTED(&ctx, &opts, "score", unit_num(1));
	CHECK_CONTAINS(ctx.errmsg, "reconstruction, elbo, recon_kl");

	/* unknown keys name themselves and the method */
	CHECK_REJECTED(&ctx, &opts, "capacity", unit_num(1));
	CHECK_CONTAINS(ctx.errmsg, "\"vae\"");
	/* the common options still work */
	CHECK_ACCEPTED(&ctx, &opts, "latent", unit_num(2));
	CHECK_REJECTED(&ctx, &opts, "latent", unit_num(0));
	an_options_free(&ctx, &opts);

	/* another method does not take the VAE's options */
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("autoencoder")) == AN_OK);
	CHECK_REJECTED(&ctx, &opts, "beta", unit_num(1));
	CHECK_CONTAINS(ctx.errmsg, "unrecognized");
	an_options_free(&ctx, &opts);
}

/* ---- the stored state ---- */

/*
 * A state map packed by hand from its parts, to give to the method's
 * decode directly: NULL parts and those whose has_ flag is false are left
 * out; latent_as_string packs "latent" as the string "3".
 */
typedef struct StateParts
{
	const char *score;
	bool		has_beta;
	double		beta;
	bool		has_latent;
	int64_t		latent;
	bool		latent_as_string;
	AnMlp	   *encoder;
	AnMlp	   *decoder;
} StateParts;

static AnStatus
decode_parts(const StateParts *parts, int dim, AnContext *ctx, UnitAlloc *counter)
{
	AnContext	pctx;
	AnBuffer	buf;
	AnPacker	pk;
	msgpack_unpacked msg;
	size_t		offset = 0;
	int			n = (parts->score != NULL) + parts->has_beta + parts->has_latent +
		(parts->encoder != NULL) + (parts->decoder != NULL);
	void	   *state = NULL;
	AnStatus	st;

	unit_context_malloc(&pctx);
	an_buffer_init(&buf, &pctx);
	an_packer_init(&pk, &buf);
	msgpack_pack_map(&pk, n);
	if (parts->score)
		an_pack_key_str(&pk, "score", parts->score);
	if (parts->has_beta)
		an_pack_key_real(&pk, "beta", parts->beta);
	if (parts->has_latent && parts->latent_as_string)
		an_pack_key_str(&pk, "latent", "3");
	else if (parts->has_latent)
		an_pack_key_int(&pk, "latent", parts->latent);
	if (parts->encoder)
		an_pack_key_mlp(&pk, "encoder", parts->encoder);
	if (parts->decoder)
		an_pack_key_mlp(&pk, "decoder", parts->decoder);

	msgpack_unpacked_init(&msg);
	if (msgpack_unpack_next(&msg, buf.data, buf.len, &offset) != MSGPACK_UNPACK_SUCCESS)
		unit_fail(__FILE__, __LINE__, "could not unpack the state");
	unit_context_counting(ctx, counter);
	st = an_method_lookup("vae")->decode(ctx, &msg.data, dim, &state);
	if (st == AN_OK)
	{
		double		scores[4];
		float		x[4 * 16] = {0};

		an_method_lookup("vae")->score(state, x, 4, scores);
		for (int i = 0; i < 4; i++)
			if (!isfinite(scores[i]))
				unit_fail(__FILE__, __LINE__, "decoded state scores %g", scores[i]);
		an_method_lookup("vae")->destroy(ctx, state);
	}
	msgpack_unpacked_destroy(&msg);
	an_free(&pctx, buf.data);
	return st;
}

static void
make_mlp(AnMlp *mlp, int n_layers, const int *dims, AnActivation last, uint64_t seed)
{
	AnContext	ctx;
	AnActivation acts[AN_MAX_LAYERS];
	AnRng		rng;

	unit_context_malloc(&ctx);
	for (int l = 0; l < n_layers; l++)
		acts[l] = l == n_layers - 1 ? last : AN_ACT_RELU;
	if (an_mlp_create(&ctx, mlp, n_layers, dims, acts, true, false, 1) != AN_OK)
		unit_fail(__FILE__, __LINE__, "an_mlp_create failed");
	an_rng_seed(&rng, seed);
	an_mlp_init(mlp, &rng);
}

static void
free_mlp(AnMlp *mlp)
{
	AnContext	ctx;

	unit_context_malloc(&ctx);
	an_mlp_free(&ctx, mlp);
}

#define EXPECT_CORRUPT(parts, dim, message) \
	do { AnContext unit_ctx_; UnitAlloc unit_cnt_ = {0}; \
		 CHECK_STATUS(decode_parts((parts), (dim), &unit_ctx_, &unit_cnt_), AN_ERR_CORRUPT); \
		 CHECK_CONTAINS(unit_ctx_.errmsg, (message)); \
		 CHECK_NO_LEAKS(&unit_cnt_); } while (0)

UNIT_TEST(vae_decode_validates_state)
{
	enum
	{
		DIM = 6, LATENT = 2
	};
	static const int enc_dims[3] = {DIM, 8, 2 * LATENT};
	static const int dec_dims[3] = {LATENT, 8, DIM};
	static const int enc_wide_in[3] = {DIM + 1, 8, 2 * LATENT};
	static const int enc_odd_out[3] = {DIM, 8, 2 * LATENT + 1};
	static const int dec_wrong_in[3] = {LATENT + 1, 8, DIM};
	static const int dec_wrong_out[3] = {LATENT, 8, DIM - 1};
	AnMlp		enc,
				dec,
				bad;
	StateParts	good,
				p;
	AnContext	ctx;
	UnitAlloc	counter = {0};

	make_mlp(&enc, 2, enc_dims, AN_ACT_IDENTITY, 1);
	make_mlp(&dec, 2, dec_dims, AN_ACT_IDENTITY, 2);
	good = (StateParts) {"elbo", true, 0.5, true, LATENT, false, &enc, &dec};

	/* the well-formed state decodes and scores */
	CHECK_STATUS(decode_parts(&good, DIM, &ctx, &counter), AN_OK);
	CHECK_NO_LEAKS(&counter);

	/* missing fields */
	p = good;
	p.score = NULL;
	EXPECT_CORRUPT(&p, DIM, "\"score\"");
	p = good;
	p.has_beta = false;
	EXPECT_CORRUPT(&p, DIM, "\"beta\"");
	p = good;
	p.has_latent = false;
	EXPECT_CORRUPT(&p, DIM, "\"latent\"");
	p = good;
	p.encoder = NULL;
	EXPECT_CORRUPT(&p, DIM, "\"encoder\"");
	p = good;
	p.decoder = NULL;
	EXPECT_CORRUPT(&p, DIM, "\"decoder\"");

	/* bad values and types */
	p = good;
	p.score = "likelihood";
	EXPECT_CORRUPT(&p, DIM, "\"score\"");
	p = good;
	p.beta = NAN;
	EXPECT_CORRUPT(&p, DIM, "\"beta\"");
	p.beta = -1;
	EXPECT_CORRUPT(&p, DIM, "\"beta\"");
	p.beta = INFINITY;
	EXPECT_CORRUPT(&p, DIM, "\"beta\"");
	p = good;
	p.latent = 0;
	EXPECT_CORRUPT(&p, DIM, "\"latent\"");
	p.latent = -2;
	EXPECT_CORRUPT(&p, DIM, "\"latent\"");
	p.latent = LATENT + 1;		/* the encoder gives 4, not 6 */
	EXPECT_CORRUPT(&p, DIM, "encoder");
	p.latent = LATENT;
	p.latent_as_string = true;
	EXPECT_CORRUPT(&p, DIM, "\"latent\"");

	/* shapes: the input width, 2 * latent, the decoder's ends */
	EXPECT_CORRUPT(&good, DIM + 1, "input width");
	p = good;
	make_mlp(&bad, 2, enc_wide_in, AN_ACT_IDENTITY, 3);
	p.encoder = &bad;
	EXPECT_CORRUPT(&p, DIM, "input width");
	free_mlp(&bad);
	make_mlp(&bad, 2, enc_odd_out, AN_ACT_IDENTITY, 3);
	p.encoder = &bad;
	EXPECT_CORRUPT(&p, DIM, "encoder");
	free_mlp(&bad);
	make_mlp(&bad, 2, enc_dims, AN_ACT_TANH, 3);
	p.encoder = &bad;
	EXPECT_CORRUPT(&p, DIM, "linear");
	free_mlp(&bad);
	p = good;
	make_mlp(&bad, 2, dec_wrong_in, AN_ACT_IDENTITY, 3);
	p.decoder = &bad;
	EXPECT_CORRUPT(&p, DIM, "input width");
	free_mlp(&bad);
	make_mlp(&bad, 2, dec_wrong_out, AN_ACT_IDENTITY, 3);
	p.decoder = &bad;
	EXPECT_CORRUPT(&p, DIM, "decoder");
	free_mlp(&bad);
	make_mlp(&bad, 2, dec_dims, AN_ACT_SIGMOID, 3);
	p.decoder = &bad;
	EXPECT_CORRUPT(&p, DIM, "linear");
	free_mlp(&bad);

	/* a non-finite weight */
	p = good;
	enc.layers[1].w[3] = NAN;
	EXPECT_CORRUPT(&p, DIM, "non-finite");
	enc.layers[1].w[3] = 0.5f;
	dec.layers[0].b[1] = -INFINITY;
	EXPECT_CORRUPT(&p, DIM, "non-finite");
	dec.layers[0].b[1] = 0.5f;
	CHECK_STATUS(decode_parts(&good, DIM, &ctx, &counter), AN_OK);
	CHECK_NO_LEAKS(&counter);

	free_mlp(&enc);
	free_mlp(&dec);
}
