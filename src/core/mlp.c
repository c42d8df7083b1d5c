/*-------------------------------------------------------------------------
 *
 * mlp.c
 *	  Multi-layer perceptron: a stack of dense layers, each followed by an
 *	  activation, with the workspace for forward and backward passes.
 *
 * Every network of every method is an AnMlp: the autoencoder is one MLP,
 * a VAE two, Deep SVDD one without biases.  A training network calls its
 * context's interrupt check every few milliseconds of work, splitting a
 * large layer's pass into blocks; an inference-only network (a decoded
 * model's) keeps two output buffers whatever its depth (docs/security.md).
 *
 * IDENTIFICATION
 *	  src/core/mlp.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/nn.h"

/*
 * Bounds on what one network may ask for, so that an absurd option is an
 * error rather than gigabytes of allocation or an endless training.
 */
#define AN_MAX_WEIGHTS	(INT64_C(1) << 27)	/* 134M parameters, 512 MB */
#define AN_MAX_WORKSPACE (INT64_C(1) << 28)	/* floats per activation buffer */

/*
 * Multiply-adds between two interrupt checks in a training network: about
 * a millisecond of single-threaded sgemm, so that a cancel or a
 * statement_timeout is honoured within milliseconds whatever the batch.
 */
#define AN_MLP_CHUNK_MACS (INT64_C(1) << 25)

AnStatus
an_mlp_create(AnContext *ctx, AnMlp *mlp, int n_layers, const int *dims,
			  const AnActivation *acts, bool bias, bool trainable, int max_batch)
{
	int			widest = 0;
	int64_t		weights = 0;

	memset(mlp, 0, sizeof(*mlp));
	if (n_layers < 1 || n_layers > AN_MAX_LAYERS || max_batch < 1)
		return an_error(ctx, AN_ERR_INVALID, "a network needs 1 to %d layers",
						AN_MAX_LAYERS);
	for (int l = 0; l <= n_layers; l++)
	{
		if (dims[l] < 1 || dims[l] > 1 << 20)
			return an_error(ctx, AN_ERR_INVALID, "layer width %d is out of range",
							dims[l]);
		if (dims[l] > widest)
			widest = dims[l];
		if (l > 0)
			weights += (int64_t) dims[l - 1] * dims[l];
	}
	if (weights > AN_MAX_WEIGHTS)
		return an_error(ctx, AN_ERR_INVALID,
						"the network would have %lld weights, more than %lld: reduce \"hidden\" or \"latent\"",
						(long long) weights, (long long) AN_MAX_WEIGHTS);
	if ((int64_t) max_batch * widest > AN_MAX_WORKSPACE)
		return an_error(ctx, AN_ERR_INVALID,
						"a batch of %d rows of width %d is too large: reduce \"batch_size\" or the layer widths",
						max_batch, widest);

	mlp->n_layers = n_layers;
	mlp->bias = bias;
	mlp->trainable = trainable;
	mlp->ctx = trainable ? ctx : NULL;
	mlp->max_batch = max_batch;
	memcpy(mlp->dims, dims, (n_layers + 1) * sizeof(int));
	memcpy(mlp->acts, acts, n_layers * sizeof(AnActivation));

	for (int l = 0; l < n_layers; l++)
	{
		AnStatus	st = an_dense_create(ctx, &mlp->layers[l], dims[l], dims[l + 1],
										 bias, trainable);

		if (st != AN_OK)
		{
			an_mlp_free(ctx, mlp);
			return st;
		}
	}

	/*
	 * Back-propagation needs every layer's output; inference needs only the
	 * previous one.  An inference-only network (a decoded model's) keeps two
	 * buffers that the layers use in turn, each as wide as the widest layer
	 * that writes it, so that its workspace does not grow with its depth.
	 */
	for (int l = 0; l < n_layers; l++)
	{
		if (!trainable && l >= 2)
		{
			mlp->outs[l] = mlp->outs[l % 2];
			continue;
		}
		{
			int			width = dims[l + 1];

			if (!trainable)
				for (int k = l + 2; k < n_layers; k += 2)
					if (dims[k + 1] > width)
						width = dims[k + 1];
			mlp->outs[l] = an_alloc_array(ctx, (size_t) max_batch * width, sizeof(float));
		}
		if (!mlp->outs[l])
		{
			an_mlp_free(ctx, mlp);
			return an_nomem(ctx);
		}
	}
	if (trainable)
	{
		for (int i = 0; i < 2; i++)
		{
			mlp->delta[i] = an_alloc_array(ctx, (size_t) max_batch * widest,
										   sizeof(float));
			if (!mlp->delta[i])
			{
				an_mlp_free(ctx, mlp);
				return an_nomem(ctx);
			}
		}
	}
	return AN_OK;
}

void
an_mlp_free(AnContext *ctx, AnMlp *mlp)
{
	for (int l = 0; l < AN_MAX_LAYERS; l++)
	{
		an_dense_free(ctx, &mlp->layers[l]);
		/* an inference-only network's layers share two buffers */
		if (mlp->trainable || l < 2)
			an_free(ctx, mlp->outs[l]);
	}
	for (int l = 0; l < AN_MAX_LAYERS; l++)
		mlp->outs[l] = NULL;
	for (int i = 0; i < 2; i++)
	{
		an_free(ctx, mlp->delta[i]);
		mlp->delta[i] = NULL;
	}
	an_rownet_free(ctx, mlp->rownet);
	mlp->rownet = NULL;
}

AnStatus
an_mlp_pack_rows(AnContext *ctx, AnMlp *mlp)
{
	an_rownet_free(ctx, mlp->rownet);
	mlp->rownet = NULL;
	if (mlp->trainable)
		return AN_OK;			/* its weights change at every step */
	return an_rownet_create(ctx, mlp, &mlp->rownet);
}

void
an_mlp_init(AnMlp *mlp, AnRng *rng)
{
	for (int l = 0; l < mlp->n_layers; l++)
		an_dense_init(&mlp->layers[l], rng);
}

int
an_mlp_out_dim(const AnMlp *mlp)
{
	return mlp->dims[mlp->n_layers];
}

void
an_mlp_copy_weights(AnMlp *dst, const AnMlp *src, int n_layers)
{
	for (int l = 0; l < n_layers; l++)
	{
		const AnDense *from = &src->layers[l];
		AnDense    *to = &dst->layers[l];

		memcpy(to->w, from->w, sizeof(float) * from->in * from->out);
		if (from->b)
			memcpy(to->b, from->b, sizeof(float) * from->out);
	}
}

/*
 * The interrupt check of a training network.  PostgreSQL's does not return
 * (it longjmps out, which is safe: the core holds only memory of the
 * training's context); a callback that returns true is honoured by the
 * trainer at the next mini-batch.
 */
static void
mlp_check(const AnMlp *mlp)
{
	if (mlp->ctx)
		(void) an_check_interrupts(mlp->ctx);
}

/* rows of layer per block of work between two checks (n: no split) */
static int
block_rows(const AnMlp *mlp, const AnDense *layer, int n)
{
	int64_t		per_row = (int64_t) layer->in * layer->out;
	int64_t		rows;

	if (!mlp->ctx || per_row * n <= AN_MLP_CHUNK_MACS)
		return n;
	rows = AN_MLP_CHUNK_MACS / per_row;
	return rows < 1 ? 1 : (int) rows;
}

/*
 * Count work since the last check, across calls, and check once it reaches
 * a block's worth: validation and epoch-end passes over a million rows
 * through a small network are checked too, while the small batches of the
 * usual training make no more calls than the trainer's one per batch.
 */
static void
mlp_work(AnMlp *mlp, int64_t macs)
{
	mlp->work += macs;
	if (mlp->work >= AN_MLP_CHUNK_MACS)
	{
		mlp->work = 0;
		mlp_check(mlp);
	}
}

const float *
an_mlp_forward(AnMlp *mlp, const float *x, int n)
{
	const float *in = x;

	/* one row of a decoded model: the fused kernel, no BLAS call */
	if (n == 1 && mlp->rownet)
	{
		int			last = mlp->n_layers - 1;

		memcpy(mlp->outs[last], an_rownet_forward(mlp->rownet, x),
			   mlp->dims[last + 1] * sizeof(float));
		return mlp->outs[last];
	}

	for (int l = 0; l < mlp->n_layers; l++)
	{
		const AnDense *layer = &mlp->layers[l];
		int			rows = block_rows(mlp, layer, n);

		for (int r = 0; r < n; r += rows)
		{
			int			m = n - r < rows ? n - r : rows;

			if (r > 0)
				mlp_check(mlp);
			an_dense_forward(layer, in + (size_t) r * layer->in, m,
							 mlp->outs[l] + (size_t) r * layer->out);
		}
		an_activation_forward(mlp->acts[l], mlp->outs[l],
							  (size_t) n * mlp->dims[l + 1]);
		in = mlp->outs[l];
		mlp_work(mlp, (int64_t) n * layer->in * layer->out);
	}
	return in;
}

bool
an_mlp_rows_independent(const AnMlp *mlp)
{
	for (int l = 0; l < mlp->n_layers; l++)
		if (!an_dense_small(&mlp->layers[l]))
			return false;
	return true;
}

/*
 * an_dense_backward of a large layer in blocks with interrupt checks
 * between them: the weight gradient gw = dy^T x by blocks of its rows
 * (output units), dx = dy W by blocks of batch rows, gb as a whole.  Only
 * layers above AN_MLP_CHUNK_MACS take this path; smaller ones go through
 * an_dense_backward unchanged.
 */
static void
dense_backward_blocks(const AnMlp *mlp, AnDense *layer, const float *x, int n,
					  const float *dy, float *dx)
{
	int			in = layer->in;
	int			out = layer->out;
	int64_t		per_unit = (int64_t) n * in;
	int			units = per_unit >= AN_MLP_CHUNK_MACS ? 1
		: (int) (AN_MLP_CHUNK_MACS / per_unit);
	int			rows = block_rows(mlp, layer, n);

	for (int o = 0; o < out; o += units)
	{
		int			m = out - o < units ? out - o : units;

		mlp_check(mlp);
		an_sgemm(true, false, m, in, n, 1.0f, dy + o, out, x, in, 0.0f,
				 layer->gw + (size_t) o * in, in);
	}
	if (layer->gb)
		an_dense_bias_gradient(layer, n, dy);
	if (dx)
		for (int r = 0; r < n; r += rows)
		{
			int			m = n - r < rows ? n - r : rows;

			mlp_check(mlp);
			an_sgemm(false, false, m, in, out, 1.0f, dy + (size_t) r * out, out,
					 layer->w, in, 0.0f, dx + (size_t) r * in, in);
		}
}

void
an_mlp_backward(AnMlp *mlp, const float *x, int n, const float *dout, float *dx)
{
	int			last = mlp->n_layers - 1;
	int			cur = 0;

	memcpy(mlp->delta[cur], dout, (size_t) n * mlp->dims[last + 1] * sizeof(float));
	for (int l = last; l >= 0; l--)
	{
		AnDense    *layer = &mlp->layers[l];
		const float *input = l > 0 ? mlp->outs[l - 1] : x;
		float	   *next = l > 0 ? mlp->delta[1 - cur] : dx;

		an_activation_backward(mlp->acts[l], mlp->outs[l], mlp->delta[cur],
							   (size_t) n * mlp->dims[l + 1]);
		if (block_rows(mlp, layer, n) < n)
			dense_backward_blocks(mlp, layer, input, n, mlp->delta[cur], next);
		else
			an_dense_backward(layer, input, n, mlp->delta[cur], next);
		mlp_work(mlp, 2 * (int64_t) n * layer->in * layer->out);
		cur = 1 - cur;
	}
}

void
an_mlp_params(AnMlp *mlp, AnParamList *list)
{
	for (int l = 0; l < mlp->n_layers; l++)
	{
		AnDense    *layer = &mlp->layers[l];

		an_params_add(list, layer->w, layer->gw, (size_t) layer->in * layer->out);
		if (layer->b)
			an_params_add(list, layer->b, layer->gb, layer->out);
	}
}
