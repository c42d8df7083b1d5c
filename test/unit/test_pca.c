/*-------------------------------------------------------------------------
 *
 * test_pca.c
 *	  Unit tests of the PCA detector's own maths (method_pca.c): the score
 *	  is the squared Mahalanobis distance on a hand-computed case, fewer
 *	  components keep the largest, a constant column gets a floored
 *	  eigenvalue instead of a division by zero, and its options.  Round
 *	  trip, damaged documents, allocation failures and determinism are the
 *	  shared checks of test_methods.c.
 *
 * IDENTIFICATION
 *	  test/unit/test_pca.c
 *
 *-------------------------------------------------------------------------
 */
#include "anomaly/method.h"
#include "anomaly/rng.h"
#include "unit.h"

static void *
fit(AnContext *ctx, double n_components, const float *x, size_t n, int dim)
{
	const AnMethod *m = an_method_lookup("pca");
	AnOptions	opts;
	AnRng		rng;
	void	   *state = NULL;
	AnOptionValue v = unit_num(n_components);

	an_rng_seed(&rng, 1);
	if (an_options_init(ctx, &opts, m) != AN_OK ||
		(n_components > 0 && an_options_set(ctx, &opts, "n_components", &v) != AN_OK) ||
		m->fit(ctx, &opts, x, n, dim, &rng, &state) != AN_OK)
		unit_fail(__FILE__, __LINE__, "pca fit failed: %s", ctx->errmsg);
	an_options_free(ctx, &opts);
	return state;
}

/*
 * Four rows centred on (5, -3): +-(2, 0) and +-(0, 1) rotated by 45
 * degrees.  Covariance (divided by n - 1 = 3): variance 8/3 along
 * (1, 1) / sqrt 2 and 2/3 along (1, -1) / sqrt 2.
 */
static void
rotated_rows(float *x)
{
	const double r = sqrt(0.5);
	const double base[4][2] = {{2, 0}, {-2, 0}, {0, 1}, {0, -1}};

	for (int i = 0; i < 4; i++)
	{
		x[2 * i] = (float) (5 + r * (base[i][0] - base[i][1]));
		x[2 * i + 1] = (float) (-3 + r * (base[i][0] + base[i][1]));
	}
}

UNIT_TEST(pca_score_is_mahalanobis)
{
	const AnMethod *m = an_method_lookup("pca");
	AnContext	ctx;
	float		x[8];
	/* (1, 1) in the unrotated frame, i.e. (5, -3) + (0, sqrt 2) */
	float		q[4] = {5.0f, (float) (-3 + sqrt(2.0)), 5.0f, -3.0f};
	double		s[2];
	void	   *state;

	unit_context_malloc(&ctx);
	rotated_rows(x);
	REQUIRE((state = fit(&ctx, 0, x, 4, 2)) != NULL);
	m->score(state, q, 2, s);
	/* 1^2 / (8/3) + 1^2 / (2/3) = 3/8 + 3/2 */
	CHECK_NEAR(s[0], 1.875, 1e-5);
	CHECK_NEAR(s[1], 0.0, 1e-9);
	m->destroy(&ctx, state);

	/* one component, the larger: 3/8 only; so does a share of 0.5 (it explains 0.8) */
	REQUIRE((state = fit(&ctx, 1, x, 4, 2)) != NULL);
	m->score(state, q, 1, s);
	CHECK_NEAR(s[0], 0.375, 1e-5);
	m->destroy(&ctx, state);
	REQUIRE((state = fit(&ctx, 0.5, x, 4, 2)) != NULL);
	m->score(state, q, 1, s);
	CHECK_NEAR(s[0], 0.375, 1e-5);
	m->destroy(&ctx, state);
	/* a share above 0.8 needs both */
	REQUIRE((state = fit(&ctx, 0.9, x, 4, 2)) != NULL);
	m->score(state, q, 1, s);
	CHECK_NEAR(s[0], 1.875, 1e-5);
	m->destroy(&ctx, state);
}

/* against z' inv(C) z with C computed and inverted directly, on random correlated rows */
UNIT_TEST(pca_matches_direct_inverse)
{
	const AnMethod *m = an_method_lookup("pca");
	AnContext	ctx;
	AnRng		rng;
	enum
	{
		N = 400, D = 3
	};
	float		x[N * D];
	double		mean[D] = {0},
				c[D][D] = {{0}},
				inv[D][D];
	double		det,
				s;
	void	   *state;

	unit_context_malloc(&ctx);
	an_rng_seed(&rng, 3);
	for (int i = 0; i < N; i++)
	{
		double		a = an_rng_normal(&rng),
					b = an_rng_normal(&rng);

		x[i * D] = (float) a;
		x[i * D + 1] = (float) (0.8 * a + 0.3 * b);
		x[i * D + 2] = (float) (2.0 * an_rng_normal(&rng) + 1.0);
	}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < D; j++)
			mean[j] += x[i * D + j] / (double) N;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < D; j++)
			for (int k = 0; k < D; k++)
				c[j][k] += (x[i * D + j] - mean[j]) * (x[i * D + k] - mean[k]) / (N - 1);
	/* the inverse by cofactors */
	det = c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
		- c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
		+ c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]);
	for (int j = 0; j < D; j++)
		for (int k = 0; k < D; k++)
		{
			int			j1 = (k + 1) % D,
						j2 = (k + 2) % D,
						k1 = (j + 1) % D,
						k2 = (j + 2) % D;

			inv[j][k] = (c[j1][k1] * c[j2][k2] - c[j1][k2] * c[j2][k1]) / det;
		}

	REQUIRE((state = fit(&ctx, 0, x, N, D)) != NULL);
	for (int i = 0; i < 10; i++)
	{
		double		z[D],
					expected = 0.0;

		for (int j = 0; j < D; j++)
			z[j] = x[i * D + j] - mean[j];
		for (int j = 0; j < D; j++)
			for (int k = 0; k < D; k++)
				expected += z[j] * inv[j][k] * z[k];
		m->score(state, x + i * D, 1, &s);
		CHECK_CLOSE(s, expected, 1e-4, 1e-6);
	}
	m->destroy(&ctx, state);
}

UNIT_TEST(pca_constant_column)
{
	const AnMethod *m = an_method_lookup("pca");
	AnContext	ctx;
	float		x[4 * 3];
	float		q[3 * 3];
	double		s[3];
	void	   *state;

	/* the rotated rows plus a third column that is always 7 */
	unit_context_malloc(&ctx);
	{
		float		x2[8];

		rotated_rows(x2);
		for (int i = 0; i < 4; i++)
		{
			x[3 * i] = x2[2 * i];
			x[3 * i + 1] = x2[2 * i + 1];
			x[3 * i + 2] = 7.0f;
		}
	}
	REQUIRE((state = fit(&ctx, 0, x, 4, 3)) != NULL);
	/* on the constant: the 2-D score; off it: large but finite */
	q[0] = 5.0f;
	q[1] = (float) (-3 + sqrt(2.0));
	q[2] = 7.0f;
	q[3] = 5.0f;
	q[4] = -3.0f;
	q[5] = 7.5f;
	q[6] = 5.0f;
	q[7] = -3.0f;
	q[8] = 7.0f;
	m->score(state, q, 3, s);
	CHECK_NEAR(s[0], 1.875, 1e-4);
	CHECK(isfinite(s[1]) && s[1] > 1e4);
	/* 0.25 / (1e-6 x 8/3) */
	CHECK_CLOSE(s[1], 0.25 / (1e-6 * 8.0 / 3.0), 1e-3, 0);
	CHECK_NEAR(s[2], 0.0, 1e-9);
	m->destroy(&ctx, state);
}

UNIT_TEST(pca_options_checked)
{
	const AnMethod *m = an_method_lookup("pca");
	AnContext	ctx;
	AnOptions	opts;
	AnOptionValue v;
	AnRng		rng;
	float		x[8];
	void	   *state = NULL;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, m) == AN_OK);
	v = unit_num(0);
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_components", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"n_components\"");
	v = unit_num(1.5);
	CHECK_STATUS(an_options_set(&ctx, &opts, "n_components", &v), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"n_components\"");
	v = unit_num(3);
	REQUIRE(an_options_set(&ctx, &opts, "n_components", &v) == AN_OK);
	rotated_rows(x);
	an_rng_seed(&rng, 1);
	CHECK_STATUS(m->fit(&ctx, &opts, x, 4, 2, &rng, &state), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"n_components\"");
	CHECK(state == NULL);
	an_options_free(&ctx, &opts);
}
