/*-------------------------------------------------------------------------
 *
 * nn.h
 *	  Neural-network building blocks shared by every method: dense layers,
 *	  activations, multi-layer perceptrons, losses and the Adam optimiser.
 *
 * Matrices are row-major float32; a batch of n rows of width d is n * d
 * consecutive floats.  Weights of a dense layer are stored out x in, as
 * PyTorch's nn.Linear does, so y = x W^T + b.  Gradients are overwritten,
 * not accumulated, by each backward pass.
 *
 * IDENTIFICATION
 *	  include/anomaly/nn.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_NN_H
#define ANOMALY_NN_H

#include "anomaly/core.h"
#include "anomaly/rng.h"

/* ---- activations (activation.c) ---- */

typedef enum AnActivation
{
	AN_ACT_IDENTITY = 0,
	AN_ACT_RELU,
	AN_ACT_LEAKY_RELU,			/* slope 0.01 below zero */
	AN_ACT_SIGMOID,
	AN_ACT_TANH
} AnActivation;

/* the slope of AN_ACT_LEAKY_RELU below zero */
#define AN_LEAKY_SLOPE 0.01f

extern const char *an_activation_name(AnActivation act);
extern bool an_activation_parse(const char *name, AnActivation *act);
extern void an_activation_forward(AnActivation act, float *x, size_t n);

/* delta *= act'(pre), written in terms of the activation's output y */
extern void an_activation_backward(AnActivation act, const float *y,
								   float *delta, size_t n);

/* ---- trainable parameter lists (params.c) ---- */

#define AN_MAX_PARAMS 64

typedef struct AnParam
{
	float	   *value;
	float	   *grad;
	size_t		size;
} AnParam;

typedef struct AnParamList
{
	int			n;
	AnParam		items[AN_MAX_PARAMS];
} AnParamList;

extern void an_params_add(AnParamList *list, float *value, float *grad, size_t size);
extern size_t an_params_total(const AnParamList *list);
extern void an_params_save(const AnParamList *list, float *dst);
extern void an_params_restore(const AnParamList *list, const float *src);
extern bool an_params_finite(const AnParamList *list);
extern double an_params_sq_norm(const AnParamList *list);

/* ---- dense layer (dense.c) ---- */

typedef struct AnDense
{
	int			in;
	int			out;
	float	   *w;				/* out x in */
	float	   *b;				/* out, or NULL for a layer without bias */
	float	   *gw;				/* gradients; NULL when inference-only */
	float	   *gb;
} AnDense;

extern AnStatus an_dense_create(AnContext *ctx, AnDense *layer, int in, int out,
								bool bias, bool trainable);
extern void an_dense_free(AnContext *ctx, AnDense *layer);

/* PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for w and b */
extern void an_dense_init(AnDense *layer, AnRng *rng);
extern void an_dense_forward(const AnDense *layer, const float *x, int n, float *y);

/*
 * Whether the layer's products go through smallgemm.c: then the forward
 * pass of a row gives the same bits whatever the rows passed with it, in
 * a block of two rows or more (one row alone goes through the per-output
 * kernels of dense.c or rowkernel.c).
 */
extern bool an_dense_small(const AnDense *layer);

/* gb = the column sums of dy (n x out); the layer must have a bias */
extern void an_dense_bias_gradient(AnDense *layer, int n, const float *dy);

/* from dy (n x out): gw, gb and, if dx is not NULL, dx (n x in) */
extern void an_dense_backward(AnDense *layer, const float *x, int n,
							  const float *dy, float *dx);

/* ---- multi-layer perceptron (mlp.c) ---- */

#define AN_MAX_LAYERS 20

struct AnRowNet;

typedef struct AnMlp
{
	int			n_layers;
	int			dims[AN_MAX_LAYERS + 1];	/* dims[0] = input width */
	AnActivation acts[AN_MAX_LAYERS];		/* after each layer */
	AnDense		layers[AN_MAX_LAYERS];
	bool		bias;
	bool		trainable;
	AnContext  *ctx;			/* trainable: whose interrupt check to call */
	int64_t		work;			/* multiply-adds since that check was called */

	/* workspace for up to max_batch rows */
	int			max_batch;
	float	   *outs[AN_MAX_LAYERS];	/* post-activation output of each layer
										 * (inference-only: two shared buffers) */
	float	   *delta[2];				/* ping-pong back-propagation buffers */

	/* inference-only: weights laid out for one row (rowkernel.c), or NULL */
	struct AnRowNet *rownet;
} AnMlp;

/*
 * dims has n_layers + 1 entries; acts has n_layers entries.  A trainable
 * MLP has gradient buffers; max_batch sizes the workspace.  A trainable
 * MLP keeps ctx, which must outlive it, and calls its interrupt check
 * between layers and between blocks of rows of a large layer (a batch of
 * 65536 rows through 1024 x 1024 layers is seconds of work).
 */
extern AnStatus an_mlp_create(AnContext *ctx, AnMlp *mlp, int n_layers,
							  const int *dims, const AnActivation *acts,
							  bool bias, bool trainable, int max_batch);
extern void an_mlp_free(AnContext *ctx, AnMlp *mlp);
extern void an_mlp_init(AnMlp *mlp, AnRng *rng);
extern int	an_mlp_out_dim(const AnMlp *mlp);

/*
 * The weights and biases of src's first n_layers layers into dst's, which
 * must have those layers' widths and src's bias setting (dst may be deeper,
 * trainable or not): a trained network kept for scoring, an encoder taken
 * from a pretrained autoencoder, a moving average's starting point.
 */
extern void an_mlp_copy_weights(AnMlp *dst, const AnMlp *src, int n_layers);

/*
 * Lay an inference-only network's weights out for one-row forward passes
 * (rowkernel.c), once its weights are final: a decoded model's.  Leaves
 * mlp->rownet NULL when the copy is not worth its memory.
 */
extern AnStatus an_mlp_pack_rows(AnContext *ctx, AnMlp *mlp);

/* forward n <= max_batch rows; returns the output (owned by the MLP) */
extern const float *an_mlp_forward(AnMlp *mlp, const float *x, int n);

/* an_dense_small of every layer: a row's output does not depend on its block */
extern bool an_mlp_rows_independent(const AnMlp *mlp);

/*
 * Back-propagate dout (n x out, gradient of the loss with respect to the
 * output of the last forward call on x) into the parameter gradients, and
 * into dx (n x in) when dx is not NULL.  dout may alias mlp->outs[last].
 */
extern void an_mlp_backward(AnMlp *mlp, const float *x, int n,
							const float *dout, float *dx);
extern void an_mlp_params(AnMlp *mlp, AnParamList *list);

/* ---- one-row inference kernel (rowkernel.c) ---- */

typedef struct AnRowLayer
{
	int			in;
	int			out;
	int			outp;			/* out rounded up to a whole vector */
	float	   *wt;				/* in x outp: W transposed, zero padded */
	float	   *b;				/* outp, zero padded (zero without bias) */
	AnActivation act;
} AnRowLayer;

typedef struct AnRowNet
{
	int			n_layers;
	AnRowLayer	layers[AN_MAX_LAYERS];
	float	   *buf[2];			/* one row of the widest layer, in turn */
	float	   *block;			/* the one allocation holding all of the above */
} AnRowNet;

/*
 * A copy of mlp's weights laid out for one row; *net is left NULL (with
 * AN_OK) when the network is too large for the copy to pay.
 */
extern AnStatus an_rownet_create(AnContext *ctx, const AnMlp *mlp, AnRowNet **net);
extern void an_rownet_free(AnContext *ctx, AnRowNet *net);

/* one row x through the network; the output is owned by net */
extern const float *an_rownet_forward(AnRowNet *net, const float *x);

/* ---- losses (loss.c) ---- */

/*
 * Mean squared error over all n * d elements (PyTorch's F.mse_loss); if
 * grad is not NULL it receives d loss / d y.
 */
extern double an_mse(const float *y, const float *target, int n, int d, float *grad);

/* per-row mean of squared differences, the reconstruction score */
extern void an_row_mse(const float *y, const float *target, int n, int d, double *out);

/*
 * Binary cross-entropy with logits, mean over n (PyTorch's
 * F.binary_cross_entropy_with_logits): target t in [0, 1], loss
 * softplus(l) - t l, computed without overflow for any finite logit; if
 * grad is not NULL it receives d loss / d l = (sigmoid(l) - t) / n.
 */
extern double an_bce_logits(const float *logit, const float *target, int n, float *grad);

/* softplus(x) = log(1 + exp(x)), without overflow */
extern double an_softplus(double x);

/* ---- Adam (adam.c) ---- */

typedef struct AnAdam
{
	AnParamList params;
	float	   *m;
	float	   *v;
	double		lr;
	double		beta1;
	double		beta2;
	double		eps;
	double		weight_decay;	/* L2 added to the gradient, as torch.optim.Adam */
	int64_t		t;
} AnAdam;

extern AnStatus an_adam_create(AnContext *ctx, AnAdam *adam, const AnParamList *params,
							   double lr, double weight_decay);
extern void an_adam_step(AnAdam *adam);
extern void an_adam_free(AnContext *ctx, AnAdam *adam);

#endif							/* ANOMALY_NN_H */
