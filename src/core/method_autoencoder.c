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
 * the mean over the networks.  One small network's result depends on its
 * seed by more than 0.05 AUROC on half of the shared tables; over ten seeds
 * the mean of five raised the worst seed's AUROC from 0.714 to 0.757 on
 * average, and the mean from 0.789 to 0.806 (docs/benchmarks.md, "An
 * ensemble of networks", which also compares mixes of shapes).  Seven, with
 * failed networks retrained, are the first count whose worst of ten
 * training seeds is within 0.05 of the mean on every shared table and
 * split measured, and within 0.02 of PyTorch's autoencoder over twenty
 * seeds on every table (docs/benchmarks.md, "Failed networks").
 * The epoch loop trains network 0; prepare trains the others first, each
 * through the same loop under its own phase name; finish then retrains,
 * with fresh seeds, any network that failed to train (ae_finish).
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
#include "anomaly/stats.h"
#include "anomaly/trainer.h"

/* defined at the end; an_autoencoder_pretrain trains with it */
extern const AnMethod an_method_autoencoder;

/*
 * The default number of networks, and the most a model may hold: a decoded
 * document's memory is bounded by this many networks of the codec's bounded
 * widths (docs/security.md).
 */
#define AE_DEFAULT_NETWORKS 7
#define AE_MAX_NETWORKS 16

/* network k trains with seed + AE_SEED_STEP k */
#define AE_SEED_STEP 1000

/*
 * A network whose error is more than this many times the median of the
 * model's networks, and more than AE_FAILED_MIN_GAP above it, failed to
 * train (ae_failed).
 */
#define AE_FAILED_LOSS_RATIO 2.0
#define AE_FAILED_MIN_GAP 1e-6

/* rows between two interrupt checks of a pass over the training rows */
#define AE_CHECK_ROWS (64 * AN_SCORE_BATCH)

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
	double	   *losses;			/* each network's best loss, while training */
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
	an_free(ctx, ae->losses);
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

	int			n_nets = o ? o->networks : 1;
	Autoencoder *ae;

	AN_TRY(ae_build(ctx, opts, dim, opts->activation, true, rng, state));
	ae = *state;
	AN_TRY(ae_alloc_others(ctx, ae, n_nets));
	if (n_nets > 1)
	{
		ae->losses = an_alloc_array(ctx, (size_t) n_nets, sizeof(double));
		if (!ae->losses)
			return an_nomem(ctx);
	}
	return AN_OK;
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
 * Trains one network of the model from a generator seeded with seed, as a
 * model of one network with that seed would be, and keeps its weights in
 * *kept (its optimiser state is freed); *loss and *epochs get its result.
 */
static AnStatus
ae_train_network(AnContext *ctx, const Autoencoder *ae, const AnOptions *opts,
				 const float *x, size_t n, uint64_t seed, const char *phase,
				 AnMlp *kept, double *loss, int *epochs)
{
	void	   *member = NULL;
	AnRng		mrng;
	AnTrainResult result;
	AnStatus	st;

	an_rng_seed(&mrng, seed);
	st = ae_build(ctx, opts, ae->dim, opts->activation, true, &mrng, &member);
	if (st == AN_OK)
		st = an_train_phase(ctx, &an_method_autoencoder, member, opts, phase,
							x, n, ae->dim, &mrng, &result);
	if (st == AN_OK)
	{
		*loss = result.loss;
		*epochs = result.epochs_run;
		st = ae_keep_weights(ctx, &((Autoencoder *) member)->net, kept);
	}
	if (member)
		ae_destroy(ctx, member);
	return st;
}

/*
 * Networks 1 .. n_nets - 1, before the epoch loop trains network 0: each is
 * trained from its own generator seeded with seed + AE_SEED_STEP k, exactly
 * as a model of one network with that seed.  The generator of network 0 is
 * not touched, so a model's network 0 is the model of one network with the
 * model's seed.
 */
static AnStatus
ae_prepare(AnContext *ctx, void *state, const AnOptions *opts, const float *x,
		   size_t n, AnRng *rng)
{
	Autoencoder *ae = state;

	(void) rng;
	for (int k = 1; k < ae->n_nets; k++)
	{
		char		phase[40];
		int			epochs;

		snprintf(phase, sizeof(phase), "network %d of %d", k + 1, ae->n_nets);
		AN_TRY(ae_train_network(ctx, ae, opts, x, n,
								opts->seed + (uint64_t) AE_SEED_STEP * k, phase,
								&ae->others[k - 1], &ae->losses[k], &epochs));
		if (epochs > ae->others_epochs)
			ae->others_epochs = epochs;
	}
	return AN_OK;
}

/* the median of n <= AE_MAX_NETWORKS values, a NaN counted as the largest */
static double
ae_median(const double *losses, int n)
{
	double		v[AE_MAX_NETWORKS];

	for (int k = 0; k < n; k++)
		v[k] = isnan(losses[k]) ? INFINITY : losses[k];
	an_sort_doubles(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * A network's mean reconstruction error over the n training rows, into
 * *error.  An inference-only network does not check for interrupts in its
 * forward pass, and a pass over a million wide rows takes seconds: the
 * check is here, every AE_CHECK_ROWS rows.
 */
static AnStatus
ae_fit_error(AnContext *ctx, AnMlp *net, const float *x, size_t n, int dim,
			 double *error)
{
	double		sum = 0.0;

	for (size_t i = 0; i < n; i += AN_SCORE_BATCH)
	{
		double		rows[AN_SCORE_BATCH];
		int			m = (int) (n - i < AN_SCORE_BATCH ? n - i : AN_SCORE_BATCH);

		if (i % AE_CHECK_ROWS == 0 && an_check_interrupts(ctx))
			return an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
		an_row_mse(an_mlp_forward(net, x + i * dim, m), x + i * dim, m, dim, rows);
		for (int k = 0; k < m; k++)
			sum += rows[k];
	}
	*error = sum / (double) n;
	return AN_OK;
}

/*
 * A network of the model failed to train when its mean reconstruction
 * error over the training rows is more than AE_FAILED_LOSS_RATIO times
 * the median of the n networks' (or is not a number), and more than
 * AE_FAILED_MIN_GAP above it: errors near rounding (a table the networks
 * reconstruct exactly, constant columns) have ratios that mean nothing.  Such a network
 * has stalled on a plateau of its loss, where it reconstructs normal rows
 * several times worse than the others: on annthyroid (split 1) 6 of 50
 * networks ended at 5 to 10 times the median, with an AUROC of 0.57 to
 * 0.76 against 0.91 to 0.95 for the rest (docs/benchmarks.md, "Failed
 * networks").  The error over every training row, not the validation
 * loss: a small table's validation rows (14 of vertebral's 144) are too
 * few to tell a failed network from an unlucky draw.
 */
static bool
ae_failed(double error, double median)
{
	return !(error <= AE_FAILED_LOSS_RATIO * median || error - median <= AE_FAILED_MIN_GAP);
}

/*
 * After the epoch loop has trained network 0: every network that failed to
 * train (ae_failed, against the median of the networks as first trained)
 * is replaced by a network trained with the next unused seed, seed +
 * AE_SEED_STEP (n_nets + j), until one trains or n_nets replacements have
 * been trained in all; a slot keeps the lowest error it has seen.  A
 * replacement whose own training diverges is one that did not train: the
 * model's networks are kept.  A model whose networks all train is the one
 * the epoch loop and prepare made.
 */
static AnStatus
ae_finish(AnContext *ctx, void *state, const AnOptions *opts, const float *x,
		  size_t n, double loop_loss)
{
	Autoencoder *ae = state;
	double		error[AE_MAX_NETWORKS];
	double		median;
	int			spare = 0;
	AnStatus	st;

	if (!ae->losses)
		return AN_OK;
	ae->losses[0] = loop_loss;
	/* with fewer than three networks there is no majority to compare with */
	if (ae->n_nets < 3)
		return AN_OK;
	for (int k = 0; k < ae->n_nets; k++)
		AN_TRY(ae_fit_error(ctx, ae_net(ae, k), x, n, ae->dim, &error[k]));
	median = ae_median(error, ae->n_nets);
	for (int k = 0; k < ae->n_nets && spare < ae->n_nets; k++)
	{
		while (ae_failed(error[k], median) && spare < ae->n_nets)
		{
			AnMlp		candidate;
			double		loss;
			double		candidate_error;
			int			epochs;
			char		phase[64];

			memset(&candidate, 0, sizeof(candidate));
			snprintf(phase, sizeof(phase), "network %d of %d, retrained", k + 1, ae->n_nets);
			st = ae_train_network(ctx, ae, opts, x, n,
								  opts->seed + (uint64_t) AE_SEED_STEP * (ae->n_nets + spare),
								  phase, &candidate, &loss, &epochs);
			spare++;
			if (st == AN_ERR_NUMERIC)
			{
				/* diverged: not a better network than the one it would replace */
				an_mlp_free(ctx, &candidate);
				ctx->errmsg[0] = '\0';
				continue;
			}
			if (st == AN_OK)
				st = ae_fit_error(ctx, &candidate, x, n, ae->dim, &candidate_error);
			if (st != AN_OK)
			{
				an_mlp_free(ctx, &candidate);
				return st;
			}
			if (candidate_error < error[k] || isnan(error[k]))
			{
				error[k] = candidate_error;
				ae->losses[k] = loss;
				if (epochs > ae->others_epochs)
					ae->others_epochs = epochs;
				if (k == 0)
					an_mlp_copy_weights(&ae->net, &candidate, candidate.n_layers);
				else
				{
					AnMlp		old = ae->others[k - 1];

					ae->others[k - 1] = candidate;
					candidate = old;
				}
			}
			an_mlp_free(ctx, &candidate);
		}
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
	double		sum = 0.0;

	if (ae->n_nets == 1)
		return;
	for (int k = 1; k < ae->n_nets; k++)
		sum += ae->losses[k];
	*loss = (ae->losses[0] + sum) / ae->n_nets;
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
 * The mean over the networks of each row's reconstruction error, summed in
 * network order; one network's score is its error as it is.  A network
 * that failed to train was replaced before (ae_finish), so no row's score
 * carries one (a 20% trimmed mean did that job before, at a cost on
 * shuttle, where the highest error is the signal: docs/benchmarks.md,
 * "Failed networks").
 */
static void
ae_score(void *state, const float *x, int n, double *out)
{
	Autoencoder *ae = state;
	double		one[AN_SCORE_BATCH];

	an_row_mse(an_mlp_forward(&ae->net, x, n), x, n, ae->dim, out);
	if (ae->n_nets == 1)
		return;
	for (int k = 1; k < ae->n_nets; k++)
	{
		an_row_mse(an_mlp_forward(ae_net(ae, k), x, n), x, n, ae->dim, one);
		for (int i = 0; i < n; i++)
			out[i] += one[i];
	}
	for (int i = 0; i < n; i++)
		out[i] /= ae->n_nets;
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
 * averaged over the networks as the score is: they add up to the score.
 */
static AnStatus
ae_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
		   double *rest)
{
	Autoencoder *ae = state;

	(void) ctx;
	for (int k = 0; k < ae->n_nets; k++)
	{
		const float *y = an_mlp_forward(ae_net(ae, k), x, 1);

		for (int j = 0; j < dim; j++)
		{
			double		diff = (double) y[j] - x[j];

			if (k == 0)
				contrib[j] = diff * diff / dim;
			else
				contrib[j] += diff * diff / dim;
		}
	}
	if (ae->n_nets > 1)
		for (int j = 0; j < dim; j++)
			contrib[j] /= ae->n_nets;
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
	.finish = ae_finish,
	.train_summary = ae_train_summary,
	.params = ae_params,
	.score = ae_score,
	.rows_independent = ae_rows_independent,
	.explain = ae_explain,
	.encode = ae_encode,
	.decode = ae_decode,
	.destroy = ae_destroy,
};
