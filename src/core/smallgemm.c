/*-------------------------------------------------------------------------
 *
 * smallgemm.c
 *	  The matrix products of small dense layers, with AVX-512, without BLAS.
 *
 * A training batch of the usual networks multiplies 256 rows by layers of
 * 16 to 64 units: a few hundred kFLOP per product, 11 products a batch.
 * OpenBLAS packs both operands into its own layout for every call, and on
 * the benchmark machine its environment selects the Haswell kernel
 * (OPENBLAS_CORETYPE=Haswell, 256-bit vectors): perf put the packing
 * routines at a fifth of the products' time.  Here each product is one
 * pass with the accumulators in registers: a block of R rows of C by V
 * vectors of 16 columns, and for each k one load of V vectors of B, R
 * broadcasts of A and R x V fused multiply-adds.  B (a layer's weights or
 * a batch's rows) stays in the L1 or L2 cache.
 *
 * Every element of C is its initial value (the bias or 0) followed by one
 * fused multiply-add per k, k ascending, whatever the block it falls in:
 * a row's result does not depend on how many rows are multiplied with it,
 * so a model scores a row with the same bits in a block of 16 rows as in
 * one of 256.  Those are not sgemm's bits (another order of the sums).
 *
 * The products are used only where the processor has AVX-512 and B is
 * small (AN_SMALL_GEMM_MAX_B floats); everywhere else an_small_sgemm
 * returns false and the caller calls sgemm.  test/unit/test_smallgemm.c
 * checks results against double-precision products and the order of the
 * sums against a scalar loop with fmaf.
 *
 * IDENTIFICATION
 *	  src/core/smallgemm.c
 *
 *-------------------------------------------------------------------------
 */
#include "anomaly/blas.h"

/* off: every product goes to sgemm (tests and benchmarks compare the two) */
static bool sg_enabled = true;

#ifdef __x86_64__
#include <immintrin.h>

/* the broadcasts of A, the loads of B and R x V accumulators: 32 registers */
#define SG_ROWS(V) ((V) == 1 ? 24 : (V) == 2 ? 12 : (V) == 3 ? 8 : 6)

/*
 * C[r, 16v + l] for r < R, v < V: R and V are constants once inlined, so
 * the accumulators are registers.  The last vector covers its columns
 * under tail (lanes past N are neither loaded nor stored).
 */
__attribute__((target("avx512f"), always_inline))
static inline void
sg_block(const int R, const int V, int K, const float *a, size_t as, size_t ak,
		 const float *b, size_t ldb, const float *init, __mmask16 tail,
		 float *c, size_t ldc)
{
	__m512		acc[24][4];

#pragma GCC unroll 4
	for (int v = 0; v < V; v++)
	{
		__mmask16	mask = v == V - 1 ? tail : (__mmask16) 0xFFFF;
		__m512		start = init ? _mm512_maskz_loadu_ps(mask, init + 16 * v)
			: _mm512_setzero_ps();

#pragma GCC unroll 24
		for (int r = 0; r < R; r++)
			acc[r][v] = start;
	}
	for (int k = 0; k < K; k++)
	{
		const float *bk = b + (size_t) k * ldb;
		const float *akp = a + (size_t) k * ak;
		__m512		bv[4];

#pragma GCC unroll 4
		for (int v = 0; v < V; v++)
			bv[v] = _mm512_maskz_loadu_ps(v == V - 1 ? tail : (__mmask16) 0xFFFF,
										  bk + 16 * v);
#pragma GCC unroll 24
		for (int r = 0; r < R; r++)
		{
			__m512		x = _mm512_set1_ps(akp[(size_t) r * as]);

#pragma GCC unroll 4
			for (int v = 0; v < V; v++)
				acc[r][v] = _mm512_fmadd_ps(x, bv[v], acc[r][v]);
		}
	}
#pragma GCC unroll 24
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int v = 0; v < V; v++)
			_mm512_mask_storeu_ps(c + (size_t) r * ldc + 16 * v,
								  v == V - 1 ? tail : (__mmask16) 0xFFFF, acc[r][v]);
}

/*
 * One column panel of V vectors: rows in blocks of SG_ROWS(V), then what
 * is left in blocks of 8, 4, 2 and 1 (a block of one row loads B for two
 * multiply-adds per vector, a sixth of a full block's rate).
 */
#define SG_CALL(R, V) \
	sg_block(R, V, K, a + (size_t) p * as, as, ak, b + j, ldb, \
			 init ? init + j : NULL, tail, c + (size_t) p * ldc + j, ldc)
#define SG_PANEL(V) \
	do { \
		int			p = 0; \
		for (; p + SG_ROWS(V) <= P; p += SG_ROWS(V)) \
			SG_CALL(SG_ROWS(V), V); \
		for (; SG_ROWS(V) > 8 && p + 8 <= P; p += 8) \
			SG_CALL(8, V); \
		for (; p + 4 <= P; p += 4) \
			SG_CALL(4, V); \
		for (; p + 2 <= P; p += 2) \
			SG_CALL(2, V); \
		for (; p < P; p++) \
			SG_CALL(1, V); \
	} while (0)

__attribute__((target("avx512f")))
static void
sg_avx512(int P, int N, int K, const float *a, size_t as, size_t ak,
		  const float *b, size_t ldb, const float *init, float *c, size_t ldc)
{
	for (int j = 0; j < N; j += 64)
	{
		int			left = N - j;
		int			V = left >= 64 ? 4 : (left + 15) / 16;
		int			last = left >= 64 ? 16 : left - 16 * (V - 1);
		__mmask16	tail = (__mmask16) ((1u << last) - 1);

		switch (V)
		{
			case 1:
				SG_PANEL(1);
				break;
			case 2:
				SG_PANEL(2);
				break;
			case 3:
				SG_PANEL(3);
				break;
			default:
				SG_PANEL(4);
				break;
		}
	}
}

static int
sg_available(void)
{
	return sg_enabled && an_cpu_avx512();
}
#endif							/* __x86_64__ */

/* whether the processor and its operating system run AVX-512F */
bool
an_cpu_avx512(void)
{
#ifdef __x86_64__
	static int	available = -1;

	if (available < 0)
	{
		__builtin_cpu_init();
		available = __builtin_cpu_supports("avx512f") ? 1 : 0;
	}
	return available == 1;
#else
	return false;
#endif
}

void
an_small_sgemm_enable(bool enable)
{
	sg_enabled = enable;
}

bool
an_small_sgemm(int P, int N, int K, const float *a, size_t as, size_t ak,
			   const float *b, size_t ldb, const float *init, float *c, size_t ldc)
{
#ifdef __x86_64__
	if (P < 1 || N < 1 || K < 1 || (int64_t) K * N > AN_SMALL_GEMM_MAX_B ||
		!sg_available())
		return false;
	sg_avx512(P, N, K, a, as, ak, b, ldb, init, c, ldc);
	return true;
#else
	return false;
#endif
}

bool
an_small_sgemm_available(void)
{
#ifdef __x86_64__
	return sg_available() == 1;
#else
	return false;
#endif
}
