/*-------------------------------------------------------------------------
 *
 * method_ocnn.c
 *	  One-class neural network (Chalapathy, Menon and Chawla 2018, "Anomaly
 *	  Detection using One-Class Neural Networks").
 *
 * Rows are mapped to codes z(x) by the encoder of an autoencoder trained
 * first and then frozen (or z(x) = x with pretrain => false).  On features
 * g(x) of the codes, a network with one sigmoid hidden layer V and one
 * linear output w, without biases, gives yhat(x) = w . sigmoid(V g(x)), and
 * the OC-SVM-like objective
 *
 *	 lambda/2 (||w||^2 + ||V||_F^2) + 1/nu mean_n max(0, r - yhat(x_n)) - r
 *
 * is minimised by alternating: Adam steps on w and V with r fixed (the mean
 * over a mini-batch standing for the mean over all rows), then, after every
 * epoch, r set to the nu-quantile of yhat over the rows, which minimises
 * the objective in r for fixed w and V.  lambda is 1 in the paper; it is
 * the weight_decay option here, since an L2 penalty is what it is.  A row
 * scores r - yhat(x): positive for about the fraction nu of training rows,
 * higher = more anomalous.
 *
 * The features.  The objective rewards a high lower tail of yhat, nothing
 * else: it is the OC-SVM's "separate the data from the origin with a
 * maximal margin", and like the OC-SVM it detects anomalies only where the
 * feature map sends points far from the data towards the origin, as the
 * Gaussian kernel does.  A sigmoid of an unbounded code without bias does
 * the opposite: on standardised data a heavy tail can only be turned up or
 * down, and the objective turns it up, so that the rows in the tails score
 * as the most normal ones (AUROC below 0.5 on most benchmark sets).  So by
 * default g(x) is the vector of Gaussian similarities
 *
 *	 g_c(x) = exp(-gamma ||z(x) - c||^2)
 *
 * to rbf_centers codes c of training rows drawn at random (a Nystroem-style
 * kernel map, which makes the method the neural counterpart of an OC-SVM
 * with a Gaussian kernel on the codes).  A row far from every centre maps
 * to the origin, where sigmoid(V g) = 1/2 whatever V is; raising yhat on
 * the lowest training rows, the objective learns w . sigmoid(V g) above
 * that level on the data, so the far rows score lowest.  gamma is 3 /
 * (the total variance of the codes) unless given.  The
 * map is fixed once the centres are drawn, like the encoder.
 * rbf_centers => 0 feeds the codes themselves, as the paper does.
 *
 * Far rows.  A row far from every centre has all its features at 0 (in
 * float, from gamma d^2 of about 16 on), and every such row gets the same
 * yhat, sum(w) / 2: rows ever farther out would share one score, a
 * plateau, and "the top 20" would be an arbitrary pick among ties.  So
 * the score adds OCNN_FAR_SLOPE |r| per unit of gamma d^2 beyond
 * OCNN_FAR, d the distance to the nearest centre: zero where the network
 * still sees the row, and growing with the distance where it no longer
 * does.  With rbf_centers => 0 the sigmoid units saturate instead, and far
 * rows can still tie.
 *
 * IDENTIFICATION
 *	  src/core/method_ocnn.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "anomaly/explain.h"
#include "anomaly/method.h"
#include "anomaly/pretrain.h"
#include "anomaly/stats.h"

#define OCNN_MAX_UNITS		65536
#define OCNN_MAX_CENTERS	4096
#define OCNN_MAX_GAMMA		1e6

/*
 * Beyond gamma d^2 = OCNN_FAR to the nearest centre every feature is below
 * e^-16 (1e-7), under float resolution of sigmoid(V g) around 1/2: the
 * network's output is flat there (see ocnn_score).
 */
#define OCNN_FAR			16.0
#define OCNN_FAR_SLOPE		1e-3

/* defined at the end; explain scores through it */
extern const AnMethod an_method_ocnn;

/* the method's own options */
typedef struct OcnnOptions
{
	double		nu;
	int			units;			/* 0 = derive from the feature width */
	bool		pretrain;
	int			pretrain_epochs;	/* 0 = the epochs option */
	int			rbf_centers;	/* 0 = the codes themselves */
	double		rbf_gamma;		/* 0 = 3 / total variance of the codes */
} OcnnOptions;

typedef struct Ocnn
{
	int			dim;
	bool		pretrained;
	AnMlp		encoder;		/* frozen; no layers without pretraining */
	int			code_dim;		/* encoder output width, or dim */

	/* the Gaussian feature map; n_centers = 0: g(x) = z(x) */
	int			n_centers;
	float	   *centers;		/* n_centers x code_dim */
	double		gamma;
	float	   *features;		/* max_batch x n_centers */
	double	   *nearest;		/* max_batch: gamma d^2 to the nearest centre */

	AnMlp		net;			/* in -> units (sigmoid) -> 1 (identity), no bias */
	AnAdam		adam;			/* on net only; unused after decoding */
	double		nu;
	double		lambda;			/* L2 weight of w and V */

	/* training only */
	int			pretrain_epochs;
	double		gamma_option;

	/*
	 * r is a float in the trainer's parameter list (with a gradient that
	 * stays zero, and outside Adam's list), so that the early-stopping
	 * snapshot restores the r of the best epoch together with its weights.
	 */
	float		r;
	float		r_grad;
	float	   *dout;			/* max_batch: d loss / d yhat */
} Ocnn;

/* ---- options ---- */

static void
ocnn_options_init(void *mopts)
{
	OcnnOptions *o = mopts;

	o->nu = 0.5;
	o->units = 0;
	o->pretrain = true;
	o->pretrain_epochs = 0;
	o->rbf_centers = 64;
	o->rbf_gamma = 0.0;
}

static AnStatus
ocnn_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	OcnnOptions *o = mopts;
	int64_t		i;

	if (strcmp(key, "nu") == 0)
		return an_option_real(ctx, key, v, 0.0, 1.0, true, &o->nu);
	if (strcmp(key, "units") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, OCNN_MAX_UNITS, &i));
		o->units = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "pretrain") == 0)
		return an_option_bool(ctx, key, v, &o->pretrain);
	if (strcmp(key, "pretrain_epochs") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 1, 100000, &i));
		o->pretrain_epochs = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "rbf_centers") == 0)
	{
		AN_TRY(an_option_int(ctx, key, v, 0, OCNN_MAX_CENTERS, &i));
		o->rbf_centers = (int) i;
		return AN_OK;
	}
	if (strcmp(key, "rbf_gamma") == 0)
		return an_option_real(ctx, key, v, 0.0, OCNN_MAX_GAMMA, true, &o->rbf_gamma);
	return AN_ERR_NOT_FOUND;
}

/* ---- state ---- */

static void
ocnn_destroy(AnContext *ctx, void *state)
{
	Ocnn	   *oc = state;

	an_mlp_free(ctx, &oc->encoder);
	an_free(ctx, oc->centers);
	an_free(ctx, oc->features);
	an_free(ctx, oc->nearest);
	an_mlp_free(ctx, &oc->net);
	an_adam_free(ctx, &oc->adam);
	an_free(ctx, oc->dout);
	an_free(ctx, oc);
}

/*
 * The hidden width when the option is not given: half the power of two at
 * or above the feature width, 8 to 32 (32 for the 64 default centres, which
 * did better on the benchmark sets than 16 or 64).
 */
static int
ocnn_default_units(int in)
{
	int			p = 16;

	while (p < in && p < 64)
		p <<= 1;
	return p / 2;
}

/* the buffers of the feature map, once n_centers and code_dim are known */
static AnStatus
ocnn_alloc_map(AnContext *ctx, Ocnn *oc, int max_batch)
{
	if (oc->n_centers == 0)
		return AN_OK;
	oc->centers = an_alloc_array(ctx, (size_t) oc->n_centers * oc->code_dim,
								 sizeof(float));
	oc->features = an_alloc_array(ctx, (size_t) max_batch * oc->n_centers,
								  sizeof(float));
	oc->nearest = an_alloc_array(ctx, (size_t) max_batch, sizeof(double));
	return oc->centers && oc->features && oc->nearest ? AN_OK : an_nomem(ctx);
}

static AnStatus
ocnn_create(AnContext *ctx, const AnOptions *opts, int dim, AnRng *rng, void **state)
{
	const OcnnOptions *mo = opts->method_options;
	Ocnn	   *oc = an_alloc0(ctx, sizeof(Ocnn));
	int			dims[3];
	AnActivation acts[2] = {AN_ACT_SIGMOID, AN_ACT_IDENTITY};
	int			max_batch = opts->batch_size > AN_SCORE_BATCH
		? opts->batch_size : AN_SCORE_BATCH;
	AnParamList params;

	if (!oc)
		return an_nomem(ctx);
	*state = oc;
	oc->dim = dim;
	oc->pretrained = mo->pretrain;
	/* the encoder, built in prepare, ends in the latent width */
	oc->code_dim = mo->pretrain ? opts->latent : dim;
	oc->n_centers = mo->rbf_centers;
	oc->gamma_option = mo->rbf_gamma;
	oc->nu = mo->nu;
	oc->lambda = opts->weight_decay < 0 ? 1.0 : opts->weight_decay;
	/* without the L2 term, scaling w and V up lowers the objective forever */
	if (oc->lambda <= 0.0)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"weight_decay\" must be positive for method \"ocnn\": it weights the objective's L2 term");
	oc->pretrain_epochs = mo->pretrain_epochs > 0 ? mo->pretrain_epochs : opts->epochs;
	AN_TRY(ocnn_alloc_map(ctx, oc, max_batch));

	dims[0] = oc->n_centers > 0 ? oc->n_centers : oc->code_dim;
	dims[1] = mo->units > 0 ? mo->units : ocnn_default_units(dims[0]);
	dims[2] = 1;
	AN_TRY(an_mlp_create(ctx, &oc->net, 2, dims, acts, false, true, max_batch));
	an_mlp_init(&oc->net, rng);

	/*
	 * Start w where the objective has its optimum along the direction every
	 * row shares: with sigmoid(V g) near 1/2, yhat is about sum(w) / 2 for
	 * every row, and lambda/2 ||w||^2 - sum(w) / 2 is least at w = 1 /
	 * (2 lambda).  From nn.Linear's small initial w the alternation takes
	 * thousands of steps to get there, since r follows the outputs only
	 * once per epoch: in between, the rows rise above the stale r and leave
	 * the hinge, and the L2 term pulls w back.  Meanwhile V stays near zero
	 * and its sign, and with it the orientation of the scores, is left to
	 * the noise of the mini-batches.
	 */
	for (int u = 0; u < dims[1]; u++)
		oc->net.layers[1].w[u] = (float) (0.5 / oc->lambda);

	memset(&params, 0, sizeof(params));
	an_mlp_params(&oc->net, &params);
	/* the L2 penalty is part of the loss (and its gradient) itself */
	AN_TRY(an_adam_create(ctx, &oc->adam, &params, opts->learning_rate, 0.0));
	oc->dout = an_alloc_array(ctx, (size_t) max_batch, sizeof(float));
	return oc->dout ? AN_OK : an_nomem(ctx);
}

/* codes of n <= max_batch rows (owned by the encoder, or x itself) */
static const float *
ocnn_codes(Ocnn *oc, const float *x, int n)
{
	return oc->pretrained ? an_mlp_forward(&oc->encoder, x, n) : x;
}

/* yhat of n <= max_batch rows; *features receives the network's input */
static const float *
ocnn_forward(Ocnn *oc, const float *x, int n, const float **features)
{
	const float *g = ocnn_codes(oc, x, n);

	if (oc->n_centers > 0)
	{
		int			k = oc->code_dim;
		int			m = oc->n_centers;

		for (int i = 0; i < n; i++)
		{
			const float *z = g + (size_t) i * k;

			oc->nearest[i] = INFINITY;
			for (int c = 0; c < m; c++)
			{
				const float *centre = oc->centers + (size_t) c * k;
				float		d2 = 0.0f;

				for (int j = 0; j < k; j++)
				{
					float		t = z[j] - centre[j];

					d2 += t * t;
				}
				oc->features[(size_t) i * m + c] = expf((float) (-oc->gamma * d2));
				if (oc->gamma * d2 < oc->nearest[i])
					oc->nearest[i] = oc->gamma * d2;
			}
		}
		g = oc->features;
	}
	if (features)
		*features = g;
	return an_mlp_forward(&oc->net, g, n);
}

static double
ocnn_sq_weights(const Ocnn *oc)
{
	double		sum = 0.0;

	for (int l = 0; l < oc->net.n_layers; l++)
	{
		const AnDense *d = &oc->net.layers[l];
		size_t		nw = (size_t) d->in * d->out;

		for (size_t i = 0; i < nw; i++)
			sum += (double) d->w[i] * d->w[i];
	}
	return sum;
}

/*
 * r = the nu-quantile of yhat over the n rows (the trainer passes every
 * row, the validation split included): for fixed w and V it minimises
 * 1/nu mean max(0, r - yhat) - r, whose subgradient in r is the fraction of
 * rows below r over nu, minus one.
 */
static AnStatus
ocnn_epoch_end(AnContext *ctx, void *state, const float *x, size_t n)
{
	Ocnn	   *oc = state;
	double	   *yhat = an_alloc_array(ctx, n, sizeof(double));
	int			chunk = oc->net.max_batch;

	if (!yhat)
		return an_nomem(ctx);
	for (size_t i = 0; i < n; i += chunk)
	{
		int			m = (int) (n - i < (size_t) chunk ? n - i : (size_t) chunk);
		const float *y = ocnn_forward(oc, x + i * oc->dim, m, NULL);

		for (int k = 0; k < m; k++)
			yhat[i + k] = y[k];
	}
	an_sort_doubles(yhat, n);
	oc->r = (float) an_quantile_sorted(yhat, n, oc->nu);
	an_free(ctx, yhat);
	if (!isfinite(oc->r))
		return an_error(ctx, AN_ERR_NUMERIC,
						"training diverged: the OC-NN offset r is not finite");
	return AN_OK;
}

/*
 * The centres: the codes of n_centers distinct training rows drawn at
 * random (Floyd's algorithm; with replacement if there are fewer rows), and
 * gamma = 3 / sum of the codes' variances, so that two rows drawn at random
 * are at gamma d^2 = 6 of each other on average: a similarity of e^-6, the
 * map is local.  (1 / total variance, about scikit-learn's gamma = "scale",
 * was 0.02 to 0.03 lower in mean AUROC on the benchmark sets; 2 to 4 /
 * total variance all did about as well.)
 */
static AnStatus
ocnn_fit_map(AnContext *ctx, Ocnn *oc, const float *x, size_t n, AnRng *rng)
{
	int			k = oc->code_dim;
	int			m = oc->n_centers;
	size_t	   *rows = an_alloc_array(ctx, (size_t) m, sizeof(size_t));
	double	   *sum = an_alloc0(ctx, sizeof(double) * 2 * k);
	double		total = 0.0;
	int			chunk = oc->net.max_batch;

	if (!rows || !sum)
	{
		an_free(ctx, rows);
		an_free(ctx, sum);
		return an_nomem(ctx);
	}
	for (int c = 0; c < m; c++)
	{
		if (n >= (size_t) m)
		{
			/* Floyd: a uniform m-subset of 0 .. n-1 */
			size_t		j = n - m + c;
			size_t		t = (size_t) an_rng_below(rng, (uint64_t) j + 1);
			bool		seen = false;

			for (int p = 0; p < c && !seen; p++)
				seen = rows[p] == t;
			rows[c] = seen ? j : t;
		}
		else
			rows[c] = (size_t) an_rng_below(rng, n);
	}
	for (int c = 0; c < m; c++)
		memcpy(oc->centers + (size_t) c * k, ocnn_codes(oc, x + rows[c] * oc->dim, 1),
			   sizeof(float) * k);

	for (size_t i = 0; i < n; i += chunk)
	{
		int			b = (int) (n - i < (size_t) chunk ? n - i : (size_t) chunk);
		const float *z = ocnn_codes(oc, x + i * oc->dim, b);

		for (int r = 0; r < b; r++)
			for (int j = 0; j < k; j++)
			{
				double		v = z[(size_t) r * k + j];

				sum[j] += v;
				sum[k + j] += v * v;
			}
	}
	for (int j = 0; j < k; j++)
	{
		double		mean = sum[j] / (double) n;

		total += fmax(sum[k + j] / (double) n - mean * mean, 0.0);
	}
	an_free(ctx, rows);
	an_free(ctx, sum);

	if (oc->gamma_option > 0)
		oc->gamma = oc->gamma_option;
	else
		oc->gamma = total > 1e-12 ? 3.0 / total : 1.0;
	return AN_OK;
}

static AnStatus
ocnn_prepare(AnContext *ctx, void *state, const AnOptions *opts, const float *x,
			 size_t n, AnRng *rng)
{
	Ocnn	   *oc = state;

	if (oc->pretrained)
	{
		AnOptions	pre = *opts;

		/* weight_decay is the OC-NN's lambda, not the autoencoder's */
		pre.weight_decay = -1.0;
		AN_TRY(an_autoencoder_pretrain(ctx, &pre, oc->pretrain_epochs, AN_ACT_IDENTITY,
									   true, x, n, oc->dim, rng, false,
									   oc->net.max_batch, &oc->encoder));
		if (an_mlp_out_dim(&oc->encoder) != oc->code_dim)
			return an_error(ctx, AN_ERR_INVALID,
							"the pretrained encoder's output width %d is not the latent width %d",
							an_mlp_out_dim(&oc->encoder), oc->code_dim);
	}
	if (oc->n_centers > 0)
		AN_TRY(ocnn_fit_map(ctx, oc, x, n, rng));
	/* start from the r that fits the initial network */
	return ocnn_epoch_end(ctx, oc, x, n);
}

static double
ocnn_train_batch(void *state, const float *x, int n, AnRng *rng)
{
	Ocnn	   *oc = state;
	const float *g;
	const float *y = ocnn_forward(oc, x, n, &g);
	double		hinge = 0.0;
	float		slope = (float) (-1.0 / (oc->nu * n));
	float		lambda = (float) oc->lambda;
	double		loss;

	(void) rng;
	for (int i = 0; i < n; i++)
	{
		double		gap = (double) oc->r - y[i];

		if (gap > 0)
		{
			hinge += gap;
			oc->dout[i] = slope;
		}
		else
			oc->dout[i] = 0.0f;
	}
	loss = 0.5 * oc->lambda * ocnn_sq_weights(oc) + hinge / (oc->nu * n) - oc->r;

	an_mlp_backward(&oc->net, g, n, oc->dout, NULL);
	for (int l = 0; l < oc->net.n_layers; l++)
	{
		AnDense    *d = &oc->net.layers[l];
		size_t		nw = (size_t) d->in * d->out;

		for (size_t i = 0; i < nw; i++)
			d->gw[i] += lambda * d->w[i];
	}
	an_adam_step(&oc->adam);
	return loss;
}

/* the objective on validation rows, with the current r */
static double
ocnn_eval_loss(void *state, const float *x, size_t n)
{
	Ocnn	   *oc = state;
	int			chunk = oc->net.max_batch;
	double		hinge = 0.0;

	if (n == 0)
		return NAN;
	for (size_t i = 0; i < n; i += chunk)
	{
		int			m = (int) (n - i < (size_t) chunk ? n - i : (size_t) chunk);
		const float *y = ocnn_forward(oc, x + i * oc->dim, m, NULL);

		for (int k = 0; k < m; k++)
			hinge += fmax((double) oc->r - y[k], 0.0);
	}
	return 0.5 * oc->lambda * ocnn_sq_weights(oc) + hinge / (oc->nu * (double) n) - oc->r;
}

static void
ocnn_params(void *state, AnParamList *list)
{
	Ocnn	   *oc = state;

	an_mlp_params(&oc->net, list);
	an_params_add(list, &oc->r, &oc->r_grad, 1);
}

static void
ocnn_score(void *state, const float *x, int n, double *out)
{
	Ocnn	   *oc = state;
	const float *y = ocnn_forward(oc, x, n, NULL);

	for (int i = 0; i < n; i++)
	{
		out[i] = (double) oc->r - y[i];
		/* where the features have vanished, the distance still counts */
		if (oc->n_centers > 0 && oc->nearest[i] > OCNN_FAR)
			out[i] += OCNN_FAR_SLOPE * fabs((double) oc->r) * (oc->nearest[i] - OCNN_FAR);
	}
}

/*
 * yhat is a network's output with no per-dimension form: integrated
 * gradients from the all-zero row, whose score is the rest.
 */
static AnStatus
ocnn_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			 double *rest)
{
	return an_explain_integrated_gradients(ctx, &an_method_ocnn, state, x, dim,
										   contrib, rest);
}

/* ---- the document ---- */

static AnStatus
ocnn_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Ocnn *oc = state;
	int			n_keys = 5 + (oc->pretrained ? 1 : 0) + (oc->n_centers > 0 ? 2 : 0);

	(void) ctx;
	msgpack_pack_map(pk, n_keys);
	an_pack_key_bool(pk, "pretrained", oc->pretrained);
	if (oc->pretrained)
		an_pack_key_mlp(pk, "encoder", &oc->encoder);
	an_pack_key_int(pk, "rbf_centers", oc->n_centers);
	if (oc->n_centers > 0)
	{
		an_pack_key_floats(pk, "rbf_points", oc->centers,
						   (size_t) oc->n_centers * oc->code_dim);
		an_pack_key_real(pk, "rbf_gamma", oc->gamma);
	}
	an_pack_key_mlp(pk, "network", &oc->net);
	an_pack_key_real(pk, "r", oc->r);
	an_pack_key_real(pk, "nu", oc->nu);
	return AN_OK;
}

static AnStatus
ocnn_decode_fields(AnContext *ctx, const AnObject *obj, Ocnn *oc)
{
	const AnMlp *net = &oc->net;
	int64_t		m;
	int			in;
	double		r;

	AN_TRY(an_get_bool(ctx, obj, "pretrained", &oc->pretrained));
	if (oc->pretrained)
	{
		AN_TRY(an_get_mlp(ctx, obj, "encoder", oc->dim, false, AN_DECODE_BATCH,
						  &oc->encoder));
		oc->code_dim = an_mlp_out_dim(&oc->encoder);
	}
	else if (an_map_get(obj, "encoder") != NULL)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"encoder\" is present but \"pretrained\" is false");
	else
		oc->code_dim = oc->dim;

	AN_TRY(an_get_int(ctx, obj, "rbf_centers", 0, OCNN_MAX_CENTERS, &m));
	if (m > 0)
	{
		const AnObject *points = an_map_get(obj, "rbf_points");

		/* check the size before allocating what a corrupt count asks for */
		if (!points || points->type != MSGPACK_OBJECT_BIN ||
			(uint64_t) points->via.bin.size != (uint64_t) m * oc->code_dim * 4)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: field \"rbf_points\" is missing or not %lld x %d float32 values",
							(long long) m, oc->code_dim);
		oc->n_centers = (int) m;
		AN_TRY(ocnn_alloc_map(ctx, oc, AN_DECODE_BATCH));
		AN_TRY(an_get_floats(ctx, obj, "rbf_points", oc->centers,
							 (size_t) m * oc->code_dim));
		AN_TRY(an_get_real(ctx, obj, "rbf_gamma", &oc->gamma));
		if (!(oc->gamma > 0.0 && oc->gamma <= OCNN_MAX_GAMMA))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: field \"rbf_gamma\" is not in (0, %g]",
							OCNN_MAX_GAMMA);
	}
	else if (an_map_get(obj, "rbf_points") != NULL || an_map_get(obj, "rbf_gamma") != NULL)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"rbf_points\" or \"rbf_gamma\" is present but \"rbf_centers\" is 0");

	in = oc->n_centers > 0 ? oc->n_centers : oc->code_dim;
	AN_TRY(an_get_mlp(ctx, obj, "network", in, false, AN_DECODE_BATCH, &oc->net));
	if (net->n_layers != 2 || net->bias || an_mlp_out_dim(net) != 1 ||
		net->acts[0] != AN_ACT_SIGMOID || net->acts[1] != AN_ACT_IDENTITY)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"network\" is not a %d -> sigmoid -> 1 network without bias",
						in);

	AN_TRY(an_get_real(ctx, obj, "r", &r));
	if (fabs(r) > FLT_MAX)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"r\" is out of range");
	oc->r = (float) r;
	AN_TRY(an_get_real(ctx, obj, "nu", &oc->nu));
	if (!(oc->nu > 0.0 && oc->nu <= 1.0))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"nu\" is not in (0, 1]");
	return AN_OK;
}

static AnStatus
ocnn_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Ocnn	   *oc = an_alloc0(ctx, sizeof(Ocnn));
	AnStatus	st;

	if (!oc)
		return an_nomem(ctx);
	oc->dim = dim;
	oc->lambda = 1.0;
	st = ocnn_decode_fields(ctx, obj, oc);
	if (st != AN_OK)
	{
		ocnn_destroy(ctx, oc);
		return st;
	}
	*state = oc;
	return AN_OK;
}

const AnMethod an_method_ocnn = {
	.name = "ocnn",
	.options_size = sizeof(OcnnOptions),
	.options_init = ocnn_options_init,
	.set_option = ocnn_set_option,
	.create = ocnn_create,
	.prepare = ocnn_prepare,
	.train_batch = ocnn_train_batch,
	.eval_loss = ocnn_eval_loss,
	.epoch_end = ocnn_epoch_end,
	.params = ocnn_params,
	.score = ocnn_score,
	.explain = ocnn_explain,
	.encode = ocnn_encode,
	.decode = ocnn_decode,
	.destroy = ocnn_destroy,
};
