/*-------------------------------------------------------------------------
 *
 * method_egbad.c
 *	  EGBAD (Zenati et al. 2018, "Efficient GAN-based anomaly detection"):
 *	  a BiGAN whose encoder makes reconstruction cheap, scored by the
 *	  reconstruction residual and the discriminator's verdict.
 *
 * Three networks, sized from the number of features d by the common
 * hidden and latent options (by default h = the power of two at or above
 * 2d, 16 to 256, and latent = half the power of two at or above d, 2 to
 * 32; see an_options_resolve):
 *
 *	 E: d -> hidden... -> latent, the encoder, linear output;
 *	 G: latent -> ...hidden -> d, the generator, linear output (the rows
 *	    are standardised);
 *	 D: (d + latent) -> hidden... -> 1, the discriminator of the pair
 *	    (x, z) given as one concatenated row, leaky ReLU (a dead ReLU unit
 *	    passes G and E no gradient), linear output: the logit of "real".
 *
 * E and G use the "activation" option.  Each mini-batch of n training rows
 * x, with n latents z drawn from N(0, I), makes one D step and then one
 * G+E step (train_batch):
 *
 *	 D step: binary cross-entropy of D(x, E(x)) against 0.9 (one-sided
 *	 label smoothing: D is never asked for a certain "real", which keeps
 *	 its logits, and so the score's second term, bounded) and of D(G(z), z)
 *	 against 0.
 *
 *	 G+E step, against the updated D: the same pairs with the labels
 *	 swapped (1 for (G(z), z), 0 for (x, E(x)): the non-saturating loss of
 *	 Goodfellow et al.), plus consistency * ||x - G(E(x))||^2 / d, mean
 *	 over the batch, plus MOMENT_WEIGHT times the distance between the
 *	 first two moments of the batch's G(z) and the training rows'
 *	 (moments.c).
 *
 *	 The paper's EGBAD has no consistency term (consistency 0):
 *	 a BiGAN only learns E as G's inverse implicitly, and on tabular data
 *	 with a few thousand optimiser steps its G(E(x)) stays far from x, so
 *	 the residual is close to the distance from the data's centre.  The
 *	 term is the cycle consistency of ALICE (Li et al. 2017), which keeps
 *	 the adversarial game and ties E to G's inverse.  Its default, 0.1,
 *	 is small: a weight of 1 turns the method into an autoencoder with an
 *	 adversarial regulariser, which loses what the loose reconstruction
 *	 catches (docs/benchmarks.md has the figures).  Nor has it the moment
 *	 term: without it G never settles on a 2-D Gaussian, its samples'
 *	 variances swinging between a tenth and twice the data's from epoch to
 *	 epoch (test_egbad.c checks that they match).
 *
 * Both optimisers are Adam with the learning_rate option and beta1 = 0.5
 * (the DCGAN setting, also the paper's: with 0.9 each network's momentum
 * carries it past the other's moves).  train_batch returns the sum of the
 * D and G+E losses (without the residual), so that the trainer's divergence check
 * sees both; the validation loss is the mean residual of the held-out rows,
 * ||x - G(E(x))||^2 / d, the quantity that scores and the one that says
 * whether E and G have learnt the data (adversarial losses do not measure
 * progress).
 *
 * The score of a row x is
 *
 *	 (1 - lambda) * ||x - G(E(x))||^2 / d + lambda * disc(x)
 *
 * where disc(x) is the cross-entropy of D(x', E(x')) against "real",
 * softplus(-logit), at x' = x clamped into the training rows' bounding
 * box, plus ||x - x'||^2 / d.  D has only ever seen rows of the box:
 * outside it a piecewise-linear D extrapolates along directions nobody
 * trained, and could call a row a million standard deviations away
 * "real".  Clamping keeps D's verdict to where it means something, and
 * the squared distance to the box makes the term grow without bound away
 * from the data, whatever the residual does there (a piecewise-linear
 * G(E(x)) can follow x along some directions), so the score does not
 * plateau and even lambda = 1 flags extreme rows.  Both terms are >= 0,
 * so the discrimination term can only raise a score.
 *
 * The model document holds what scoring needs: E, G, D, lambda and the box.
 *
 * IDENTIFICATION
 *	  src/core/method_egbad.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/model.h"
#include "anomaly/moments.h"
#include "anomaly/trainer.h"

#define REAL_TARGET		0.9f	/* one-sided label smoothing of D's "real" */
#define ADAM_BETA1		0.5
#define CONSISTENCY_MAX	1000.0
#define MOMENT_WEIGHT	1.0		/* of G's moment-matching term */

typedef struct EgbadOptions
{
	double		lambda;			/* weight of the discrimination term */
	double		consistency;	/* weight of the G+E reconstruction term */
} EgbadOptions;

typedef struct Egbad
{
	AnMlp		enc;			/* d -> hidden... -> latent */
	AnMlp		gen;			/* latent -> ...hidden -> d */
	AnMlp		disc;			/* d + latent -> hidden... -> 1 */
	AnAdam		ge_adam;		/* E and G; unused after decoding */
	AnAdam		d_adam;			/* D; unused after decoding */
	int			dim;
	int			latent;
	double		lambda;
	double		consistency;
	float	   *lo;				/* dim: the training rows' bounding box */
	float	   *hi;
	AnMoments	moments;		/* the training rows' mean and covariance */

	/* workspace for `rows` rows: gin, din, xc always, the rest training only */
	int			rows;
	float	   *gin;			/* 2 rows x latent: G's input (z, then E(x)) */
	float	   *din;			/* 2 rows x (dim + latent): D's input pairs */
	float	   *xc;				/* rows x dim: rows clamped into the box */
	float	   *target;			/* 2 rows */
	float	   *dlogit;			/* 2 rows */
	float	   *ddin;			/* 2 rows x (dim + latent): d loss / d D's input */
	float	   *dgout;			/* 2 rows x dim: d loss / d G's output */
	float	   *dgin;			/* 2 rows x latent: d loss / d G's input */
	float	   *dein;			/* rows x latent: d loss / d E's output */
} Egbad;

/* test entry points (test_egbad.c): the G+E loss and its gradients; G's rows */
extern double an_egbad_ge_loss(void *state, const float *x, const float *z, int n,
							   AnParamList *ge_params);
extern void an_egbad_generate(void *state, AnRng *rng, int n, float *out);

static void
egbad_options_init(void *mopts)
{
	EgbadOptions *o = mopts;

	o->lambda = 0.1;
	o->consistency = 0.1;
}

static AnStatus
egbad_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *value)
{
	EgbadOptions *o = mopts;

	if (strcmp(key, "lambda") == 0)
		return an_option_real(ctx, key, value, 0.0, 1.0, false, &o->lambda);
	if (strcmp(key, "consistency") == 0)
		return an_option_real(ctx, key, value, 0.0, CONSISTENCY_MAX, false,
							  &o->consistency);
	return AN_ERR_NOT_FOUND;
}

static void
egbad_destroy(AnContext *ctx, void *state)
{
	Egbad	   *g = state;

	an_mlp_free(ctx, &g->enc);
	an_mlp_free(ctx, &g->gen);
	an_mlp_free(ctx, &g->disc);
	an_adam_free(ctx, &g->ge_adam);
	an_adam_free(ctx, &g->d_adam);
	an_free(ctx, g->lo);
	an_free(ctx, g->hi);
	an_free(ctx, g->gin);
	an_free(ctx, g->din);
	an_free(ctx, g->xc);
	an_free(ctx, g->target);
	an_free(ctx, g->dlogit);
	an_free(ctx, g->ddin);
	an_free(ctx, g->dgout);
	an_free(ctx, g->dgin);
	an_free(ctx, g->dein);
	an_moments_free(ctx, &g->moments);
	an_free(ctx, g);
}

/* the workspace for `rows` rows (see the struct); training adds gradients */
static AnStatus
egbad_alloc_work(AnContext *ctx, Egbad *g, int rows, bool trainable)
{
	size_t		pair = (size_t) g->dim + g->latent;

	g->rows = rows;
	g->gin = an_alloc_array(ctx, (size_t) 2 * rows * g->latent, sizeof(float));
	g->din = an_alloc_array(ctx, (size_t) 2 * rows * pair, sizeof(float));
	g->xc = an_alloc_array(ctx, (size_t) rows * g->dim, sizeof(float));
	if (!g->gin || !g->din || !g->xc)
		return an_nomem(ctx);
	if (!trainable)
		return AN_OK;
	g->target = an_alloc_array(ctx, (size_t) 2 * rows, sizeof(float));
	g->dlogit = an_alloc_array(ctx, (size_t) 2 * rows, sizeof(float));
	g->ddin = an_alloc_array(ctx, (size_t) 2 * rows * pair, sizeof(float));
	g->dgout = an_alloc_array(ctx, (size_t) 2 * rows * g->dim, sizeof(float));
	g->dgin = an_alloc_array(ctx, (size_t) 2 * rows * g->latent, sizeof(float));
	g->dein = an_alloc_array(ctx, (size_t) rows * g->latent, sizeof(float));
	if (!g->target || !g->dlogit || !g->ddin || !g->dgout || !g->dgin || !g->dein)
		return an_nomem(ctx);
	return AN_OK;
}

static AnStatus
egbad_create(AnContext *ctx, const AnOptions *opts, int dim, AnRng *rng, void **state)
{
	const EgbadOptions *eo = opts->method_options;
	Egbad	   *g = an_alloc0(ctx, sizeof(Egbad));
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	int			n_layers;
	int			mb = opts->batch_size > AN_SCORE_BATCH ? opts->batch_size : AN_SCORE_BATCH;
	double		wd = opts->weight_decay < 0 ? 0.0 : opts->weight_decay;
	AnParamList params;

	if (!g)
		return an_nomem(ctx);
	/* from here on the caller destroys a partly built state */
	*state = g;
	g->dim = dim;
	g->latent = opts->latent;
	g->lambda = eo ? eo->lambda : 0.1;
	g->consistency = eo ? eo->consistency : 0.1;

	n_layers = an_encoder_dims(opts, dim, opts->latent, dims);
	an_hidden_acts(opts, n_layers, AN_ACT_IDENTITY, acts);
	AN_TRY(an_mlp_create(ctx, &g->enc, n_layers, dims, acts, true, true, mb));
	n_layers = an_decoder_dims(opts, opts->latent, dim, dims);
	an_hidden_acts(opts, n_layers, AN_ACT_IDENTITY, acts);
	AN_TRY(an_mlp_create(ctx, &g->gen, n_layers, dims, acts, true, true, 2 * mb));
	n_layers = an_encoder_dims(opts, dim + opts->latent, 1, dims);
	for (int l = 0; l < n_layers; l++)
		acts[l] = l == n_layers - 1 ? AN_ACT_IDENTITY : AN_ACT_LEAKY_RELU;
	AN_TRY(an_mlp_create(ctx, &g->disc, n_layers, dims, acts, true, true, 2 * mb));
	an_mlp_init(&g->enc, rng);
	an_mlp_init(&g->gen, rng);
	an_mlp_init(&g->disc, rng);

	memset(&params, 0, sizeof(params));
	an_mlp_params(&g->enc, &params);
	an_mlp_params(&g->gen, &params);
	AN_TRY(an_adam_create(ctx, &g->ge_adam, &params, opts->learning_rate, wd));
	g->ge_adam.beta1 = ADAM_BETA1;
	memset(&params, 0, sizeof(params));
	an_mlp_params(&g->disc, &params);
	AN_TRY(an_adam_create(ctx, &g->d_adam, &params, opts->learning_rate, wd));
	g->d_adam.beta1 = ADAM_BETA1;

	g->lo = an_alloc_array(ctx, dim, sizeof(float));
	g->hi = an_alloc_array(ctx, dim, sizeof(float));
	if (!g->lo || !g->hi)
		return an_nomem(ctx);
	AN_TRY(an_moments_create(ctx, &g->moments, dim, mb));
	return egbad_alloc_work(ctx, g, mb, true);
}

/* the bounding box and moments of all training rows (validation rows included) */
static AnStatus
egbad_prepare(AnContext *ctx, void *state, const AnOptions *opts,
			  const float *x, size_t n, AnRng *rng)
{
	Egbad	   *g = state;

	an_bounding_box(x, n, g->dim, g->lo, g->hi);
	return an_moments_fit(ctx, &g->moments, x, n);
}

/*
 * The forward pass shared by both steps: E(x), then G on the 2n latents
 * (z, then E(x)), then D's input pairs: row i < n is (x_i, E(x_i)), row
 * n + i is (G(z_i), z_i).  Leaves E's and G's activations in place for
 * the G+E backward pass; returns G's output (G(z) then G(E(x))).
 */
static const float *
egbad_forward_pairs(Egbad *g, const float *x, const float *z, int n)
{
	int			d = g->dim;
	int			k = g->latent;
	const float *ex = an_mlp_forward(&g->enc, x, n);
	const float *gy;

	if (z != g->gin)
		memcpy(g->gin, z, (size_t) n * k * sizeof(float));
	memcpy(g->gin + (size_t) n * k, ex, (size_t) n * k * sizeof(float));
	gy = an_mlp_forward(&g->gen, g->gin, 2 * n);
	for (int i = 0; i < n; i++)
	{
		float	   *real = g->din + (size_t) i * (d + k);
		float	   *fake = g->din + (size_t) (n + i) * (d + k);

		memcpy(real, x + (size_t) i * d, d * sizeof(float));
		memcpy(real + d, g->gin + (size_t) (n + i) * k, k * sizeof(float));
		memcpy(fake, gy + (size_t) i * d, d * sizeof(float));
		memcpy(fake + d, z + (size_t) i * k, k * sizeof(float));
	}
	return gy;
}

/*
 * After egbad_forward_pairs: the gradients in E's and G's parameters of
 * the G+E loss: the adversarial loss (swapped labels through the current
 * D) plus the moment term (both returned) plus consistency times the
 * batch's mean residual (the residual into *residual).  D's parameter gradients are overwritten as a side effect
 * and must not be used.
 */
static double
egbad_ge_backward(Egbad *g, const float *x, const float *gy, int n, double *residual)
{
	int			d = g->dim;
	int			k = g->latent;
	const float *logit;
	double		loss;

	for (int i = 0; i < 2 * n; i++)
		g->target[i] = i < n ? 0.0f : 1.0f;
	logit = an_mlp_forward(&g->disc, g->din, 2 * n);
	loss = an_bce_logits(logit, g->target, 2 * n, g->dlogit);
	an_mlp_backward(&g->disc, g->din, 2 * n, g->dlogit, g->ddin);

	/* G's output: rows < n get D's gradient of G(z), rows >= n the residual's */
	for (int i = 0; i < n; i++)
		memcpy(g->dgout + (size_t) i * d, g->ddin + (size_t) (n + i) * (d + k),
			   d * sizeof(float));
	loss += MOMENT_WEIGHT * an_moments_loss(&g->moments, gy, n, MOMENT_WEIGHT, g->dgout);
	if (g->consistency > 0.0)
	{
		float	   *dres = g->dgout + (size_t) n * d;

		*residual = an_mse(gy + (size_t) n * d, x, n, d, dres);
		for (size_t i = 0; i < (size_t) n * d; i++)
			dres[i] *= (float) g->consistency;
	}
	else
	{
		*residual = an_mse(gy + (size_t) n * d, x, n, d, NULL);
		memset(g->dgout + (size_t) n * d, 0, (size_t) n * d * sizeof(float));
	}
	an_mlp_backward(&g->gen, g->gin, 2 * n, g->dgout, g->dgin);

	/* E's output: D's gradient of the z half of (x, E(x)), plus through G */
	for (int i = 0; i < n; i++)
		for (int c = 0; c < k; c++)
			g->dein[(size_t) i * k + c] = g->ddin[(size_t) i * (d + k) + d + c] +
				g->dgin[(size_t) (n + i) * k + c];
	an_mlp_backward(&g->enc, x, n, g->dein, NULL);
	return loss;
}

double
an_egbad_ge_loss(void *state, const float *x, const float *z, int n,
				 AnParamList *ge_params)
{
	Egbad	   *g = state;
	const float *gy = egbad_forward_pairs(g, x, z, n);
	double		residual;
	double		loss = egbad_ge_backward(g, x, gy, n, &residual);

	an_mlp_params(&g->enc, ge_params);
	an_mlp_params(&g->gen, ge_params);
	return loss + g->consistency * residual;
}

/* n <= the training batch rows G(z), z from N(0, I) drawn from rng */
void
an_egbad_generate(void *state, AnRng *rng, int n, float *out)
{
	Egbad	   *g = state;

	for (size_t i = 0; i < (size_t) n * g->latent; i++)
		g->gin[i] = (float) an_rng_normal(rng);
	memcpy(out, an_mlp_forward(&g->gen, g->gin, n), (size_t) n * g->dim * sizeof(float));
}

/*
 * One D step and one G+E step on n rows (see the header comment); returns
 * the sum of the two adversarial losses.
 */
static double
egbad_train_batch(void *state, const float *x, int n, AnRng *rng)
{
	Egbad	   *g = state;
	int			k = g->latent;
	const float *gy;
	const float *logit;
	double		d_loss;
	double		ge_loss;
	double		residual;

	/* z is drawn where egbad_forward_pairs would copy it to */
	for (size_t i = 0; i < (size_t) n * k; i++)
		g->gin[i] = (float) an_rng_normal(rng);
	gy = egbad_forward_pairs(g, x, g->gin, n);

	/* D step: (x, E(x)) is real (smoothed), (G(z), z) is generated */
	for (int i = 0; i < 2 * n; i++)
		g->target[i] = i < n ? REAL_TARGET : 0.0f;
	logit = an_mlp_forward(&g->disc, g->din, 2 * n);
	d_loss = an_bce_logits(logit, g->target, 2 * n, g->dlogit);
	an_mlp_backward(&g->disc, g->din, 2 * n, g->dlogit, NULL);
	an_adam_step(&g->d_adam);

	/* G+E step against the updated D; E's and G's activations are intact */
	ge_loss = egbad_ge_backward(g, x, gy, n, &residual);
	an_adam_step(&g->ge_adam);
	return d_loss + ge_loss;
}

/* per row ||x - G(E(x))||^2 / d into out; returns G's output */
static const float *
egbad_residual(Egbad *g, const float *x, int n, double *out)
{
	const float *ex = an_mlp_forward(&g->enc, x, n);
	const float *y;

	memcpy(g->gin, ex, (size_t) n * g->latent * sizeof(float));
	y = an_mlp_forward(&g->gen, g->gin, n);
	an_row_mse(y, x, n, g->dim, out);
	return y;
}

/*
 * Per row the discrimination term: softplus(-D(x', E(x'))) at x' = x
 * clamped into the box, plus ||x - x'||^2 / d (see the header comment).
 */
static void
egbad_discrimination(Egbad *g, const float *x, int n, double *out)
{
	int			d = g->dim;
	int			k = g->latent;
	const float *ec;
	const float *logit;

	/* a NaN stays NaN: the score is then reported as +Infinity */
	an_box_clamp(g->lo, g->hi, x, n, d, g->xc, out);
	for (int i = 0; i < n; i++)
		out[i] /= d;
	ec = an_mlp_forward(&g->enc, g->xc, n);
	for (int i = 0; i < n; i++)
	{
		memcpy(g->din + (size_t) i * (d + k), g->xc + (size_t) i * d, d * sizeof(float));
		memcpy(g->din + (size_t) i * (d + k) + d, ec + (size_t) i * k, k * sizeof(float));
	}
	logit = an_mlp_forward(&g->disc, g->din, n);
	for (int i = 0; i < n; i++)
		out[i] += an_softplus(-(double) logit[i]);
}

static void
egbad_residual_scores(void *state, const float *x, int n, double *out)
{
	egbad_residual(state, x, n, out);
}

/* the mean residual of the held-out rows (see the header comment) */
static double
egbad_eval_loss(void *state, const float *x, size_t n)
{
	return an_mean_block_score(egbad_residual_scores, state, x, n, ((Egbad *) state)->dim);
}

static void
egbad_params(void *state, AnParamList *list)
{
	Egbad	   *g = state;

	an_mlp_params(&g->enc, list);
	an_mlp_params(&g->gen, list);
	an_mlp_params(&g->disc, list);
}

static void
egbad_score(void *state, const float *x, int n, double *out)
{
	Egbad	   *g = state;
	double		disc[AN_SCORE_BATCH];

	egbad_residual(g, x, n, out);
	if (g->lambda > 0.0)
		egbad_discrimination(g, x, n, disc);
	for (int i = 0; i < n; i++)
		out[i] = (1.0 - g->lambda) * out[i] +
			(g->lambda > 0.0 ? g->lambda * disc[i] : 0.0);
}

/*
 * Each dimension's share of the residual term, (1 - lambda) *
 * (G(E(x))_j - x_j)^2 / d, as the autoencoder's; the discrimination term
 * (including the distance to the box) belongs to no single dimension and
 * is the rest.
 */
static AnStatus
egbad_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			  double *rest)
{
	Egbad	   *g = state;
	double		res;
	double		disc = 0.0;
	const float *y = egbad_residual(g, x, 1, &res);

	for (int j = 0; j < dim; j++)
	{
		double		diff = (double) y[j] - x[j];

		contrib[j] = (1.0 - g->lambda) * diff * diff / dim;
	}
	if (g->lambda > 0.0)
		egbad_discrimination(g, x, 1, &disc);
	*rest = g->lambda > 0.0 ? g->lambda * disc : 0.0;
	return AN_OK;
}

static AnStatus
egbad_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Egbad *g = state;

	msgpack_pack_map(pk, 7);
	an_pack_key_real(pk, "lambda", g->lambda);
	an_pack_key_int(pk, "latent", g->latent);
	an_pack_key_floats(pk, "lo", g->lo, g->dim);
	an_pack_key_floats(pk, "hi", g->hi, g->dim);
	an_pack_key_mlp(pk, "encoder", &g->enc);
	an_pack_key_mlp(pk, "generator", &g->gen);
	an_pack_key_mlp(pk, "discriminator", &g->disc);
	return AN_OK;
}

static AnStatus
egbad_decode_fields(AnContext *ctx, const AnObject *obj, int dim, Egbad *g)
{
	int64_t		latent;

	AN_TRY(an_get_real(ctx, obj, "lambda", &g->lambda));
	if (!(g->lambda >= 0.0 && g->lambda <= 1.0))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"lambda\" is out of range");
	AN_TRY(an_get_int(ctx, obj, "latent", 1, 65536, &latent));
	g->latent = (int) latent;
	AN_TRY(an_get_box(ctx, obj, dim, &g->lo, &g->hi));

	AN_TRY(an_get_mlp(ctx, obj, "encoder", dim, false, AN_DECODE_BATCH, &g->enc));
	if (an_mlp_out_dim(&g->enc) != g->latent ||
		g->enc.acts[g->enc.n_layers - 1] != AN_ACT_IDENTITY)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: the EGBAD encoder's output is not %d linear units",
						g->latent);
	AN_TRY(an_get_mlp(ctx, obj, "generator", g->latent, false, AN_DECODE_BATCH, &g->gen));
	if (an_mlp_out_dim(&g->gen) != dim ||
		g->gen.acts[g->gen.n_layers - 1] != AN_ACT_IDENTITY)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: the EGBAD generator's output is not %d linear units",
						dim);
	AN_TRY(an_get_mlp(ctx, obj, "discriminator", dim + g->latent, false, AN_DECODE_BATCH,
					  &g->disc));
	if (an_mlp_out_dim(&g->disc) != 1 ||
		g->disc.acts[g->disc.n_layers - 1] != AN_ACT_IDENTITY)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: the EGBAD discriminator's output is not one linear unit");
	return egbad_alloc_work(ctx, g, AN_DECODE_BATCH, false);
}

static AnStatus
egbad_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Egbad	   *g = an_alloc0(ctx, sizeof(Egbad));
	AnStatus	st;

	if (!g)
		return an_nomem(ctx);
	g->dim = dim;
	st = egbad_decode_fields(ctx, obj, dim, g);
	if (st != AN_OK)
	{
		egbad_destroy(ctx, g);
		return st;
	}
	*state = g;
	return AN_OK;
}

const AnMethod an_method_egbad = {
	.name = "egbad",
	.options_size = sizeof(EgbadOptions),
	.options_init = egbad_options_init,
	.set_option = egbad_set_option,
	.create = egbad_create,
	.prepare = egbad_prepare,
	.train_batch = egbad_train_batch,
	.eval_loss = egbad_eval_loss,
	.params = egbad_params,
	.score = egbad_score,
	.explain = egbad_explain,
	.encode = egbad_encode,
	.decode = egbad_decode,
	.destroy = egbad_destroy,
};
