/*-------------------------------------------------------------------------
 *
 * rowkernel.c
 *	  One row through a small inference network, without BLAS and without
 *	  allocation: the scoring path of anomaly_score(), one row per call.
 *
 * A decoded model scores one row at a time.  A BLAS call costs more than
 * the arithmetic of a 30 x 64 layer, and a dot product per output (the
 * layout of training, W out x in) ends every output with a horizontal
 * reduction.  So a decoded network keeps a second copy of its weights laid
 * out for one row: each layer transposed to in x out, its rows padded to a
 * multiple of 16 floats, so that y = b + sum_i x[i] W^T[i] is a sequence of
 * broadcast multiply-adds over whole vectors of outputs, with the
 * accumulators in registers.  target_clones picks AVX-512, AVX2 or the
 * baseline at load time; GCC vectors of 16 floats are one register with
 * AVX-512 and two or four otherwise.
 *
 * The sums run in another order than the batch path (sgemm), so scores
 * differ from it in the last bits of float32; test/unit/test_rowkernel.c
 * bounds the difference against a double-precision forward pass.
 *
 * IDENTIFICATION
 *	  src/core/rowkernel.c
 *
 *-------------------------------------------------------------------------
 */
#include "anomaly/nn.h"
#include "anomaly/simd.h"

/* floats per vector, the padding unit of a layer's outputs */
#define RK_LANES AN_LANES

/*
 * The most floats of packed weights a network gets: the copy doubles a
 * decoded model's weights, which pays for small layers, where call
 * overhead dominates; a network beyond it scores through the per-output
 * kernel of dense.c (docs/security.md bounds a decoded model's memory).
 */
#define RK_MAX_FLOATS (INT64_C(1) << 22)

static int
padded(int out)
{
	return (out + RK_LANES - 1) / RK_LANES * RK_LANES;
}

AnStatus
an_rownet_create(AnContext *ctx, const AnMlp *mlp, AnRowNet **result)
{
	AnRowNet   *net;
	int64_t		floats = 0;
	int			widest = 0;
	float	   *p;

	*result = NULL;
	for (int l = 0; l < mlp->n_layers; l++)
	{
		int			outp = padded(mlp->dims[l + 1]);

		floats += (int64_t) mlp->dims[l] * outp + outp;
		if (outp > widest)
			widest = outp;
	}
	floats += 2 * (int64_t) widest;
	if (floats > RK_MAX_FLOATS)
		return AN_OK;			/* not worth a copy: the caller keeps dense.c's path */

	net = an_alloc0(ctx, sizeof(AnRowNet));
	if (!net)
		return an_nomem(ctx);
	net->block = an_alloc_array(ctx, (size_t) floats, sizeof(float));
	if (!net->block)
	{
		an_free(ctx, net);
		return an_nomem(ctx);
	}
	memset(net->block, 0, (size_t) floats * sizeof(float));
	net->n_layers = mlp->n_layers;
	p = net->block;
	for (int l = 0; l < mlp->n_layers; l++)
	{
		const AnDense *d = &mlp->layers[l];
		AnRowLayer *r = &net->layers[l];

		r->in = d->in;
		r->out = d->out;
		r->outp = padded(d->out);
		r->act = mlp->acts[l];
		r->wt = p;
		p += (size_t) r->in * r->outp;
		r->b = p;
		p += r->outp;
		for (int j = 0; j < d->out; j++)
		{
			for (int i = 0; i < d->in; i++)
				r->wt[(size_t) i * r->outp + j] = d->w[(size_t) j * d->in + i];
			if (d->b)
				r->b[j] = d->b[j];
		}
	}
	net->buf[0] = p;
	net->buf[1] = p + widest;
	*result = net;
	return AN_OK;
}

void
an_rownet_free(AnContext *ctx, AnRowNet *net)
{
	if (!net)
		return;
	an_free(ctx, net->block);
	an_free(ctx, net);
}

/*
 * The piecewise-linear activations on a vector, as an_activation_forward
 * computes them element by element (x > 0 ? x : 0, or the leaky slope
 * times x; NaN takes the second branch), so that the outputs are the same
 * bits; sigmoid and tanh go through an_activation_forward afterwards.
 */
#define activate(v, act) ({ \
	an_v16 a_ = (v); \
	an_v16i pos_ = a_ > (an_v16) {0}; \
	(act) == AN_ACT_RELU ? an_v16_select(pos_, a_, (an_v16) {0}) : \
	(act) == AN_ACT_LEAKY_RELU ? an_v16_select(pos_, a_, a_ * AN_LEAKY_SLOPE) : a_; })

/*
 * nv vectors of outputs, y[j .. j + nv * RK_LANES), of one layer.  A
 * multiply-add takes four cycles and two can start each cycle, so eight
 * independent sums keep the units busy: the nv vectors each get 8 / nv
 * partial sums, over inputs i, i + 1, ... in turn, added up at the end.
 * Inlined with constant nv, the sums live in registers.
 */
#define RK_SUMS 8

static inline __attribute__((always_inline)) void
block_forward(const AnRowLayer *r, const float *x, float *y, int j, const int nv)
{
	const int	parts = RK_SUMS / nv;
	const float *w = r->wt + j;
	int			in = r->in;
	size_t		outp = r->outp;
	an_v16		acc[RK_SUMS];
	int			i = 0;

#pragma GCC unroll 8
	for (int k = 0; k < RK_SUMS; k++)
		acc[k] = (an_v16) {0};
	for (; i + parts <= in; i += parts, w += parts * outp)
#pragma GCC unroll 8
		for (int p = 0; p < parts; p++)
#pragma GCC unroll 4
			for (int v = 0; v < nv; v++)
				acc[v * parts + p] += x[i + p] * an_v16_load(w + p * outp + v * RK_LANES);
	for (; i < in; i++, w += outp)
#pragma GCC unroll 4
		for (int v = 0; v < nv; v++)
			acc[v * parts] += x[i] * an_v16_load(w + v * RK_LANES);
#pragma GCC unroll 4
	for (int v = 0; v < nv; v++)
	{
		an_v16		sum = an_v16_load(r->b + j + v * RK_LANES);

#pragma GCC unroll 8
		for (int p = 0; p < parts; p++)
			sum += acc[v * parts + p];
		an_v16_store(y + j + v * RK_LANES, activate(sum, r->act));
	}
}

/* y[0..outp) = act(b + x W^T) for one layer (for sigmoid and tanh, without act) */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void
layer_forward(const AnRowLayer *r, const float *x, float *y)
{
	int			outp = r->outp;
	int			j = 0;

	for (; j + 4 * RK_LANES <= outp; j += 4 * RK_LANES)
		block_forward(r, x, y, j, 4);
	if (j + 2 * RK_LANES <= outp)
	{
		block_forward(r, x, y, j, 2);
		j += 2 * RK_LANES;
	}
	if (j < outp)
		block_forward(r, x, y, j, 1);
}

const float *
an_rownet_forward(AnRowNet *net, const float *x)
{
	const float *in = x;

	for (int l = 0; l < net->n_layers; l++)
	{
		const AnRowLayer *r = &net->layers[l];
		float	   *y = net->buf[l % 2];

		layer_forward(r, in, y);
		if (r->act == AN_ACT_SIGMOID || r->act == AN_ACT_TANH)
			an_activation_forward(r->act, y, r->out);
		in = y;
	}
	return in;
}
