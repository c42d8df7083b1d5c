/*-------------------------------------------------------------------------
 *
 * method_algan.c
 *	  ALGAN (Murase and Fukumizu, IEEE Access 2022): a GAN whose generator
 *	  also makes pseudo-anomalies, and whose discriminator is the detector.
 *
 * The generator G maps a latent z to a row; the discriminator D maps a row
 * to one logit, of "generated" (higher = more anomalous).  Every batch
 * makes one D step and one G step (train_batch):
 *
 *	 D step: the n training rows (target 0.1: one-sided label smoothing,
 *	 so that D is never asked for an infinitely confident "real") against
 *	 n generated rows (target 1).  A generated row's latent is drawn from
 *	 N(0, I) with probability alpha, else from the wide N(0, sigma^2 I):
 *	 the wide part makes rows unlike the data, the pseudo-anomalies that
 *	 teach D a closed boundary around the training rows rather than one
 *	 side of the generator's current output.  A quarter of the generated
 *	 rows are replayed from a bank of the first BANK_ROWS rows the
 *	 generator made (its early output, as the paper asks), so that D keeps
 *	 rejecting them after G has moved on.
 *
 *	 G step: n rows from N(0, I) latents only, target "real" (the
 *	 non-saturating generator loss), plus MOMENT_WEIGHT times the squared
 *	 distance between the batch's mean and covariance and the training
 *	 rows' (||mu_G - mu||^2 / d + ||C_G - C||_F^2 / d^2).
 *
 * Why the moment term, which the paper does not have: the pseudo-anomalies
 * are G's image of wide latents, so they land around the data only where
 * G spreads.  Adversarially alone, G collapses onto the densest part of
 * tabular rows (on a skewed table half the data's spread), its wide
 * latents then land in the same spot, and D learns "the dense part is
 * generated": it ranked anomalies below normal rows (docs/benchmarks.md).
 * Matching the first two moments keeps G as spread as the data, so that
 * G(sigma z) is a cloud around it (the feature matching of Salimans et al.
 * 2016, on the identity feature).
 *
 * D is regularised: its Adam steps carry the weight_decay option (default
 * 0.05 for this method; G has none), and the D that scores is the
 * exponential moving average of D's weights over the steps (decay
 * AVG_DECAY, less in the first steps).  A D without decay memorises the
 * training rows, including the anomalies among them, and the last step's
 * D scores "where the generator is now"; both flipped the ranking of
 * whole tables from one seed to the next.  Both networks use Adam with the learning_rate option
 * and beta1 = 0.5 (the DCGAN setting).  G is latent -> ...hidden -> dim
 * with the activation option and a linear output (the rows are
 * standardised); D is dim -> hidden... -> 1 with leaky ReLU (a dead ReLU
 * unit gives G no gradient) and a linear output.
 *
 * The score is the averaged D's logit, which does not saturate into
 * plateaus as the probability would.  A ReLU network is piecewise linear,
 * so far from the data its logit follows some linear function whose sign
 * nobody trained: a row a million standard deviations away could score as
 * "real".  Hence at scoring D sees the row clamped into the training rows'
 * bounding box, and the score adds the Euclidean distance from the row to
 * that box: zero for every row inside it, growing without bound outside.
 *
 * GAN losses do not measure progress (D's loss rises as G improves), so
 * the validation loss is minus the epoch number: the trainer keeps the
 * last epoch's weights, and early stopping is off by default.  Without a
 * validation split the trainer monitors the training loss, here D's.
 *
 * Explain gives integrated gradients from the training centre, as for
 * Deep SVDD.  The model document holds what scoring needs: the averaged D
 * and the box.
 *
 * IDENTIFICATION
 *	  src/core/method_algan.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/explain.h"
#include "anomaly/method.h"
#include "anomaly/model.h"
#include "anomaly/moments.h"

#define REAL_TARGET		0.1f	/* one-sided label smoothing of D's "real" */
#define FAKE_TARGET		1.0f
#define ADAM_BETA1		0.5
#define BANK_ROWS		512		/* early generator rows kept for replay */
#define MOMENT_WEIGHT	10.0	/* of G's moment-matching term */
#define AVG_DECAY		0.999	/* of the moving average of D's weights */
#define SIGMA_MAX		1000.0
#define DEFAULT_ALPHA	0.25
#define DEFAULT_SIGMA	8.0
#define DEFAULT_DECAY	0.05

/* defined at the end; explain scores through it */
extern const AnMethod an_method_algan;

typedef struct AlganOptions
{
	double		alpha;			/* share of N(0, I) latents */
	double		sigma;			/* standard deviation of the wide latents */
} AlganOptions;

typedef struct Algan
{
	AnMlp		gen;			/* latent -> ...hidden -> dim; training only */
	AnMlp		disc;			/* dim -> hidden... -> 1; training only */
	AnMlp		avg;			/* the moving average of disc: scores */
	AnAdam		gen_adam;		/* training only */
	AnAdam		disc_adam;
	int			dim;
	int			latent;
	double		alpha;
	double		sigma;
	int			epochs_done;
	int64_t		steps;			/* D steps so far */
	float	   *lo;				/* dim: the training rows' bounding box */
	float	   *hi;

	/* workspace: xin always, the rest only while training */
	float	   *xin;			/* 2 * max_batch x dim: D's (clamped) input */
	float	   *z;				/* max_batch x latent */
	float	   *target;			/* 2 * max_batch */
	float	   *dlogit;			/* 2 * max_batch */
	float	   *dx;				/* max_batch x dim: d loss / d G's output */
	float	   *bank;			/* BANK_ROWS x dim */
	int			bank_rows;
	AnMoments	moments;		/* the training rows' mean and covariance */
} Algan;

/* test entry point (test_algan.c) */
extern void an_algan_generate(void *state, AnRng *rng, int n, float *out);

static void
algan_options_init(void *mopts)
{
	AlganOptions *o = mopts;

	o->alpha = DEFAULT_ALPHA;
	o->sigma = DEFAULT_SIGMA;
}

/* the last epoch is kept (see above); D's weight decay (G has none) */
static void
algan_common_defaults(AnOptions *opts)
{
	opts->early_stopping_patience = 0;
	opts->weight_decay = DEFAULT_DECAY;
}

static AnStatus
algan_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *value)
{
	AlganOptions *o = mopts;

	if (strcmp(key, "alpha") == 0)
		return an_option_real(ctx, key, value, 0.0, 1.0, true, &o->alpha);
	if (strcmp(key, "sigma") == 0)
		return an_option_real(ctx, key, value, 1.0, SIGMA_MAX, false, &o->sigma);
	return AN_ERR_NOT_FOUND;
}

static void
algan_destroy(AnContext *ctx, void *state)
{
	Algan	   *g = state;

	an_mlp_free(ctx, &g->gen);
	an_mlp_free(ctx, &g->disc);
	an_mlp_free(ctx, &g->avg);
	an_adam_free(ctx, &g->gen_adam);
	an_adam_free(ctx, &g->disc_adam);
	an_free(ctx, g->lo);
	an_free(ctx, g->hi);
	an_free(ctx, g->xin);
	an_free(ctx, g->z);
	an_free(ctx, g->target);
	an_free(ctx, g->dlogit);
	an_free(ctx, g->dx);
	an_free(ctx, g->bank);
	an_moments_free(ctx, &g->moments);
	an_free(ctx, g);
}

static AnStatus
algan_create(AnContext *ctx, const AnOptions *opts, int dim, AnRng *rng, void **state)
{
	const AlganOptions *ao = opts->method_options;
	Algan	   *g = an_alloc0(ctx, sizeof(Algan));
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	int			n_layers;
	int			mb = opts->batch_size > AN_SCORE_BATCH ? opts->batch_size : AN_SCORE_BATCH;
	AnParamList params;

	if (!g)
		return an_nomem(ctx);
	/* from here on the caller destroys a partly built state */
	*state = g;
	g->dim = dim;
	g->latent = opts->latent;
	g->alpha = ao ? ao->alpha : DEFAULT_ALPHA;
	g->sigma = ao ? ao->sigma : DEFAULT_SIGMA;

	n_layers = an_decoder_dims(opts, opts->latent, dim, dims);
	an_hidden_acts(opts, n_layers, AN_ACT_IDENTITY, acts);
	AN_TRY(an_mlp_create(ctx, &g->gen, n_layers, dims, acts, true, true, mb));
	n_layers = an_encoder_dims(opts, dim, 1, dims);
	for (int l = 0; l < n_layers; l++)
		acts[l] = l == n_layers - 1 ? AN_ACT_IDENTITY : AN_ACT_LEAKY_RELU;
	AN_TRY(an_mlp_create(ctx, &g->disc, n_layers, dims, acts, true, true, 2 * mb));
	/* trainable only so that params() lists it: the trainer saves and restores it */
	AN_TRY(an_mlp_create(ctx, &g->avg, n_layers, dims, acts, true, true, mb));
	an_mlp_init(&g->gen, rng);
	an_mlp_init(&g->disc, rng);
	an_mlp_copy_weights(&g->avg, &g->disc, g->disc.n_layers);

	memset(&params, 0, sizeof(params));
	an_mlp_params(&g->gen, &params);
	AN_TRY(an_adam_create(ctx, &g->gen_adam, &params, opts->learning_rate, 0.0));
	g->gen_adam.beta1 = ADAM_BETA1;
	memset(&params, 0, sizeof(params));
	an_mlp_params(&g->disc, &params);
	AN_TRY(an_adam_create(ctx, &g->disc_adam, &params, opts->learning_rate,
						  opts->weight_decay));
	g->disc_adam.beta1 = ADAM_BETA1;

	g->lo = an_alloc_array(ctx, dim, sizeof(float));
	g->hi = an_alloc_array(ctx, dim, sizeof(float));
	g->xin = an_alloc_array(ctx, (size_t) 2 * mb * dim, sizeof(float));
	g->z = an_alloc_array(ctx, (size_t) mb * g->latent, sizeof(float));
	g->target = an_alloc_array(ctx, (size_t) 2 * mb, sizeof(float));
	g->dlogit = an_alloc_array(ctx, (size_t) 2 * mb, sizeof(float));
	g->dx = an_alloc_array(ctx, (size_t) mb * dim, sizeof(float));
	g->bank = an_alloc_array(ctx, (size_t) BANK_ROWS * dim, sizeof(float));
	if (!g->lo || !g->hi || !g->xin || !g->z || !g->target || !g->dlogit ||
		!g->dx || !g->bank)
		return an_nomem(ctx);
	return an_moments_create(ctx, &g->moments, dim, mb);
}

/* the bounding box, mean and covariance of all training rows (validation rows included) */
static AnStatus
algan_prepare(AnContext *ctx, void *state, const AnOptions *opts,
			  const float *x, size_t n, AnRng *rng)
{
	Algan	   *g = state;

	an_bounding_box(x, n, g->dim, g->lo, g->hi);
	return an_moments_fit(ctx, &g->moments, x, n);
}

/*
 * avg := decay avg + (1 - decay) disc, where decay = min(AVG_DECAY,
 * (1 + t) / (10 + t)) at step t: the average follows D closely while D is
 * young, so that a short training does not end with the initial weights'
 * share still large.
 */
static void
average_step(Algan *g)
{
	AnParamList a,
				d;
	double		decay = fmin(AVG_DECAY, (1.0 + g->steps) / (10.0 + g->steps));

	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	an_mlp_params(&g->avg, &a);
	an_mlp_params(&g->disc, &d);
	for (int p = 0; p < d.n; p++)
		for (size_t e = 0; e < d.items[p].size; e++)
			a.items[p].value[e] = (float) (decay * a.items[p].value[e] +
										   (1.0 - decay) * d.items[p].value[e]);
	g->steps++;
}

/*
 * One D step and one G step on n rows (see the header comment); returns
 * D's loss.
 */
static double
algan_train_batch(void *state, const float *x, int n, AnRng *rng)
{
	Algan	   *g = state;
	int			dim = g->dim;
	int			latent = g->latent;
	int			n_bank = g->bank_rows > 0 ? n / 4 : 0;
	int			n_fresh = n - n_bank;
	const float *gx;
	const float *logit;
	double		d_loss;

	/* ---- D step: n real rows, then n_fresh new and n_bank replayed fakes */
	for (int i = 0; i < n_fresh; i++)
	{
		double		scale = an_rng_uniform(rng) < g->alpha ? 1.0 : g->sigma;

		for (int k = 0; k < latent; k++)
			g->z[(size_t) i * latent + k] = (float) (scale * an_rng_normal(rng));
	}
	gx = an_mlp_forward(&g->gen, g->z, n_fresh);
	for (int i = 0; i < n_fresh && g->bank_rows < BANK_ROWS; i++)
		memcpy(g->bank + (size_t) g->bank_rows++ * dim, gx + (size_t) i * dim,
			   dim * sizeof(float));
	memcpy(g->xin, x, (size_t) n * dim * sizeof(float));
	memcpy(g->xin + (size_t) n * dim, gx, (size_t) n_fresh * dim * sizeof(float));
	for (int i = 0; i < n_bank; i++)
	{
		uint64_t	r = an_rng_below(rng, (uint64_t) g->bank_rows);

		memcpy(g->xin + (size_t) (n + n_fresh + i) * dim, g->bank + r * dim,
			   dim * sizeof(float));
	}
	for (int i = 0; i < 2 * n; i++)
		g->target[i] = i < n ? REAL_TARGET : FAKE_TARGET;
	logit = an_mlp_forward(&g->disc, g->xin, 2 * n);
	d_loss = an_bce_logits(logit, g->target, 2 * n, g->dlogit);
	an_mlp_backward(&g->disc, g->xin, 2 * n, g->dlogit, NULL);
	an_adam_step(&g->disc_adam);
	average_step(g);

	/* ---- G step: N(0, I) latents, labelled real, plus the moment term */
	for (size_t i = 0; i < (size_t) n * latent; i++)
		g->z[i] = (float) an_rng_normal(rng);
	gx = an_mlp_forward(&g->gen, g->z, n);
	for (int i = 0; i < n; i++)
		g->target[i] = 0.0f;
	logit = an_mlp_forward(&g->disc, gx, n);
	(void) an_bce_logits(logit, g->target, n, g->dlogit);
	an_mlp_backward(&g->disc, gx, n, g->dlogit, g->dx);
	(void) an_moments_loss(&g->moments, gx, n, MOMENT_WEIGHT, g->dx);
	an_mlp_backward(&g->gen, g->z, n, g->dx, NULL);
	an_adam_step(&g->gen_adam);
	return d_loss;
}

static AnStatus
algan_epoch_end(AnContext *ctx, void *state, const float *x, size_t n)
{
	Algan	   *g = state;

	g->epochs_done++;
	return AN_OK;
}

/* minus the epoch number: the trainer keeps the last epoch (see above) */
static double
algan_eval_loss(void *state, const float *x, size_t n)
{
	Algan	   *g = state;

	return -(double) g->epochs_done;
}

/* the averaged D is listed last, so that the trainer's snapshots keep it */
static void
algan_params(void *state, AnParamList *list)
{
	Algan	   *g = state;

	an_mlp_params(&g->gen, list);
	an_mlp_params(&g->disc, list);
	an_mlp_params(&g->avg, list);
}

/* the averaged D's logit of the clamped row plus the row's distance to the box */
static void
algan_score(void *state, const float *x, int n, double *out)
{
	Algan	   *g = state;
	const float *logit;

	an_box_clamp(g->lo, g->hi, x, n, g->dim, g->xin, out);
	logit = an_mlp_forward(&g->avg, g->xin, n);
	for (int i = 0; i < n; i++)
		out[i] = (double) logit[i] + sqrt(out[i]);
}

/* integrated gradients: D's logit has no per-dimension form */
static AnStatus
algan_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			  double *rest)
{
	return an_explain_integrated_gradients(ctx, &an_method_algan, state, x, dim,
										   contrib, rest);
}

void
an_algan_generate(void *state, AnRng *rng, int n, float *out)
{
	Algan	   *g = state;

	for (size_t i = 0; i < (size_t) n * g->latent; i++)
		g->z[i] = (float) an_rng_normal(rng);
	memcpy(out, an_mlp_forward(&g->gen, g->z, n), (size_t) n * g->dim * sizeof(float));
}

static AnStatus
algan_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Algan *g = state;

	msgpack_pack_map(pk, 3);
	an_pack_key_floats(pk, "lo", g->lo, g->dim);
	an_pack_key_floats(pk, "hi", g->hi, g->dim);
	an_pack_key_mlp(pk, "discriminator", &g->avg);
	return AN_OK;
}

static AnStatus
algan_decode_fields(AnContext *ctx, const AnObject *obj, int dim, Algan *g)
{
	AN_TRY(an_get_box(ctx, obj, dim, &g->lo, &g->hi));
	AN_TRY(an_get_mlp(ctx, obj, "discriminator", dim, false, AN_DECODE_BATCH, &g->avg));
	if (an_mlp_out_dim(&g->avg) != 1 ||
		g->avg.acts[g->avg.n_layers - 1] != AN_ACT_IDENTITY)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: the ALGAN discriminator's output is not one linear unit");
	g->xin = an_alloc_array(ctx, (size_t) AN_DECODE_BATCH * dim, sizeof(float));
	if (!g->xin)
		return an_nomem(ctx);
	return AN_OK;
}

static AnStatus
algan_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Algan	   *g = an_alloc0(ctx, sizeof(Algan));
	AnStatus	st;

	if (!g)
		return an_nomem(ctx);
	g->dim = dim;
	st = algan_decode_fields(ctx, obj, dim, g);
	if (st != AN_OK)
	{
		algan_destroy(ctx, g);
		return st;
	}
	*state = g;
	return AN_OK;
}

const AnMethod an_method_algan = {
	.name = "algan",
	.common_defaults = algan_common_defaults,
	.options_size = sizeof(AlganOptions),
	.options_init = algan_options_init,
	.set_option = algan_set_option,
	.create = algan_create,
	.prepare = algan_prepare,
	.train_batch = algan_train_batch,
	.eval_loss = algan_eval_loss,
	.epoch_end = algan_epoch_end,
	.params = algan_params,
	.score = algan_score,
	.explain = algan_explain,
	.encode = algan_encode,
	.decode = algan_decode,
	.destroy = algan_destroy,
};
