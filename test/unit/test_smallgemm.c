/*-------------------------------------------------------------------------
 *
 * test_smallgemm.c
 *	  The AVX-512 products of small layers (smallgemm.c): every element is
 *	  its initial value then one fused multiply-add per k, k ascending, and
 *	  the dense layer's passes through them agree with sgemm's; and the
 *	  layer's bias gradient, vectorized to the last column, keeps its bits.
 *
 * On a processor without AVX-512 the products decline (an_small_sgemm
 * returns false and touches nothing), which is checked instead.
 *
 * IDENTIFICATION
 *	  test/unit/test_smallgemm.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/nn.h"
#include "unit.h"

/* deterministic values in [-1, 1) of varied magnitude */
static void
fill(float *v, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
	{
		seed = seed * 1103515245u + 12345u;
		v[i] = (float) ((double) (seed >> 8) / (1u << 24) * 2.0 - 1.0) *
			(i % 5 == 0 ? 1e-3f : 1.0f);
	}
}

/*
 * C = init + A B with A given by strides, against the scalar definition:
 * fmaf per k (one rounding each, as the kernel's vfmadd), k ascending.
 * Sizes cover each panel width (1 to 4 vectors and several panels), the
 * tails of columns (N not a multiple of 16) and of rows (P not a multiple
 * of the row block), and A read transposed (the weight gradient's case).
 */
UNIT_TEST(small_sgemm_is_an_fma_per_k_in_order)
{
	static const int shapes[][3] = {
		{1, 1, 1}, {7, 15, 3}, {25, 16, 30}, {13, 17, 64}, {256, 30, 64},
		{256, 64, 30}, {64, 16, 256}, {30, 64, 256}, {9, 48, 5}, {31, 100, 16},
		{6, 129, 7},
	};
	bool		exact = true;
	double		worst = 0.0;

	if (!an_small_sgemm_available())
	{
		float		c = 42.0f,
					one = 1.0f;

		CHECK(!an_small_sgemm(1, 1, 1, &one, 1, 1, &one, 1, NULL, &c, 1));
		CHECK(c == 42.0f);
		printf("# no AVX-512: the products decline, sgemm is used\n");
		return;
	}
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
	{
		int			P = shapes[s][0],
					N = shapes[s][1],
					K = shapes[s][2];

		for (int variant = 0; variant < 2; variant++)
		{
			/* variant 0: A row-major (P x K); 1: A stored transposed (K x P) */
			size_t		as = variant ? 1 : (size_t) K;
			size_t		ak = variant ? (size_t) P : 1;
			size_t		ldc = (size_t) N + 3;	/* a wider C: columns past N untouched */
			float	   *a = malloc(sizeof(float) * P * K);
			float	   *b = malloc(sizeof(float) * K * N);
			float	   *init = malloc(sizeof(float) * N);
			float	   *c = malloc(sizeof(float) * P * ldc);

			REQUIRE(a && b && init && c);
			fill(a, (size_t) P * K, 1 + s);
			fill(b, (size_t) K * N, 100 + s);
			fill(init, N, 200 + s);
			for (size_t i = 0; i < (size_t) P * ldc; i++)
				c[i] = 7.0f;
			CHECK(an_small_sgemm(P, N, K, a, as, ak, b, N, variant ? NULL : init, c, ldc));
			for (int p = 0; p < P; p++)
			{
				for (int j = 0; j < N; j++)
				{
					float		acc = variant ? 0.0f : init[j];
					double		ref = acc,
								mag = fabs(acc);

					for (int k = 0; k < K; k++)
					{
						float		x = a[p * as + k * ak];
						float		y = b[(size_t) k * N + j];

						acc = fmaf(x, y, acc);
						ref += (double) x * y;
						mag += fabs((double) x * y);
					}
					exact &= memcmp(&acc, &c[p * ldc + j], sizeof(float)) == 0;
					worst = fmax(worst, fabs(ref - c[p * ldc + j]) / (mag + 1e-30));
				}
				for (size_t j = N; j < ldc; j++)
					exact &= c[p * ldc + j] == 7.0f;
			}
			free(a);
			free(b);
			free(init);
			free(c);
		}
	}
	CHECK(exact);
	/* against the exact sum, relative to the magnitude of its terms */
	CHECK(worst < 1e-6);
}

/* a product whose B is over the bound declines and leaves C alone */
UNIT_TEST(small_sgemm_declines_large_operands)
{
	int			K = 129,
				N = AN_SMALL_GEMM_MAX_B / 128;
	float	   *b = calloc((size_t) K * N, sizeof(float));
	float		a[129] = {0};
	float	   *c = malloc(sizeof(float) * N);

	REQUIRE(b && c);
	for (int j = 0; j < N; j++)
		c[j] = 3.0f;
	CHECK(!an_small_sgemm(1, N, K, a, K, 1, b, N, NULL, c, N));
	CHECK(c[0] == 3.0f && c[N - 1] == 3.0f);
	free(b);
	free(c);
}

/*
 * A dense layer's forward and backward passes give sgemm's results within
 * float32 rounding with the products on, and a row's output does not
 * depend on how many rows are passed with it.
 */
UNIT_TEST(small_sgemm_dense_layer_matches_sgemm)
{
	enum
	{
		IN = 30, OUT = 64, N = 256
	};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnDense		layer;
	float	   *x = malloc(sizeof(float) * N * IN);
	float	   *dy = malloc(sizeof(float) * N * OUT);
	float	   *y[2],
			   *dx[2],
			   *gw[2];

	unit_context_counting(&ctx, &counter);
	REQUIRE(x && dy);
	REQUIRE(an_dense_create(&ctx, &layer, IN, OUT, true, true) == AN_OK);
	fill(layer.w, IN * OUT, 3);
	fill(layer.b, OUT, 4);
	fill(x, N * IN, 5);
	fill(dy, N * OUT, 6);
	for (int t = 0; t < 2; t++)
	{
		y[t] = malloc(sizeof(float) * N * OUT);
		dx[t] = malloc(sizeof(float) * N * IN);
		gw[t] = malloc(sizeof(float) * IN * OUT);
		REQUIRE(y[t] && dx[t] && gw[t]);
		an_small_sgemm_enable(t == 1);
		an_dense_forward(&layer, x, N, y[t]);
		an_dense_backward(&layer, x, N, dy, dx[t]);
		memcpy(gw[t], layer.gw, sizeof(float) * IN * OUT);
	}
	an_small_sgemm_enable(true);
	for (int i = 0; i < N * OUT; i++)
		CHECK_CLOSE(y[1][i], y[0][i], 1e-5, 1e-6);
	for (int i = 0; i < N * IN; i++)
		CHECK_CLOSE(dx[1][i], dx[0][i], 1e-5, 1e-6);
	for (int i = 0; i < IN * OUT; i++)
		CHECK_CLOSE(gw[1][i], gw[0][i], 1e-5, 1e-5);

	/* rows 17 to 80 on their own: each row's bits as among all 256 */
	{
		float	   *part = malloc(sizeof(float) * 64 * OUT);

		REQUIRE(part);
		an_dense_forward(&layer, x + 17 * IN, 64, part);
		if (an_small_sgemm_available())
			CHECK(memcmp(part, y[1] + 17 * OUT, sizeof(float) * 64 * OUT) == 0);
		else
			for (int j = 0; j < 64 * OUT; j++)
				CHECK_CLOSE(part[j], y[1][17 * OUT + j], 1e-5, 1e-6);
		free(part);
	}
	for (int t = 0; t < 2; t++)
	{
		free(y[t]);
		free(dx[t]);
		free(gw[t]);
	}
	free(x);
	free(dy);
	an_dense_free(&ctx, &layer);
	CHECK_NO_LEAKS(&counter);
}

/*
 * The bias gradient (dense.c) of widths below, at and past a vector of 16
 * (its last columns summed as the row's last vector): each column's sum of
 * the rows in order, bit for bit.
 */
UNIT_TEST(dense_bias_gradient_sums_rows_in_order)
{
	static const int widths[] = {1, 5, 16, 17, 30, 33, 64};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	bool		exact = true;

	unit_context_counting(&ctx, &counter);
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
	{
		int			out = widths[w],
					n = 37;
		AnDense		layer;
		float	   *dy = malloc(sizeof(float) * n * out);

		REQUIRE(dy);
		REQUIRE(an_dense_create(&ctx, &layer, 3, out, true, true) == AN_OK);
		fill(dy, (size_t) n * out, 9 + w);
		an_dense_bias_gradient(&layer, n, dy);
		for (int j = 0; j < out; j++)
		{
			float		sum = 0.0f;

			for (int i = 0; i < n; i++)
				sum += dy[(size_t) i * out + j];
			exact &= memcmp(&sum, &layer.gb[j], sizeof(float)) == 0;
		}
		an_dense_free(&ctx, &layer);
		free(dy);
	}
	CHECK(exact);
	CHECK_NO_LEAKS(&counter);
}
