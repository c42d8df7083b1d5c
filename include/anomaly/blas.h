/*-------------------------------------------------------------------------
 *
 * blas.h
 *	  The BLAS routines the core uses, bound at run time.
 *
 * OpenBLAS starts a pool of worker threads from its library constructor.
 * Linked directly into a PostgreSQL backend, those threads would be
 * created with the backend's signal mask, could receive PostgreSQL's
 * signals, and would be created even in the postmaster under
 * shared_preload_libraries.  So the core does not link BLAS: an_blas_load()
 * dlopen()s it on first use with every signal blocked, so that every
 * thread it starts inherits a fully blocked mask, and resizing the pool
 * (an_blas_set_threads) blocks signals the same way.
 *
 * IDENTIFICATION
 *	  include/anomaly/blas.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_BLAS_H
#define ANOMALY_BLAS_H

#include "anomaly/core.h"

/* CBLAS enumeration values (cblas.h), fixed by the CBLAS standard */
#define AN_CBLAS_ROW_MAJOR	101
#define AN_CBLAS_NO_TRANS	111
#define AN_CBLAS_TRANS		112

typedef void (*AnSgemmFn) (int order, int transa, int transb,
						   int m, int n, int k, float alpha,
						   const float *a, int lda, const float *b, int ldb,
						   float beta, float *c, int ldc);

typedef struct AnBlas
{
	AnSgemmFn	sgemm;
	void		(*set_num_threads) (int n);		/* NULL if unsupported */
	int			(*get_num_threads) (void);		/* NULL if unsupported */
	const char *library;		/* the file that was loaded */
} AnBlas;

/* The process-wide binding; NULL until an_blas_load() succeeded. */
extern const AnBlas *an_blas;

extern AnStatus an_blas_load(AnContext *ctx);
extern void an_blas_set_threads(int n);

/* C = alpha * op(A) op(B) + beta * C, row-major, through the binding */
static inline void
an_sgemm(bool transa, bool transb, int m, int n, int k, float alpha,
		 const float *a, int lda, const float *b, int ldb,
		 float beta, float *c, int ldc)
{
	an_blas->sgemm(AN_CBLAS_ROW_MAJOR,
				   transa ? AN_CBLAS_TRANS : AN_CBLAS_NO_TRANS,
				   transb ? AN_CBLAS_TRANS : AN_CBLAS_NO_TRANS,
				   m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/*
 * C (P x N, row stride ldc) = init + A B without BLAS (smallgemm.c):
 * A[p, k] is a[p * as + k * ak], B is K x N with row stride ldb, init is
 * a row of N initial values (a bias) or NULL for zeros.  Each element is
 * its initial value then one fused multiply-add per k in ascending order.
 * Returns false, touching nothing, where it does not apply (no AVX-512, or
 * B larger than AN_SMALL_GEMM_MAX_B floats): the caller calls sgemm.
 */
#define AN_SMALL_GEMM_MAX_B 16384

extern bool an_small_sgemm(int P, int N, int K, const float *a, size_t as, size_t ak,
						   const float *b, size_t ldb, const float *init,
						   float *c, size_t ldc);
extern bool an_small_sgemm_available(void);
extern void an_small_sgemm_enable(bool enable);	/* process-wide; default on */
extern bool an_cpu_avx512(void);

#endif							/* ANOMALY_BLAS_H */
