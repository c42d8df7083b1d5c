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
#include <string.h>

#include "anomaly/nn.h"

/* floats per vector, the padding unit of a layer's outputs */
#define RK_LANES 16

/*
 * The most floats of packed weights a network gets: the copy doubles a
 * decoded model's weights, which pays for small layers, where call
 * overhead dominates; a network beyond it scores through the per-output
 * kernel of dense.c (docs/security.md bounds a decoded model's memory).
 */
#define RK_MAX_FLOATS (INT64_C(1) << 22)

typedef float rk_v16 __attribute__((vector_size(RK_LANES * sizeof(float))));

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
 * Unaligned vector loads and stores, as macros: a function passing a
 * 64-byte vector by value would have an ABI that differs between the clones.
 */
#define load(p) ({ rk_v16 v_; memcpy(&v_, (p), sizeof(v_)); v_; })
#define store(p, v) do { rk_v16 v_ = (v); memcpy((p), &v_, sizeof(v_)); } while (0)

/*
 * y[0..outp) = b + x W^T for one layer.  Four vectors of outputs at a time
 * keep four independent chains of multiply-adds in flight; a last block of
 * one to three vectors splits its inputs over four accumulators per vector
 * for the same reason (a 64 -> 16 layer would otherwise be one chain of 64
 * dependent multiply-adds).
 */
__attribute__((target_clones("avx512f", "avx2", "default")))
static void
layer_forward(const AnRowLayer *r, const float *x, float *y)
{
	int			in = r->in;
	int			outp = r->outp;
	int			j = 0;

	for (; j + 4 * RK_LANES <= outp; j += 4 * RK_LANES)
	{
		const float *w = r->wt + j;
		rk_v16		a0 = load(r->b + j),
					a1 = load(r->b + j + RK_LANES),
					a2 = load(r->b + j + 2 * RK_LANES),
					a3 = load(r->b + j + 3 * RK_LANES);

		for (int i = 0; i < in; i++, w += outp)
		{
			float		xi = x[i];

			a0 += xi * load(w);
			a1 += xi * load(w + RK_LANES);
			a2 += xi * load(w + 2 * RK_LANES);
			a3 += xi * load(w + 3 * RK_LANES);
		}
		store(y + j, a0);
		store(y + j + RK_LANES, a1);
		store(y + j + 2 * RK_LANES, a2);
		store(y + j + 3 * RK_LANES, a3);
	}
	for (; j < outp; j += RK_LANES)
	{
		const float *w = r->wt + j;
		rk_v16		a0 = load(r->b + j),
					a1 = {0},
					a2 = {0},
					a3 = {0};
		int			i = 0;

		for (; i + 4 <= in; i += 4, w += 4 * (size_t) outp)
		{
			a0 += x[i] * load(w);
			a1 += x[i + 1] * load(w + outp);
			a2 += x[i + 2] * load(w + 2 * (size_t) outp);
			a3 += x[i + 3] * load(w + 3 * (size_t) outp);
		}
		for (; i < in; i++, w += outp)
			a0 += x[i] * load(w);
		store(y + j, (a0 + a1) + (a2 + a3));
	}
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
		an_activation_forward(r->act, y, r->out);
		in = y;
	}
	return in;
}
