/*-------------------------------------------------------------------------
 *
 * dense.c
 *	  Fully connected layer: y = x W^T + b, through cblas_sgemm.
 *
 * IDENTIFICATION
 *	  src/core/dense.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/nn.h"
#include "anomaly/simd.h"

AnStatus
an_dense_create(AnContext *ctx, AnDense *layer, int in, int out, bool bias,
				bool trainable)
{
	size_t		nw = (size_t) in * (size_t) out;

	memset(layer, 0, sizeof(*layer));
	layer->in = in;
	layer->out = out;
	layer->w = an_alloc_array(ctx, nw, sizeof(float));
	if (bias)
		layer->b = an_alloc_array(ctx, out, sizeof(float));
	if (trainable)
	{
		layer->gw = an_alloc_array(ctx, nw, sizeof(float));
		if (bias)
			layer->gb = an_alloc_array(ctx, out, sizeof(float));
	}
	if (!layer->w || (bias && !layer->b) ||
		(trainable && (!layer->gw || (bias && !layer->gb))))
	{
		an_dense_free(ctx, layer);
		return an_nomem(ctx);
	}
	return AN_OK;
}

void
an_dense_free(AnContext *ctx, AnDense *layer)
{
	an_free(ctx, layer->w);
	an_free(ctx, layer->b);
	an_free(ctx, layer->gw);
	an_free(ctx, layer->gb);
	layer->w = layer->b = layer->gw = layer->gb = NULL;
}

void
an_dense_init(AnDense *layer, AnRng *rng)
{
	double		bound = 1.0 / sqrt((double) layer->in);
	size_t		nw = (size_t) layer->in * (size_t) layer->out;

	for (size_t i = 0; i < nw; i++)
		layer->w[i] = (float) ((2.0 * an_rng_uniform(rng) - 1.0) * bound);
	if (layer->b)
		for (int i = 0; i < layer->out; i++)
			layer->b[i] = (float) ((2.0 * an_rng_uniform(rng) - 1.0) * bound);
}

/*
 * One row through the layer: y = W x + b.  This is the scoring path of
 * anomaly_score(), one row per call, where a BLAS call costs more than the
 * arithmetic of a small layer.  Eight partial sums in a GCC vector let the
 * compiler use SIMD without reassociating a single float sum, and
 * target_clones picks AVX-512, AVX2 or the baseline at load time.
 */
typedef float an_v8sf __attribute__((vector_size(8 * sizeof(float))));

__attribute__((target_clones("avx512f", "avx2", "default")))
static void
dense_forward_row(const AnDense *layer, const float *x, float *y)
{
	int			in = layer->in;

	for (int j = 0; j < layer->out; j++)
	{
		const float *w = layer->w + (size_t) j * in;
		an_v8sf		acc = {0, 0, 0, 0, 0, 0, 0, 0};
		float		sum = layer->b ? layer->b[j] : 0.0f;
		int			i = 0;

		for (; i + 8 <= in; i += 8)
		{
			an_v8sf		vw,
						vx;

			memcpy(&vw, w + i, sizeof(vw));
			memcpy(&vx, x + i, sizeof(vx));
			acc += vw * vx;
		}
		for (; i < in; i++)
			sum += w[i] * x[i];
		for (int k = 0; k < 8; k++)
			sum += acc[k];
		y[j] = sum;
	}
}

/*
 * y = x W^T + b through smallgemm.c, which wants B = W^T (in x out): the
 * transpose is in * out floats, which sgemm's packing of W costs too.
 */
static bool
dense_forward_small(const AnDense *layer, const float *x, int n, float *y)
{
	float		wt[AN_SMALL_GEMM_MAX_B];
	int			in = layer->in;
	int			out = layer->out;

	if (!an_dense_small(layer))
		return false;
	for (int o = 0; o < out; o++)
		for (int i = 0; i < in; i++)
			wt[(size_t) i * out + o] = layer->w[(size_t) o * in + i];
	return an_small_sgemm(n, out, in, x, in, 1, wt, out, layer->b, y, out);
}

bool
an_dense_small(const AnDense *layer)
{
	return (int64_t) layer->in * layer->out <= AN_SMALL_GEMM_MAX_B &&
		an_small_sgemm_available();
}

void
an_dense_forward(const AnDense *layer, const float *x, int n, float *y)
{
	int			out = layer->out;

	/*
	 * One row goes through the per-output kernel (rowkernel.c's, through
	 * an_mlp_forward, when the network has one); two or more of a small
	 * layer through smallgemm.c, so that a row's output does not depend on
	 * the rows passed with it.
	 */
	if (n == 1)
	{
		dense_forward_row(layer, x, y);
		return;
	}
	if (dense_forward_small(layer, x, n, y))
		return;

	if (layer->b)
	{
		for (int i = 0; i < n; i++)
			memcpy(y + (size_t) i * out, layer->b, out * sizeof(float));
	}
	an_sgemm(false, true, n, out, layer->in, 1.0f, x, layer->in,
			 layer->w, layer->in, layer->b ? 1.0f : 0.0f, y, out);
}

/*
 * gb = the sum of dy's n rows, each output's sum taken over the rows in
 * order, as a loop adding row after row would: the same bits, a vector of
 * outputs at a time (GCC leaves that loop scalar at -O2).
 */
__attribute__((target_clones("avx512f", "avx2", "default")))
void
an_dense_bias_gradient(AnDense *layer, int n, const float *dy)
{
	int			out = layer->out;
	int			j = 0;

	for (; j + AN_LANES <= out; j += AN_LANES)
	{
		an_v16		sum = {0};

		for (int i = 0; i < n; i++)
			sum += an_v16_load(dy + (size_t) i * out + j);
		an_v16_store(layer->gb + j, sum);
	}
	if (j < out && out >= AN_LANES)
	{
		/*
		 * The last columns as the last vector of the row, whose first lanes
		 * (columns already summed) are summed again, in the same order, and
		 * not stored: a strided scalar sum per column cost as much as all
		 * the vectors before it (30 outputs: 16 in a vector, 14 alone).
		 */
		int			start = out - AN_LANES;
		an_v16		sum = {0};

		for (int i = 0; i < n; i++)
			sum += an_v16_load(dy + (size_t) i * out + start);
		for (; j < out; j++)
			layer->gb[j] = sum[j - start];
	}
	for (; j < out; j++)
	{
		float		sum = 0.0f;

		for (int i = 0; i < n; i++)
			sum += dy[(size_t) i * out + j];
		layer->gb[j] = sum;
	}
}

void
an_dense_backward(AnDense *layer, const float *x, int n, const float *dy, float *dx)
{
	int			in = layer->in;
	int			out = layer->out;

	/* gw = dy^T x (out x in): gw[o, i] = sum over rows r of dy[r, o] x[r, i] */
	if (!an_small_sgemm(out, in, n, dy, 1, out, x, in, NULL, layer->gw, in))
		an_sgemm(true, false, out, in, n, 1.0f, dy, out, x, in, 0.0f, layer->gw, in);
	if (layer->gb)
		an_dense_bias_gradient(layer, n, dy);
	/* dx = dy W (n x in) */
	if (dx && !an_small_sgemm(n, in, out, dy, out, 1, layer->w, in, NULL, dx, in))
		an_sgemm(false, false, n, in, out, 1.0f, dy, out, layer->w, in, 0.0f, dx, in);
}
