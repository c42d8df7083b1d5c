/*-------------------------------------------------------------------------
 *
 * adam.c
 *	  The Adam optimiser (Kingma and Ba 2015), with torch.optim.Adam's
 *	  defaults and its L2 weight decay (added to the gradient).
 *
 * IDENTIFICATION
 *	  src/core/adam.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif
#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "anomaly/blas.h"
#include "anomaly/nn.h"
#include "anomaly/simd.h"

AnStatus
an_adam_create(AnContext *ctx, AnAdam *adam, const AnParamList *params,
			   double lr, double weight_decay)
{
	size_t		total = an_params_total(params);

	memset(adam, 0, sizeof(*adam));
	adam->params = *params;
	adam->lr = lr;
	adam->beta1 = 0.9;
	adam->beta2 = 0.999;
	adam->eps = 1e-8;
	adam->weight_decay = weight_decay;
	adam->m = an_alloc_array(ctx, total, sizeof(float));
	adam->v = an_alloc_array(ctx, total, sizeof(float));
	if (!adam->m || !adam->v)
	{
		an_adam_free(ctx, adam);
		return an_nomem(ctx);
	}
	return AN_OK;
}

#ifdef __x86_64__
/*
 * The same update for processors with AVX-512, of the whole vectors of 16
 * elements (n a multiple of 16; adam_update does the rest): one register
 * per vector and vsqrtps on all of it.  The generic version below takes the
 * square root 4 lanes at a time through memory, and spends most of its
 * time moving vectors to the stack and back (perf: 6x this one's time on
 * the autoencoder's 6,062 parameters).  Contraction is turned off, so that
 * with AVX-512 (which implies FMA) every product and sum is rounded on its
 * own as in the scalar expression: the same bits as the generic version.
 */
#ifdef __clang__
#define ADAM_NO_CONTRACT		/* a pragma in the body does it */
#else
#define ADAM_NO_CONTRACT , optimize("fp-contract=off")
#endif

__attribute__((target("avx512f") ADAM_NO_CONTRACT))
static void
adam_update_avx512(float *restrict value, const float *restrict grad, float *restrict m,
				   float *restrict v, size_t n, float b1, float b2, float omb1, float omb2,
				   float wd, float step, float rbc2, float eps)
{
#ifdef __clang__
#pragma clang fp contract(off)
#endif
	for (size_t i = 0; i + AN_LANES <= n; i += AN_LANES)
	{
		an_v16		g = an_v16_load(grad + i) + wd * an_v16_load(value + i);
		an_v16		mi = b1 * an_v16_load(m + i) + omb1 * g;
		an_v16		vi = b2 * an_v16_load(v + i) + omb2 * g * g;
		an_v16		root = (an_v16) _mm512_sqrt_ps((__m512) vi);

		an_v16_store(m + i, mi);
		an_v16_store(v + i, vi);
		an_v16_store(value + i, an_v16_load(value + i) - step * mi / (root * rbc2 + eps));
	}
}
#endif

/*
 * One parameter's update, 16 elements at a time.  Every lane computes
 * exactly the scalar expression, in the same order, and the square root
 * and division of a vector are IEEE-exact as the scalar ones: the same
 * bits.  The clones stop at AVX2, which has no fused multiply-add: with
 * AVX-512 (which implies FMA) GCC would contract b1 * m + omb1 * g into
 * one rounding and change the bits.
 */
__attribute__((target_clones("avx2", "default")))
static void
adam_update(float *restrict value, const float *restrict grad, float *restrict m,
			float *restrict v, size_t n, float b1, float b2, float omb1, float omb2,
			float wd, float step, float rbc2, float eps)
{
	size_t		i = 0;

	for (; i + AN_LANES <= n; i += AN_LANES)
	{
		an_v16		g = an_v16_load(grad + i) + wd * an_v16_load(value + i);
		an_v16		mi = b1 * an_v16_load(m + i) + omb1 * g;
		an_v16		vi = b2 * an_v16_load(v + i) + omb2 * g * g;
		an_v16		root;

#ifdef __SSE__
		/* sqrtf() per lane would keep errno and stay scalar */
		for (int l = 0; l < AN_LANES; l += 4)
		{
			__m128		q;

			memcpy(&q, (float *) &vi + l, sizeof(q));
			q = _mm_sqrt_ps(q);
			memcpy((float *) &root + l, &q, sizeof(q));
		}
#else
		for (int l = 0; l < AN_LANES; l++)
			root[l] = sqrtf(vi[l]);
#endif
		an_v16_store(m + i, mi);
		an_v16_store(v + i, vi);
		an_v16_store(value + i, an_v16_load(value + i) - step * mi / (root * rbc2 + eps));
	}
	for (; i < n; i++)
	{
		float		g = grad[i] + wd * value[i];

		m[i] = b1 * m[i] + omb1 * g;
		v[i] = b2 * v[i] + omb2 * g * g;
		value[i] -= step * m[i] / (sqrtf(v[i]) * rbc2 + eps);
	}
}

/*
 * The update picks its version by a branch, not through a function
 * pointer: LLVM 14's ThinLTO link of PGXS's bitcode (for JIT) crashes on a
 * module that takes the address of a target_clones function.
 */
void
an_adam_step(AnAdam *adam)
{
	size_t		k = 0;
	double		bc1,
				bc2;
	float		step,
				b1 = (float) adam->beta1,
				b2 = (float) adam->beta2,
				omb1 = (float) (1.0 - adam->beta1),	/* not 1 - (float) beta: */
				omb2 = (float) (1.0 - adam->beta2),	/* that rounds 0.001 badly */
				wd = (float) adam->weight_decay,
				eps = (float) adam->eps,
				rbc2;

	adam->t++;
	bc1 = 1.0 - pow(adam->beta1, (double) adam->t);
	bc2 = 1.0 - pow(adam->beta2, (double) adam->t);
	step = (float) (adam->lr / bc1);
	rbc2 = (float) (1.0 / sqrt(bc2));

	for (int p = 0; p < adam->params.n; p++)
	{
		AnParam    *param = &adam->params.items[p];
		size_t		done = 0;	/* elements updated by the AVX-512 version */

#ifdef __x86_64__
		if (an_cpu_avx512())
		{
			done = param->size / AN_LANES * AN_LANES;
			adam_update_avx512(param->value, param->grad, adam->m + k, adam->v + k,
							   done, b1, b2, omb1, omb2, wd, step, rbc2, eps);
		}
#endif
		if (done < param->size)
			adam_update(param->value + done, param->grad + done, adam->m + k + done,
						adam->v + k + done, param->size - done,
						b1, b2, omb1, omb2, wd, step, rbc2, eps);
		k += param->size;
	}
}

void
an_adam_free(AnContext *ctx, AnAdam *adam)
{
	an_free(ctx, adam->m);
	an_free(ctx, adam->v);
	adam->m = adam->v = NULL;
}
