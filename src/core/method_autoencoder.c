/*-------------------------------------------------------------------------
 *
 * method_autoencoder.c
 *	  The autoencoder: a symmetric MLP d -> hidden... -> latent -> ...hidden
 *	  -> d trained to reconstruct its input; the score of a row is its mean
 *	  squared reconstruction error.
 *
 * Hidden layers and the bottleneck use the "activation" option, the output
 * layer is linear, the loss is the mean squared error over all elements.
 * The activation defaults to leaky ReLU here, not to the ReLU of the other
 * networks and of the PyTorch reference d-64-16-64-d: with ReLU a unit of
 * the narrow bottleneck that goes negative on every row gets no gradient
 * again, and the seeds where that happens early reconstruct worse and detect
 * worse.  The sweep of docs/benchmarks.md ("Defaults: the sweep") measured
 * leaky ReLU at +0.008 mean AUROC and +0.025 on the worst of ten seeds
 * over the shared tables.
 *
 * IDENTIFICATION
 *	  src/core/method_autoencoder.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/pretrain.h"
#include "anomaly/trainer.h"

/* defined at the end; an_autoencoder_pretrain trains with it */
extern const AnMethod an_method_autoencoder;

typedef struct Autoencoder
{
	AnMlp		net;
	AnAdam		adam;			/* unused after decoding */
	float	   *grad;			/* batch x dim, d loss / d output */
	int			dim;
} Autoencoder;

static void
ae_destroy(AnContext *ctx, void *state)
{
	Autoencoder *ae = state;

	an_mlp_free(ctx, &ae->net);
	an_adam_free(ctx, &ae->adam);
	an_free(ctx, ae->grad);
	an_free(ctx, ae);
}

/*
 * d -> h1 ... hk -> latent -> hk ... h1 -> d; the bottleneck gets
 * latent_act, the output is linear, every other layer the activation option.
 */
static int
ae_layout(const AnOptions *opts, int dim, AnActivation latent_act, int *dims,
		  AnActivation *acts)
{
	int			n_enc = an_encoder_dims(opts, dim, opts->latent, dims);
	int			n_dec = an_decoder_dims(opts, opts->latent, dim, dims + n_enc);

	an_hidden_acts(opts, n_enc + n_dec, AN_ACT_IDENTITY, acts);
	acts[n_enc - 1] = latent_act;
	return n_enc + n_dec;
}

static AnStatus
ae_build(AnContext *ctx, const AnOptions *opts, int dim, AnActivation latent_act,
		 bool bias, AnRng *rng, void **state)
{
	Autoencoder *ae = an_alloc0(ctx, sizeof(Autoencoder));
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	int			n_layers = ae_layout(opts, dim, latent_act, dims, acts);
	AnParamList params;
	AnStatus	st;

	if (!ae)
		return an_nomem(ctx);
	ae->dim = dim;
	*state = ae;
	AN_TRY(an_mlp_create(ctx, &ae->net, n_layers, dims, acts, bias, true,
						 opts->batch_size > AN_SCORE_BATCH ? opts->batch_size : AN_SCORE_BATCH));
	an_mlp_init(&ae->net, rng);
	memset(&params, 0, sizeof(params));
	an_mlp_params(&ae->net, &params);
	st = an_adam_create(ctx, &ae->adam, &params, opts->learning_rate,
						opts->weight_decay < 0 ? 0.0 : opts->weight_decay);
	if (st != AN_OK)
		return st;
	ae->grad = an_alloc_array(ctx, (size_t) ae->net.max_batch * dim, sizeof(float));
	return ae->grad ? AN_OK : an_nomem(ctx);
}

static AnStatus
ae_create(AnContext *ctx, const AnOptions *opts, int dim, AnRng *rng, void **state)
{
	return ae_build(ctx, opts, dim, opts->activation, true, rng, state);
}

static void
ae_common_defaults(AnOptions *opts)
{
	opts->activation = AN_ACT_LEAKY_RELU;
}

static double
ae_train_batch(void *state, const float *x, int n, AnRng *rng)
{
	Autoencoder *ae = state;
	const float *y = an_mlp_forward(&ae->net, x, n);
	double		loss = an_mse(y, x, n, ae->dim, ae->grad);

	(void) rng;
	an_mlp_backward(&ae->net, x, n, ae->grad, NULL);
	an_adam_step(&ae->adam);
	return loss;
}

static void
ae_params(void *state, AnParamList *list)
{
	an_mlp_params(&((Autoencoder *) state)->net, list);
}

static void
ae_score(void *state, const float *x, int n, double *out)
{
	Autoencoder *ae = state;
	const float *y = an_mlp_forward(&ae->net, x, n);

	an_row_mse(y, x, n, ae->dim, out);
}

/*
 * Each dimension's share of the reconstruction error, (y_j - x_j)^2 / dim:
 * they add up to the score, the mean over dimensions.
 */
static AnStatus
ae_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
		   double *rest)
{
	Autoencoder *ae = state;
	const float *y = an_mlp_forward(&ae->net, x, 1);

	(void) ctx;
	for (int j = 0; j < dim; j++)
	{
		double		diff = (double) y[j] - x[j];

		contrib[j] = diff * diff / dim;
	}
	*rest = 0.0;
	return AN_OK;
}

static AnStatus
ae_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Autoencoder *ae = state;

	(void) ctx;
	msgpack_pack_map(pk, 1);
	an_pack_key_mlp(pk, "network", &ae->net);
	return AN_OK;
}

static AnStatus
ae_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Autoencoder *ae = an_alloc0(ctx, sizeof(Autoencoder));
	AnStatus	st;

	if (!ae)
		return an_nomem(ctx);
	ae->dim = dim;
	st = an_get_mlp(ctx, obj, "network", dim, false, AN_DECODE_BATCH, &ae->net);
	if (st == AN_OK && an_mlp_out_dim(&ae->net) != dim)
		st = an_error(ctx, AN_ERR_CORRUPT,
					  "corrupt model document: the autoencoder's output width is not %d", dim);
	if (st != AN_OK)
	{
		ae_destroy(ctx, ae);
		return st;
	}
	*state = ae;
	return AN_OK;
}

AnStatus
an_autoencoder_pretrain(AnContext *ctx, const AnOptions *opts, int epochs,
						AnActivation latent_act, bool bias,
						const float *x, size_t n, int dim, AnRng *rng,
						bool trainable, int max_batch, AnMlp *encoder)
{
	AnOptions	pre = *opts;
	void	   *state = NULL;
	Autoencoder *ae;
	AnTrainResult result;
	int			n_enc = opts->n_hidden + 1;
	AnStatus	st;

	memset(encoder, 0, sizeof(*encoder));
	pre.epochs = epochs;
	st = ae_build(ctx, &pre, dim, latent_act, bias, rng, &state);
	if (st == AN_OK)
		st = an_train_phase(ctx, &an_method_autoencoder, state, &pre, "pretrain",
							x, n, dim, rng, &result);
	ae = state;
	if (st == AN_OK)
		st = an_mlp_create(ctx, encoder, n_enc, ae->net.dims, ae->net.acts, bias,
						   trainable, max_batch);
	if (st == AN_OK)
	{
		for (int l = 0; l < n_enc; l++)
		{
			AnDense    *src = &ae->net.layers[l];
			AnDense    *dst = &encoder->layers[l];

			memcpy(dst->w, src->w, sizeof(float) * src->in * src->out);
			if (bias)
				memcpy(dst->b, src->b, sizeof(float) * src->out);
		}
	}
	if (state)
		ae_destroy(ctx, state);
	return st;
}

const AnMethod an_method_autoencoder = {
	.name = "autoencoder",
	.common_defaults = ae_common_defaults,
	.create = ae_create,
	.train_batch = ae_train_batch,
	.params = ae_params,
	.score = ae_score,
	.explain = ae_explain,
	.encode = ae_encode,
	.decode = ae_decode,
	.destroy = ae_destroy,
};
