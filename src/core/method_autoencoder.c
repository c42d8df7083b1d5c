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
 * A model is the mean of "networks" such autoencoders (default
 * AE_DEFAULT_NETWORKS): network k (from 0) is trained exactly as a model of
 * one network with seed seed + 1000 k would be, on its own validation split
 * and batch order, and a row's score (and each dimension's share of it) is
 * the mean over the networks, without the row's lowest and highest error
 * from five networks on (ae_score).  One small network's result depends on its
 * seed by more than 0.05 AUROC on half of the shared tables; over ten seeds
 * the mean of five raised the worst seed's AUROC from 0.714 to 0.757 on
 * average, and the mean from 0.789 to 0.806 (docs/benchmarks.md, "An
 * ensemble of networks", which also compares mixes of shapes).
 * The epoch loop trains network 0; prepare trains the others first, each
 * through the same loop under its own phase name.
 *
 * IDENTIFICATION
 *	  src/core/method_autoencoder.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/pretrain.h"
#include "anomaly/trainer.h"

/* defined at the end; an_autoencoder_pretrain trains with it */
extern const AnMethod an_method_autoencoder;

/*
 * The default number of networks, and the most a model may hold: a decoded
 * document's memory is bounded by this many networks of the codec's bounded
 * widths (docs/security.md).
 */
#define AE_DEFAULT_NETWORKS 5
#define AE_MAX_NETWORKS 16

/* network k trains with seed + AE_SEED_STEP k */
#define AE_SEED_STEP 1000

typedef struct AeOptions
{
	int			networks;
} AeOptions;

typedef struct Autoencoder
{
	AnMlp		net;			/* network 0, the one the epoch loop trains */
	AnAdam		adam;			/* unused after decoding */
	float	   *grad;			/* batch x dim, d loss / d output */
	int			dim;
	int			n_nets;			/* networks in the model, net included */
	AnMlp	   *others;			/* networks 1 .. n_nets - 1 */
	double		others_loss;	/* sum of their training losses */
	int			others_epochs;	/* the most epochs one of them ran */
} Autoencoder;

static void
ae_destroy(AnContext *ctx, void *state)
{
	Autoencoder *ae = state;

	an_mlp_free(ctx, &ae->net);
	for (int k = 0; ae->others && k < ae->n_nets - 1; k++)
		an_mlp_free(ctx, &ae->others[k]);
	an_free(ctx, ae->others);
	an_adam_free(ctx, &ae->adam);
	an_free(ctx, ae->grad);
	an_free(ctx, ae);
}

/* network k of the model, 0 .. n_nets - 1 */
static inline AnMlp *
ae_net(Autoencoder *ae, int k)
{
	return k == 0 ? &ae->net : &ae->others[k - 1];
}

static void
ae_options_init(void *mopts)
{
	((AeOptions *) mopts)->networks = AE_DEFAULT_NETWORKS;
}

static AnStatus
ae_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	int64_t		i;

	if (strcmp(key, "networks") != 0)
		return AN_ERR_NOT_FOUND;
	AN_TRY(an_option_int(ctx, key, v, 1, AE_MAX_NETWORKS, &i));
	((AeOptions *) mopts)->networks = (int) i;
	return AN_OK;
}

/* room for networks 1 .. n_nets - 1, filled by prepare or decode */
static AnStatus
ae_alloc_others(AnContext *ctx, Autoencoder *ae, int n_nets)
{
	if (n_nets > 1)
	{
		ae->others = an_alloc_array(ctx, (size_t) n_nets - 1, sizeof(AnMlp));
		if (!ae->others)
			return an_nomem(ctx);
		memset(ae->others, 0, sizeof(AnMlp) * (size_t) (n_nets - 1));
	}
	ae->n_nets = n_nets;
	return AN_OK;
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
	ae->n_nets = 1;
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
	const AeOptions *o = opts->method_options;

	AN_TRY(ae_build(ctx, opts, dim, opts->activation, true, rng, state));
	return ae_alloc_others(ctx, *state, o ? o->networks : 1);
}

/*
 * A trained network's weights in an inference-only network: no gradients,
 * and a workspace of two blocks of rows, not one per layer of a batch.
 * Its forward pass is the trained network's, bit for bit.
 */
static AnStatus
ae_keep_weights(AnContext *ctx, const AnMlp *trained, AnMlp *kept)
{
	AN_TRY(an_mlp_create(ctx, kept, trained->n_layers, trained->dims, trained->acts,
						 trained->bias, false, AN_SCORE_BATCH));
	an_mlp_copy_weights(kept, trained, trained->n_layers);
	return AN_OK;
}

/*
 * Networks 1 .. n_nets - 1, before the epoch loop trains network 0: each is
 * built, initialised and trained from its own generator seeded with
 * seed + AE_SEED_STEP k, exactly as a model of one network with that seed,
 * and keeps its weights (its optimiser state is freed).  The generator of
 * network 0 is not touched, so a model's network 0 is the model of one
 * network with the model's seed.
 */
static AnStatus
ae_prepare(AnContext *ctx, void *state, const AnOptions *opts, const float *x,
		   size_t n, AnRng *rng)
{
	Autoencoder *ae = state;

	(void) rng;
	for (int k = 1; k < ae->n_nets; k++)
	{
		void	   *member = NULL;
		AnRng		mrng;
		AnTrainResult result;
		char		phase[40];
		AnStatus	st;

		snprintf(phase, sizeof(phase), "network %d of %d", k + 1, ae->n_nets);
		an_rng_seed(&mrng, opts->seed + (uint64_t) AE_SEED_STEP * k);
		st = ae_build(ctx, opts, ae->dim, opts->activation, true, &mrng, &member);
		if (st == AN_OK)
			st = an_train_phase(ctx, &an_method_autoencoder, member, opts, phase,
								x, n, ae->dim, &mrng, &result);
		if (st == AN_OK)
		{
			ae->others_loss += result.loss;
			if (result.epochs_run > ae->others_epochs)
				ae->others_epochs = result.epochs_run;
			st = ae_keep_weights(ctx, &((Autoencoder *) member)->net, &ae->others[k - 1]);
		}
		if (member)
			ae_destroy(ctx, member);
		if (st != AN_OK)
			return st;
	}
	return AN_OK;
}

/*
 * What the model reports of its training: the mean of the networks' best
 * losses and the most epochs one of them ran.
 */
static void
ae_train_summary(void *state, int *epochs_run, double *loss)
{
	Autoencoder *ae = state;

	if (ae->n_nets == 1)
		return;
	*loss = (*loss + ae->others_loss) / ae->n_nets;
	if (ae->others_epochs > *epochs_run)
		*epochs_run = ae->others_epochs;
}

/*
 * Leaky ReLU (above), and at most 64 hidden units for 100 or more inputs:
 * the derived width 2d (256 units) gives a wide table's network more
 * weights than its rows constrain, and it reconstructs the anomalies too.
 * On the two wide shared tables, twenty seeds of five networks: musk
 * (d = 166, 1837 training rows) 0.905 -> 0.971 AUROC, arrhythmia (274,
 * 271) 0.760 -> 0.754; the references use 64 whatever d.  Below 100 the
 * cap costs 0.03 to 0.08 (satellite, satimage-2 at d = 36, optdigits at
 * 64), hence the threshold (docs/benchmarks.md, "Trimmed mean").
 */
static void
ae_common_defaults(AnOptions *opts)
{
	opts->activation = AN_ACT_LEAKY_RELU;
	opts->wide_hidden_max = 64;
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

/*
 * How many of a row's network errors the score drops at each end: the 20%
 * trimmed mean (scipy's trim_mean(..., 0.2)), one of five.  Fewer than five
 * networks keep the plain mean.
 */
static inline int
ae_trimmed(int n_nets)
{
	return n_nets / 5;
}

/* sorts n <= AE_MAX_NETWORKS errors e ascending, and their networks if given */
static void
ae_sort_errors(double *e, int *nets, int n)
{
	for (int i = 1; i < n; i++)
	{
		double		v = e[i];
		int			k = nets ? nets[i] : 0;
		int			j = i;

		for (; j > 0 && e[j - 1] > v; j--)
		{
			e[j] = e[j - 1];
			if (nets)
				nets[j] = nets[j - 1];
		}
		e[j] = v;
		if (nets)
			nets[j] = k;
	}
}

/*
 * The score of a row: the mean over the networks of its reconstruction
 * error, summed in network order, or with five networks or more the mean
 * of the middle ones (ae_trimmed), summed in ascending order; one
 * network's score is its error as it is.  Trimming drops the network
 * that, for this row, reconstructs unusually well or badly: with the
 * split held, five networks' worst of ten training seeds fell more than
 * 0.05 below the mean on 9 table-splits with the plain mean, 3 trimmed
 * (docs/benchmarks.md, "The spread", "Trimmed mean").
 */
static void
ae_score(void *state, const float *x, int n, double *out)
{
	Autoencoder *ae = state;
	int			trim = ae_trimmed(ae->n_nets);
	double		errors[AE_MAX_NETWORKS][AN_SCORE_BATCH];

	an_row_mse(an_mlp_forward(&ae->net, x, n), x, n, ae->dim, out);
	if (ae->n_nets == 1)
		return;
	if (trim == 0)
	{
		for (int k = 1; k < ae->n_nets; k++)
		{
			an_row_mse(an_mlp_forward(ae_net(ae, k), x, n), x, n, ae->dim, errors[0]);
			for (int i = 0; i < n; i++)
				out[i] += errors[0][i];
		}
		for (int i = 0; i < n; i++)
			out[i] /= ae->n_nets;
		return;
	}
	memcpy(errors[0], out, sizeof(double) * n);
	for (int k = 1; k < ae->n_nets; k++)
		an_row_mse(an_mlp_forward(ae_net(ae, k), x, n), x, n, ae->dim, errors[k]);
	for (int i = 0; i < n; i++)
	{
		double		row[AE_MAX_NETWORKS];
		double		sum = 0.0;

		for (int k = 0; k < ae->n_nets; k++)
			row[k] = errors[k][i];
		ae_sort_errors(row, NULL, ae->n_nets);
		for (int k = trim; k < ae->n_nets - trim; k++)
			sum += row[k];
		out[i] = sum / (ae->n_nets - 2 * trim);
	}
}

static bool
ae_rows_independent(void *state)
{
	Autoencoder *ae = state;

	for (int k = 0; k < ae->n_nets; k++)
		if (!an_mlp_rows_independent(ae_net(ae, k)))
			return false;
	return true;
}

/* network 0's reconstruction errors of n rows */
static void
ae_score_net0(void *state, const float *x, int n, double *out)
{
	Autoencoder *ae = state;

	an_row_mse(an_mlp_forward(&ae->net, x, n), x, n, ae->dim, out);
}

/*
 * The validation loss of network 0 alone, the mean of its scores as the
 * epoch loop's default computes it: the other networks, trained before it,
 * must not steer its early stopping.
 */
static double
ae_eval_loss(void *state, const float *x, size_t n)
{
	return an_mean_block_score(ae_score_net0, state, x, n,
							   ((Autoencoder *) state)->dim);
}

/*
 * Each dimension's share of the reconstruction error, (y_j - x_j)^2 / dim,
 * averaged over the networks the score averages (all, or the row's middle
 * ones when it is trimmed): they add up to the score.
 */
static AnStatus
ae_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
		   double *rest)
{
	Autoencoder *ae = state;
	int			trim = ae_trimmed(ae->n_nets);
	double		error[AE_MAX_NETWORKS];
	int			order[AE_MAX_NETWORKS];
	int			kept;

	(void) ctx;
	for (int k = 0; k < ae->n_nets; k++)
	{
		order[k] = k;
		if (trim > 0)
			an_row_mse(an_mlp_forward(ae_net(ae, k), x, 1), x, 1, dim, &error[k]);
	}
	if (trim > 0)
		ae_sort_errors(error, order, ae->n_nets);
	kept = ae->n_nets - 2 * trim;
	for (int i = 0; i < kept; i++)
	{
		const float *y = an_mlp_forward(ae_net(ae, order[trim + i]), x, 1);

		for (int j = 0; j < dim; j++)
		{
			double		diff = (double) y[j] - x[j];

			if (i == 0)
				contrib[j] = diff * diff / dim;
			else
				contrib[j] += diff * diff / dim;
		}
	}
	if (kept > 1)
		for (int j = 0; j < dim; j++)
			contrib[j] /= kept;
	*rest = 0.0;
	return AN_OK;
}

/*
 * One network is written as it always was, {"network": ...}, so that a
 * model of one network has the document of earlier versions; several as
 * {"networks": [...]}.
 */
static AnStatus
ae_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Autoencoder *ae = state;

	(void) ctx;
	msgpack_pack_map(pk, 1);
	if (ae->n_nets == 1)
	{
		an_pack_key_mlp(pk, "network", &ae->net);
		return AN_OK;
	}
	an_pack_str(pk, "networks");
	msgpack_pack_array(pk, ae->n_nets);
	for (int k = 0; k < ae->n_nets; k++)
		an_pack_mlp(pk, ae_net((Autoencoder *) ae, k));
	return AN_OK;
}

/*
 * A network of a document, "network" or "networks[k]": input and output
 * width dim.  The one place that checks a decoded network's widths.
 */
static AnStatus
ae_decode_net(AnContext *ctx, const AnObject *net, const char *name, int dim, AnMlp *mlp)
{
	AN_TRY(an_get_mlp_object(ctx, net, name, dim, false, AN_DECODE_BATCH, mlp));
	if (an_mlp_out_dim(mlp) != dim)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: the output width of the autoencoder's network \"%s\" is not %d",
						name, dim);
	return AN_OK;
}

static AnStatus
ae_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Autoencoder *ae = an_alloc0(ctx, sizeof(Autoencoder));
	const AnObject *one = an_map_get(obj, "network");
	const AnObject *many = an_map_get(obj, "networks");
	AnStatus	st;

	if (!ae)
		return an_nomem(ctx);
	ae->dim = dim;
	ae->n_nets = 1;
	if (one && many)
		st = an_error(ctx, AN_ERR_CORRUPT,
					  "corrupt model document: the autoencoder has both \"network\" and \"networks\"");
	else if (!many)
	{
		st = an_get_map(ctx, obj, "network", &one);
		if (st == AN_OK)
			st = ae_decode_net(ctx, one, "network", dim, &ae->net);
	}
	else if (many->type != MSGPACK_OBJECT_ARRAY || many->via.array.size < 1 ||
			 many->via.array.size > AE_MAX_NETWORKS)
		st = an_error(ctx, AN_ERR_CORRUPT,
					  "corrupt model document: field \"networks\" is not an array of 1 to %d networks",
					  AE_MAX_NETWORKS);
	else
	{
		st = ae_alloc_others(ctx, ae, (int) many->via.array.size);
		for (int k = 0; k < ae->n_nets && st == AN_OK; k++)
		{
			char		name[32];

			snprintf(name, sizeof(name), "networks[%d]", k);
			st = ae_decode_net(ctx, &many->via.array.ptr[k], name, dim, ae_net(ae, k));
		}
	}
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
		an_mlp_copy_weights(encoder, &ae->net, n_enc);
	if (state)
		ae_destroy(ctx, state);
	return st;
}

const AnMethod an_method_autoencoder = {
	.name = "autoencoder",
	.common_defaults = ae_common_defaults,
	.options_size = sizeof(AeOptions),
	.options_init = ae_options_init,
	.set_option = ae_set_option,
	.sizing_options = "\"networks\", \"batch_size\", \"hidden\" or \"max_rows\"",
	.create = ae_create,
	.prepare = ae_prepare,
	.train_batch = ae_train_batch,
	.eval_loss = ae_eval_loss,
	.train_summary = ae_train_summary,
	.params = ae_params,
	.score = ae_score,
	.rows_independent = ae_rows_independent,
	.explain = ae_explain,
	.encode = ae_encode,
	.decode = ae_decode,
	.destroy = ae_destroy,
};
