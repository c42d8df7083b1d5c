/*-------------------------------------------------------------------------
 *
 * method_pca.c
 *	  Principal component analysis: the score of a row is its squared
 *	  Mahalanobis distance from the training mean in the space of the kept
 *	  components, sum_j (z . v_j)^2 / lambda_j with z = x - mean, v_j the
 *	  unit eigenvectors of the training covariance and lambda_j their
 *	  eigenvalues (Shyu et al. 2003, "A novel anomaly detection scheme based
 *	  on principal component classifier").
 *
 * With every component kept (the default) this is the full Mahalanobis
 * distance: a row that breaks a correlation the training rows obey scores
 * high along the minor component that correlation defines, even when each
 * of its values is ordinary.  Eigenvalues are floored at a small fraction
 * of the largest one, so that constant or duplicated columns (whose
 * eigenvalues are 0 up to rounding) give a bounded weight instead of a
 * division by rounding noise.
 *
 * The state keeps the mean, the eigenvectors and the (floored)
 * eigenvalues, so the score splits over input dimensions when
 * explanations need it: with P = V diag(1 / lambda) V^T, the score is
 * z . (P z) and dimension i contributes z_i (P z)_i.
 *
 * The covariance is moments.c's; the eigen-decomposition is linalg.c's.
 *
 * IDENTIFICATION
 *	  src/core/method_pca.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/linalg.h"
#include "anomaly/method.h"
#include "anomaly/moments.h"

/* the covariance is dim^2 doubles and its decomposition O(dim^3) */
#define PCA_MAX_DIM			4096
/* eigenvalues below this fraction of the largest are raised to it */
#define PCA_EIGEN_FLOOR		1e-6
/* ... and never below this, whatever the scale of the data */
#define PCA_EIGEN_MIN		1e-12
#define PCA_EIGEN_MAX		1e30

typedef struct PcaOptions
{
	/* 0: all; in (0, 1): share of the variance; >= 1: a count */
	double		n_components;
} PcaOptions;

typedef struct Pca
{
	int			dim;
	int			n_components;	/* c */
	float	   *mean;			/* dim */
	float	   *components;		/* c x dim, largest eigenvalue first */
	double	   *eigenvalues;	/* c, floored */

	/* scoring scratch */
	float	   *z;				/* AN_SCORE_BATCH x dim, centred rows */
	float	   *proj;			/* AN_SCORE_BATCH x c */
} Pca;

/* ---- options ---- */

static void
pca_options_init(void *mopts)
{
	((PcaOptions *) mopts)->n_components = 0.0;
}

static AnStatus
pca_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	PcaOptions *o = mopts;
	double		x;

	if (strcmp(key, "n_components") != 0)
		return AN_ERR_NOT_FOUND;
	AN_TRY(an_option_real(ctx, key, v, 0.0, PCA_MAX_DIM, true, &x));
	if (x > 1.0 && x != floor(x))
		return an_error(ctx, AN_ERR_INVALID,
						"option \"%s\" must be a share of the variance in (0, 1) or a whole number of components",
						key);
	o->n_components = x;
	return AN_OK;
}

/* ---- state ---- */

static void
pca_destroy(AnContext *ctx, void *state)
{
	Pca		   *pca = state;

	an_free(ctx, pca->mean);
	an_free(ctx, pca->components);
	an_free(ctx, pca->eigenvalues);
	an_free(ctx, pca->z);
	an_free(ctx, pca->proj);
	an_free(ctx, pca);
}

static AnStatus
pca_alloc(AnContext *ctx, int dim, int c, Pca **out)
{
	Pca		   *pca = an_alloc0(ctx, sizeof(Pca));

	*out = NULL;
	if (!pca)
		return an_nomem(ctx);
	pca->dim = dim;
	pca->n_components = c;
	pca->mean = an_alloc_array(ctx, dim, sizeof(float));
	pca->components = an_alloc_array(ctx, (size_t) c * dim, sizeof(float));
	pca->eigenvalues = an_alloc_array(ctx, c, sizeof(double));
	pca->z = an_alloc_array(ctx, (size_t) AN_SCORE_BATCH * dim, sizeof(float));
	pca->proj = an_alloc_array(ctx, (size_t) AN_SCORE_BATCH * c, sizeof(float));
	if (!pca->mean || !pca->components || !pca->eigenvalues || !pca->z || !pca->proj)
	{
		pca_destroy(ctx, pca);
		return an_nomem(ctx);
	}
	*out = pca;
	return AN_OK;
}

/* ---- scoring ---- */

static void
pca_score(void *state, const float *x, int n, double *out)
{
	Pca		   *pca = state;
	int			dim = pca->dim,
				c = pca->n_components;

	for (int r = 0; r < n; r++)
		for (int j = 0; j < dim; j++)
			pca->z[(size_t) r * dim + j] = x[(size_t) r * dim + j] - pca->mean[j];
	/* proj = Z V, V's columns the components */
	an_sgemm(false, true, n, c, dim, 1.0f, pca->z, dim, pca->components, dim,
			 0.0f, pca->proj, c);
	for (int r = 0; r < n; r++)
	{
		const float *p = pca->proj + (size_t) r * c;
		double		s = 0.0;

		for (int j = 0; j < c; j++)
			s += (double) p[j] * p[j] / pca->eigenvalues[j];
		out[r] = s;
	}
}

/*
 * With P = V diag(1 / lambda) V^T the score is z . (P z), and dimension i
 * contributes z_i (P z)_i: the contributions add up to the score.  A
 * dimension's term can be negative when it offsets another along a
 * correlation (a row that keeps a correlation the training rows obey).
 */
static AnStatus
pca_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			double *rest)
{
	Pca		   *pca = state;
	int			c = pca->n_components;
	double	   *z = an_alloc_array(ctx, dim, sizeof(double));
	double	   *p = an_alloc_array(ctx, c, sizeof(double));

	if (!z || !p)
	{
		an_free(ctx, z);
		an_free(ctx, p);
		return an_nomem(ctx);
	}
	for (int i = 0; i < dim; i++)
		z[i] = (double) x[i] - pca->mean[i];
	for (int j = 0; j < c; j++)
	{
		const float *v = pca->components + (size_t) j * dim;
		double		s = 0.0;

		for (int i = 0; i < dim; i++)
			s += z[i] * v[i];
		p[j] = s / pca->eigenvalues[j];
	}
	for (int i = 0; i < dim; i++)
	{
		double		pz = 0.0;

		for (int j = 0; j < c; j++)
			pz += (double) pca->components[(size_t) j * dim + i] * p[j];
		contrib[i] = z[i] * pz;
	}
	*rest = 0.0;
	an_free(ctx, z);
	an_free(ctx, p);
	return AN_OK;
}

/* ---- training ---- */

/*
 * How many of the dim components (eigenvalues w ascending) to keep: all,
 * a count, or the fewest largest whose share of the total variance reaches
 * the fraction.
 */
static int
components_kept(double option, const double *w, int dim)
{
	double		total = 0.0,
				cum = 0.0;

	if (option <= 0.0)
		return dim;
	if (option >= 1.0)
		return (int) option;
	for (int j = 0; j < dim; j++)
		total += fmax(w[j], 0.0);
	for (int c = 1; c <= dim; c++)
	{
		cum += fmax(w[dim - c], 0.0);
		if (total <= 0.0 || cum >= option * total)
			return c;
	}
	return dim;
}

static AnStatus
pca_fit(AnContext *ctx, const AnOptions *opts, const float *x, size_t n, int dim,
		AnRng *rng, void **state)
{
	const PcaOptions *o = opts->method_options;
	size_t		dd = (size_t) dim * dim;
	double	   *cov = NULL,
			   *w = NULL,
			   *work = NULL;
	float	   *block = NULL,
			   *prod = NULL,
			   *mean = NULL;
	Pca		   *pca = NULL;
	AnStatus	st;
	int			c;
	double		floor_value;

	(void) rng;
	*state = NULL;
	if (dim > PCA_MAX_DIM)
		return an_error(ctx, AN_ERR_INVALID,
						"method \"pca\" takes at most %d input dimensions, not %d",
						PCA_MAX_DIM, dim);
	if (o->n_components >= 1.0 && o->n_components > dim)
		return an_error(ctx, AN_ERR_INVALID,
						"option \"n_components\" (%g) exceeds the input width (%d)",
						o->n_components, dim);

	cov = an_alloc_array(ctx, dd, sizeof(double));
	w = an_alloc_array(ctx, dim, sizeof(double));
	work = an_alloc_array(ctx, dim, sizeof(double));
	block = an_alloc_array(ctx, (size_t) AN_COV_BLOCK * dim, sizeof(float));
	prod = an_alloc_array(ctx, dd, sizeof(float));
	mean = an_alloc_array(ctx, dim, sizeof(float));
	if (!cov || !w || !work || !block || !prod || !mean)
	{
		st = an_nomem(ctx);
		goto done;
	}
	st = an_covariance(ctx, x, n, dim, mean, cov, block, prod);
	if (st == AN_OK)
		st = an_eigen_symmetric(ctx, dim, cov, w, work);
	if (st != AN_OK)
		goto done;

	c = components_kept(o->n_components, w, dim);
	st = pca_alloc(ctx, dim, c, &pca);
	if (st != AN_OK)
		goto done;
	memcpy(pca->mean, mean, dim * sizeof(float));
	floor_value = fmax(w[dim - 1] * PCA_EIGEN_FLOOR, PCA_EIGEN_MIN);
	for (int j = 0; j < c; j++)
	{
		int			col = dim - 1 - j;	/* largest first */

		pca->eigenvalues[j] = fmin(fmax(w[col], floor_value), PCA_EIGEN_MAX);
		for (int i = 0; i < dim; i++)
			pca->components[(size_t) j * dim + i] = (float) cov[(size_t) i * dim + col];
	}
	*state = pca;

done:
	an_free(ctx, cov);
	an_free(ctx, w);
	an_free(ctx, work);
	an_free(ctx, block);
	an_free(ctx, prod);
	an_free(ctx, mean);
	return st;
}

/* ---- document ---- */

static AnStatus
pca_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Pca  *pca = state;

	(void) ctx;
	msgpack_pack_map(pk, 4);
	an_pack_key_int(pk, "n_components", pca->n_components);
	an_pack_key_floats(pk, "mean", pca->mean, pca->dim);
	an_pack_key_floats(pk, "components", pca->components,
					   (size_t) pca->n_components * pca->dim);
	an_pack_key_reals(pk, "eigenvalues", pca->eigenvalues, pca->n_components);
	return AN_OK;
}

static AnStatus
pca_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	int64_t		c;
	Pca		   *pca;
	AnStatus	st;

	if (dim > PCA_MAX_DIM)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: %d input dimensions for method \"pca\"", dim);
	AN_TRY(an_get_int(ctx, obj, "n_components", 1, dim, &c));
	AN_TRY(pca_alloc(ctx, dim, (int) c, &pca));
	st = an_get_floats(ctx, obj, "mean", pca->mean, dim);
	if (st == AN_OK)
		st = an_get_floats(ctx, obj, "components", pca->components, (size_t) c * dim);
	if (st == AN_OK)
		st = an_get_reals(ctx, obj, "eigenvalues", pca->eigenvalues, c);
	for (int j = 0; st == AN_OK && j < c; j++)
		if (!(pca->eigenvalues[j] >= PCA_EIGEN_MIN && pca->eigenvalues[j] <= PCA_EIGEN_MAX))
			st = an_error(ctx, AN_ERR_CORRUPT,
						  "corrupt model document: field \"eigenvalues\" holds a value outside [%g, %g]",
						  PCA_EIGEN_MIN, PCA_EIGEN_MAX);
	if (st != AN_OK)
	{
		pca_destroy(ctx, pca);
		return st;
	}
	*state = pca;
	return AN_OK;
}

const AnMethod an_method_pca = {
	.name = "pca",
	.options_size = sizeof(PcaOptions),
	.options_init = pca_options_init,
	.set_option = pca_set_option,
	.fit = pca_fit,
	.score = pca_score,
	.explain = pca_explain,
	.encode = pca_encode,
	.decode = pca_decode,
	.destroy = pca_destroy,
};
