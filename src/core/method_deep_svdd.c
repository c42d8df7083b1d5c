/*-------------------------------------------------------------------------
 *
 * method_deep_svdd.c
 *	  Deep SVDD (Ruff et al. 2018, "Deep One-Class Classification"): an
 *	  encoder trained to map the training rows close to a fixed centre c in
 *	  its latent space; the score of a row is its squared distance to c.
 *
 * The encoder is d -> hidden... -> latent without bias terms and with
 * unbounded activations (the "activation" option on the hidden layers, a
 * linear latent layer).  Both matter: a bias, or a saturated bounded unit,
 * lets the network map every input to c and reach loss zero without
 * learning anything about the data (the paper's propositions 2 and 3).  The
 * centre is the mean encoder output over the training rows before training
 * (after the optional autoencoder pretraining), with coordinates closer
 * than eps to zero pushed out to +-eps, as in the reference implementation:
 * a coordinate of c near zero is matched trivially by zeroing the last
 * layer's weights for it.
 *
 * Objectives:
 *	 one_class		 loss mean ||phi(x) - c||^2, score ||phi(x) - c||^2
 *	 soft_boundary	 loss R^2 + (1/nu) mean max(0, ||phi(x) - c||^2 - R^2),
 *					 score ||phi(x) - c||^2 - R^2
 * In soft_boundary the radius R is not trained by gradient: after each
 * epoch it is set to the (1 - nu) quantile of ||phi(x) - c|| over every
 * training row, which is the R minimising the loss for the current
 * network.  The first min(10, epochs / 10) epochs are a warm-up with R = 0
 * (the paper warms up 10 of 150 epochs): the network first contracts the
 * whole data towards c, and only then does the hinge leave the nu
 * fraction of rows outside the sphere.  The warm-up never exceeds the
 * early-stopping patience, so early stopping cannot end training before R
 * has been fitted once.  R sits in the trainer's parameter list (with a
 * gradient that is always zero: Adam never sees it) so that restoring the
 * best epoch's weights also restores that epoch's radius.
 *
 * Weight decay (L2, in Adam) defaults to 1e-6, as in the paper.
 * Autoencoder pretraining of the encoder (pretrain_epochs) is off by
 * default: on the 18 ODDS/ADBench tables it changed mean AUROC by about
 * +0.01 when training on every row (anomalies included) and by -0.003
 * when training on the normal rows only, within seed noise, for the cost
 * of an autoencoder's training.
 *
 * Deep SVDD is a one-class method: every training row is pulled towards
 * c, anomalies included, so the longer it trains on contaminated rows the
 * less it separates them (mean AUROC on the 18 tables 0.61 with the
 * generic epoch rule, 0.69 with 5 epochs, 0.87 when trained on the normal
 * rows only).  Hence 5 epochs by default (SVDD_DEFAULT_EPOCHS).
 *
 * IDENTIFICATION
 *	  src/core/method_deep_svdd.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/explain.h"
#include "anomaly/method.h"
#include "anomaly/pretrain.h"
#include "anomaly/stats.h"

/* defined at the end; explain scores through it */
extern const AnMethod an_method_deep_svdd;

#define SVDD_DEFAULT_WEIGHT_DECAY	1e-6
#define SVDD_DEFAULT_NU				0.1
#define SVDD_DEFAULT_EPS			0.1
#define SVDD_DEFAULT_PRETRAIN		0
#define SVDD_MAX_WARM_UP			10
#define SVDD_DEFAULT_EPOCHS			5

typedef enum SvddObjective
{
	SVDD_ONE_CLASS = 0,
	SVDD_SOFT_BOUNDARY
} SvddObjective;

/* indexed by SvddObjective; the names stored and accepted as the option */
static const char *const objective_names[] = {"one_class", "soft_boundary", NULL};

typedef struct SvddOptions
{
	int			objective;		/* SvddObjective */
	double		nu;
	double		eps;
	int			pretrain_epochs;
} SvddOptions;

typedef struct DeepSvdd
{
	AnMlp		net;			/* the encoder phi, without bias */
	AnAdam		adam;			/* unused after decoding */
	float	   *grad;			/* max_batch x latent, d loss / d phi(x) */
	float	   *centre;			/* latent */
	int			latent;
	int			objective;
	double		nu;
	double		eps;

	/*
	 * The radius is a float so that the trainer's parameter list can save
	 * and restore it with the weights; radius_grad stays zero.
	 */
	float		radius;
	float		radius_grad;

	/* training only */
	int			pretrain_epochs;
	int			warm_up_epochs;
	int			epochs_done;
} DeepSvdd;

/* ---- options ---- */

static void
svdd_options_init(void *mopts)
{
	SvddOptions *o = mopts;

	o->objective = SVDD_ONE_CLASS;
	o->nu = SVDD_DEFAULT_NU;
	o->eps = SVDD_DEFAULT_EPS;
	o->pretrain_epochs = SVDD_DEFAULT_PRETRAIN;
}

static AnStatus
svdd_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	SvddOptions *o = mopts;

	if (strcmp(key, "objective") == 0)
		return an_option_choice(ctx, key, v, objective_names, &o->objective);
	if (strcmp(key, "nu") == 0)
		return an_option_real(ctx, key, v, 0.0, 1.0, true, &o->nu);
	if (strcmp(key, "eps") == 0)
		return an_option_real(ctx, key, v, 0.0, 1e6, true, &o->eps);
	if (strcmp(key, "pretrain_epochs") == 0)
	{
		int64_t		i;

		AN_TRY(an_option_int(ctx, key, v, 0, 100000, &i));
		o->pretrain_epochs = (int) i;
		return AN_OK;
	}
	return AN_ERR_NOT_FOUND;
}

static bool
bounded_activation(AnActivation act)
{
	return act == AN_ACT_SIGMOID || act == AN_ACT_TANH;
}

/* ---- training ---- */

static void
svdd_destroy(AnContext *ctx, void *state)
{
	DeepSvdd   *s = state;

	an_mlp_free(ctx, &s->net);
	an_adam_free(ctx, &s->adam);
	an_free(ctx, s->grad);
	an_free(ctx, s->centre);
	an_free(ctx, s);
}

static AnStatus
svdd_create(AnContext *ctx, const AnOptions *opts, int dim, AnRng *rng, void **state)
{
	const SvddOptions *mo = opts->method_options;
	DeepSvdd   *s;
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	int			n_layers;
	int			max_batch;
	AnParamList params;

	if (bounded_activation(opts->activation))
		return an_error(ctx, AN_ERR_INVALID,
						"option \"activation\" must be relu, leaky_relu or identity for method \"deep_svdd\": "
						"a bounded activation lets the network collapse to a constant");

	s = an_alloc0(ctx, sizeof(DeepSvdd));
	if (!s)
		return an_nomem(ctx);
	*state = s;
	s->latent = opts->latent;
	s->objective = mo->objective;
	s->nu = mo->nu;
	s->eps = mo->eps;
	s->pretrain_epochs = mo->pretrain_epochs;
	s->warm_up_epochs = 0;
	if (s->objective == SVDD_SOFT_BOUNDARY)
	{
		s->warm_up_epochs = opts->epochs / 10;
		if (s->warm_up_epochs > SVDD_MAX_WARM_UP)
			s->warm_up_epochs = SVDD_MAX_WARM_UP;
		if (opts->early_stopping_patience > 0 &&
			s->warm_up_epochs > opts->early_stopping_patience)
			s->warm_up_epochs = opts->early_stopping_patience;
	}

	n_layers = an_encoder_dims(opts, dim, opts->latent, dims);
	an_hidden_acts(opts, n_layers, AN_ACT_IDENTITY, acts);
	max_batch = opts->batch_size > AN_SCORE_BATCH ? opts->batch_size : AN_SCORE_BATCH;
	AN_TRY(an_mlp_create(ctx, &s->net, n_layers, dims, acts, false, true, max_batch));
	an_mlp_init(&s->net, rng);

	memset(&params, 0, sizeof(params));
	an_mlp_params(&s->net, &params);
	AN_TRY(an_adam_create(ctx, &s->adam, &params, opts->learning_rate,
						  opts->weight_decay < 0 ? SVDD_DEFAULT_WEIGHT_DECAY
						  : opts->weight_decay));
	s->grad = an_alloc_array(ctx, (size_t) max_batch * s->latent, sizeof(float));
	s->centre = an_alloc_array(ctx, s->latent, sizeof(float));
	if (!s->grad || !s->centre)
		return an_nomem(ctx);
	memset(s->centre, 0, sizeof(float) * s->latent);
	return AN_OK;
}

/*
 * Optional autoencoder pretraining, then the centre: the mean encoder
 * output over all n rows, coordinates within eps of zero pushed to +-eps
 * (zero itself to +eps).
 */
static AnStatus
svdd_prepare(AnContext *ctx, void *state, const AnOptions *opts, const float *x,
			 size_t n, AnRng *rng)
{
	DeepSvdd   *s = state;
	int			dim = s->net.dims[0];
	double	   *sum;

	if (s->pretrain_epochs > 0)
	{
		AnMlp		enc;
		AnStatus	st;

		/* an inference-only copy is enough: its weights are copied over */
		st = an_autoencoder_pretrain(ctx, opts, s->pretrain_epochs, AN_ACT_IDENTITY,
									 false, x, n, dim, rng, false, 1, &enc);
		if (st != AN_OK)
		{
			an_mlp_free(ctx, &enc);
			return st;
		}
		an_mlp_copy_weights(&s->net, &enc, s->net.n_layers);
		an_mlp_free(ctx, &enc);
	}

	sum = an_alloc_array(ctx, s->latent, sizeof(double));
	if (!sum)
		return an_nomem(ctx);
	memset(sum, 0, sizeof(double) * s->latent);
	for (size_t i = 0; i < n; i += s->net.max_batch)
	{
		int			m = (int) (n - i < (size_t) s->net.max_batch ? n - i : (size_t) s->net.max_batch);
		const float *z = an_mlp_forward(&s->net, x + i * dim, m);

		for (int r = 0; r < m; r++)
			for (int k = 0; k < s->latent; k++)
				sum[k] += z[(size_t) r * s->latent + k];
	}
	for (int k = 0; k < s->latent; k++)
	{
		double		c = n > 0 ? sum[k] / (double) n : 0.0;

		if (fabs(c) < s->eps)
			c = c < 0 ? -s->eps : s->eps;
		s->centre[k] = (float) c;
	}
	an_free(ctx, sum);
	for (int k = 0; k < s->latent; k++)
		if (!isfinite(s->centre[k]))
			return an_error(ctx, AN_ERR_NUMERIC,
							"the centre of the deep_svdd hypersphere is not finite");
	return AN_OK;
}

/* forward n <= max_batch rows; dist[i] = ||phi(x_i) - c||^2 */
static const float *
svdd_distances(DeepSvdd *s, const float *x, int n, double *dist)
{
	const float *z = an_mlp_forward(&s->net, x, n);

	for (int i = 0; i < n; i++)
	{
		const float *zi = z + (size_t) i * s->latent;
		double		d = 0.0;

		for (int k = 0; k < s->latent; k++)
		{
			double		diff = (double) zi[k] - s->centre[k];

			d += diff * diff;
		}
		dist[i] = d;
	}
	return z;
}

static double
radius_sq(const DeepSvdd *s)
{
	return (double) s->radius * s->radius;
}

static double
svdd_train_batch(void *state, const float *x, int n, AnRng *rng)
{
	DeepSvdd   *s = state;
	const float *z = an_mlp_forward(&s->net, x, n);
	bool		soft = s->objective == SVDD_SOFT_BOUNDARY;
	double		r2 = radius_sq(s);
	float		scale = (float) (2.0 / ((double) n * (soft ? s->nu : 1.0)));
	double		sum = 0.0;

	(void) rng;
	for (int i = 0; i < n; i++)
	{
		const float *zi = z + (size_t) i * s->latent;
		float	   *gi = s->grad + (size_t) i * s->latent;
		double		d = 0.0;
		bool		active;

		for (int k = 0; k < s->latent; k++)
		{
			double		diff = (double) zi[k] - s->centre[k];

			d += diff * diff;
		}
		/* soft boundary: only rows outside the sphere pull on the network */
		active = !soft || d > r2;
		sum += soft ? (active ? d - r2 : 0.0) : d;
		for (int k = 0; k < s->latent; k++)
			gi[k] = active ? scale * (zi[k] - s->centre[k]) : 0.0f;
	}
	an_mlp_backward(&s->net, x, n, s->grad, NULL);
	an_adam_step(&s->adam);
	return soft ? r2 + sum / ((double) n * s->nu) : sum / (double) n;
}

/* the training loss (without weight decay) on n rows */
static double
svdd_eval_loss(void *state, const float *x, size_t n)
{
	DeepSvdd   *s = state;
	int			dim = s->net.dims[0];
	double		dist[AN_SCORE_BATCH];
	double		r2 = radius_sq(s);
	double		sum = 0.0;

	for (size_t i = 0; i < n; i += AN_SCORE_BATCH)
	{
		int			m = (int) (n - i < AN_SCORE_BATCH ? n - i : AN_SCORE_BATCH);

		svdd_distances(s, x + i * dim, m, dist);
		for (int r = 0; r < m; r++)
			sum += s->objective == SVDD_SOFT_BOUNDARY ? fmax(dist[r] - r2, 0.0) : dist[r];
	}
	if (n == 0)
		return NAN;
	if (s->objective == SVDD_SOFT_BOUNDARY)
		return r2 + sum / ((double) n * s->nu);
	return sum / (double) n;
}

/* soft boundary: R = the (1 - nu) quantile of the distances, after warm-up */
static AnStatus
svdd_epoch_end(AnContext *ctx, void *state, const float *x, size_t n)
{
	DeepSvdd   *s = state;
	int			dim = s->net.dims[0];
	double	   *dist;
	double		r;

	s->epochs_done++;
	if (s->objective != SVDD_SOFT_BOUNDARY || s->epochs_done <= s->warm_up_epochs ||
		n == 0)
		return AN_OK;
	dist = an_alloc_array(ctx, n, sizeof(double));
	if (!dist)
		return an_nomem(ctx);
	for (size_t i = 0; i < n; i += AN_SCORE_BATCH)
	{
		int			m = (int) (n - i < AN_SCORE_BATCH ? n - i : AN_SCORE_BATCH);

		svdd_distances(s, x + i * dim, m, dist + i);
	}
	for (size_t i = 0; i < n; i++)
		dist[i] = sqrt(dist[i]);
	an_sort_doubles(dist, n);
	r = an_quantile_sorted(dist, n, 1.0 - s->nu);
	an_free(ctx, dist);
	if (!isfinite(r) || r > 1e30)
		return an_error(ctx, AN_ERR_NUMERIC,
						"training diverged: the deep_svdd radius is not finite");
	s->radius = (float) r;
	return AN_OK;
}

static void
svdd_params(void *state, AnParamList *list)
{
	DeepSvdd   *s = state;

	an_mlp_params(&s->net, list);
	s->radius_grad = 0.0f;
	an_params_add(list, &s->radius, &s->radius_grad, 1);
}

static void
svdd_score(void *state, const float *x, int n, double *out)
{
	DeepSvdd   *s = state;

	svdd_distances(s, x, n, out);
	if (s->objective == SVDD_SOFT_BOUNDARY)
	{
		double		r2 = radius_sq(s);

		for (int i = 0; i < n; i++)
			out[i] -= r2;
	}
}

/*
 * The distance to the centre is a network's output with no per-dimension
 * form: integrated gradients from the all-zero row, whose score (||c||^2
 * minus R^2, the encoder having no bias) is the rest.
 */
static AnStatus
svdd_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			 double *rest)
{
	return an_explain_integrated_gradients(ctx, &an_method_deep_svdd, state, x, dim,
										   contrib, rest);
}

/* ---- the stored state ---- */

static AnStatus
svdd_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const DeepSvdd *s = state;

	(void) ctx;
	msgpack_pack_map(pk, 6);
	an_pack_key_str(pk, "objective", objective_names[s->objective]);
	an_pack_key_mlp(pk, "encoder", &s->net);
	an_pack_key_floats(pk, "centre", s->centre, s->latent);
	an_pack_key_real(pk, "radius", s->radius);
	an_pack_key_real(pk, "nu", s->nu);
	an_pack_key_real(pk, "eps", s->eps);
	return AN_OK;
}

static AnStatus
corrupt(AnContext *ctx, const char *what)
{
	return an_error(ctx, AN_ERR_CORRUPT, "corrupt model document: %s", what);
}

static AnStatus
svdd_decode_into(AnContext *ctx, const AnObject *obj, int dim, DeepSvdd *s)
{
	const AnObject *o = an_map_get(obj, "objective");
	double		radius;
	int			found = -1;

	if (o)
		for (int i = 0; objective_names[i]; i++)
			if (an_object_str_eq(o, objective_names[i]))
				found = i;
	if (found < 0)
		return corrupt(ctx, "field \"objective\" is missing or not one_class or soft_boundary");
	s->objective = found;

	AN_TRY(an_get_mlp(ctx, obj, "encoder", dim, false, AN_DECODE_BATCH, &s->net));
	if (s->net.bias)
		return corrupt(ctx, "the deep_svdd encoder has bias terms");
	if (s->net.acts[s->net.n_layers - 1] != AN_ACT_IDENTITY)
		return corrupt(ctx, "the deep_svdd encoder's latent layer is not linear");
	for (int l = 0; l < s->net.n_layers; l++)
		if (bounded_activation(s->net.acts[l]))
			return corrupt(ctx, "the deep_svdd encoder has a bounded activation");
	s->latent = an_mlp_out_dim(&s->net);

	s->centre = an_alloc_array(ctx, s->latent, sizeof(float));
	if (!s->centre)
		return an_nomem(ctx);
	/* checks the length against the encoder's output width, and finiteness */
	AN_TRY(an_get_floats(ctx, obj, "centre", s->centre, s->latent));

	AN_TRY(an_get_real(ctx, obj, "radius", &radius));
	if (radius < 0 || radius > 1e30 ||
		(s->objective == SVDD_ONE_CLASS && radius != 0))
		return corrupt(ctx, "field \"radius\" is out of range");
	s->radius = (float) radius;
	AN_TRY(an_get_real(ctx, obj, "nu", &s->nu));
	if (!(s->nu > 0 && s->nu <= 1))
		return corrupt(ctx, "field \"nu\" is not in (0, 1]");
	AN_TRY(an_get_real(ctx, obj, "eps", &s->eps));
	if (!(s->eps > 0))
		return corrupt(ctx, "field \"eps\" is not positive");
	return AN_OK;
}

static AnStatus
svdd_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	DeepSvdd   *s = an_alloc0(ctx, sizeof(DeepSvdd));
	AnStatus	st;

	if (!s)
		return an_nomem(ctx);
	st = svdd_decode_into(ctx, obj, dim, s);
	if (st != AN_OK)
	{
		svdd_destroy(ctx, s);
		return st;
	}
	*state = s;
	return AN_OK;
}

/* the paper's short training: see SVDD_DEFAULT_EPOCHS */
static void
svdd_common_defaults(AnOptions *opts)
{
	opts->epochs = SVDD_DEFAULT_EPOCHS;
}

const AnMethod an_method_deep_svdd = {
	.name = "deep_svdd",
	.common_defaults = svdd_common_defaults,
	.options_size = sizeof(SvddOptions),
	.options_init = svdd_options_init,
	.set_option = svdd_set_option,
	.create = svdd_create,
	.prepare = svdd_prepare,
	.train_batch = svdd_train_batch,
	.eval_loss = svdd_eval_loss,
	.epoch_end = svdd_epoch_end,
	.params = svdd_params,
	.score = svdd_score,
	.explain = svdd_explain,
	.encode = svdd_encode,
	.decode = svdd_decode,
	.destroy = svdd_destroy,
};
