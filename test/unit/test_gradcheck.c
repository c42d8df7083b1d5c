/*-------------------------------------------------------------------------
 *
 * test_gradcheck.c
 *	  Finite-difference checks of every backward pass: dense layer,
 *	  activations, whole MLPs with and without bias, the MSE loss, binary
 *	  cross-entropy with logits and the moment-matching loss.
 *
 * Two kinds of check.  On the float32 code itself, central differences
 * with eps 1e-3 and a relative tolerance of 1e-2 (the loss is summed in
 * double; the step is the one float32 could actually represent).  And
 * against a double-precision re-implementation of the MLP forward pass,
 * central differences with eps 1e-6 and a tight tolerance; there entries
 * whose perturbation moves a ReLU pre-activation across zero are skipped.
 * The scalar loss is always L = sum_i c_i y_i for a fixed random c, so
 * that dL/dy = c.
 *
 * IDENTIFICATION
 *	  test/unit/test_gradcheck.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/moments.h"
#include "anomaly/nn.h"
#include "fixture.h"
#include "unit.h"

#define FLOAT_EPS	1e-3
#define FLOAT_RTOL	1e-2
#define REF_EPS		1e-6
#define REF_RTOL	1e-3

static void
fill_uniform(AnRng *rng, float *v, size_t n, double lo, double hi)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float) (lo + (hi - lo) * an_rng_uniform(rng));
}

static double
dot_fd(const float *y, const double *c, size_t n)
{
	double		sum = 0.0;

	for (size_t i = 0; i < n; i++)
		sum += c[i] * y[i];
	return sum;
}

/* ---- dense layer, float32 central differences ---- */

static double
dense_loss(const AnDense *layer, const float *x, int n, const double *c, float *y)
{
	an_dense_forward(layer, x, n, y);
	return dot_fd(y, c, (size_t) n * layer->out);
}

/* perturb *p by +-eps in float; returns (L+ - L-) / (p+ - p-) */
#define CENTRAL_FLOAT(p, loss_expr, out) \
	do { float p0_ = *(p), pp_ = (float) (p0_ + FLOAT_EPS), pm_ = (float) (p0_ - FLOAT_EPS); \
		 double lp_, lm_; \
		 *(p) = pp_; lp_ = (loss_expr); \
		 *(p) = pm_; lm_ = (loss_expr); \
		 *(p) = p0_; \
		 (out) = (lp_ - lm_) / ((double) pp_ - (double) pm_); } while (0)

static void
dense_gradcheck(bool bias)
{
	enum
	{
		IN = 7, OUT = 5, N = 4
	};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnDense		layer;
	AnRng		rng;
	float		x[N * IN],
				y[N * OUT],
				dy[N * OUT],
				dx[N * IN];
	double		c[N * OUT];
	UnitGradStats	s = {0};
	double		num;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_dense_create(&ctx, &layer, IN, OUT, bias, true) == AN_OK);
	an_rng_seed(&rng, bias ? 11 : 12);
	an_dense_init(&layer, &rng);
	fill_uniform(&rng, x, N * IN, -1, 1);
	for (int i = 0; i < N * OUT; i++)
	{
		c[i] = 2.0 * an_rng_uniform(&rng) - 1.0;
		dy[i] = (float) c[i];
	}
	an_dense_backward(&layer, x, N, dy, dx);

	for (int i = 0; i < IN * OUT; i++)
	{
		CENTRAL_FLOAT(&layer.w[i], dense_loss(&layer, x, N, c, y), num);
		unit_grad_compare(&s, layer.gw[i], num, FLOAT_RTOL, 1e-3);
	}
	for (int i = 0; bias && i < OUT; i++)
	{
		CENTRAL_FLOAT(&layer.b[i], dense_loss(&layer, x, N, c, y), num);
		unit_grad_compare(&s, layer.gb[i], num, FLOAT_RTOL, 1e-3);
	}
	for (int i = 0; i < N * IN; i++)
	{
		CENTRAL_FLOAT(&x[i], dense_loss(&layer, x, N, c, y), num);
		unit_grad_compare(&s, dx[i], num, FLOAT_RTOL, 1e-3);
	}
	CHECK(s.compared == IN * OUT + (bias ? OUT : 0) + N * IN);
	unit_grad_report(bias ? "dense with bias" : "dense without bias", &s, 1e-3);
	an_dense_free(&ctx, &layer);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(gradcheck_dense_bias)
{
	dense_gradcheck(true);
}

UNIT_TEST(gradcheck_dense_no_bias)
{
	dense_gradcheck(false);
}

/* ---- activations ---- */

static float
core_activation(AnActivation act, float x)
{
	an_activation_forward(act, &x, 1);
	return x;
}

UNIT_TEST(gradcheck_activations)
{
	static const AnActivation acts[] = {AN_ACT_IDENTITY, AN_ACT_RELU,
	AN_ACT_LEAKY_RELU, AN_ACT_SIGMOID, AN_ACT_TANH};
	AnRng		rng;

	an_rng_seed(&rng, 3);
	for (size_t a = 0; a < sizeof(acts) / sizeof(acts[0]); a++)
	{
		AnActivation act = acts[a];
		UnitGradStats	sref = {0};
		UnitGradStats	sfloat = {0};
		enum
		{
			N = 61
		};
		float		y[N],
					delta[N];
		double		x[N],
					up[N];

		/* a grid over [-3, 3] avoiding the kink at 0 */
		for (int i = 0; i < N; i++)
		{
			x[i] = -3.0 + 6.0 * i / (N - 1);
			if (fabs(x[i]) < 0.05)
				x[i] = 0.07;
			y[i] = (float) x[i];
			up[i] = 0.5 + an_rng_uniform(&rng);
			delta[i] = (float) up[i];
		}
		an_activation_forward(act, y, N);
		an_activation_backward(act, y, delta, N);

		for (int i = 0; i < N; i++)
		{
			double		ref = up[i] * (fixture_activation(act, x[i] + REF_EPS) -
									   fixture_activation(act, x[i] - REF_EPS)) / (2 * REF_EPS);
			float		xf = (float) x[i],
						xp = (float) (xf + FLOAT_EPS),
						xm = (float) (xf - FLOAT_EPS);
			double		num = up[i] * ((double) core_activation(act, xp) -
									   (double) core_activation(act, xm)) /
				((double) xp - (double) xm);

			unit_grad_compare(&sref, delta[i], ref, REF_RTOL, 1e-6);
			unit_grad_compare(&sfloat, delta[i], num, FLOAT_RTOL, 1e-4);
		}
		unit_grad_report(an_activation_name(act), &sref, 1e-4);
		unit_grad_report(an_activation_name(act), &sfloat, 1e-2);
	}
}

/* ---- MLP against a double-precision reference ---- */

typedef struct RefNet
{
	int			n_layers;
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	double	   *w[AN_MAX_LAYERS];
	double	   *b[AN_MAX_LAYERS];	/* NULL without bias */
	double	   *buf[2];
} RefNet;

static void
ref_from_mlp(RefNet *ref, const AnMlp *mlp, int n)
{
	int			widest = 0;

	memset(ref, 0, sizeof(*ref));
	ref->n_layers = mlp->n_layers;
	memcpy(ref->dims, mlp->dims, sizeof(ref->dims));
	memcpy(ref->acts, mlp->acts, sizeof(ref->acts));
	for (int l = 0; l < mlp->n_layers; l++)
	{
		const AnDense *d = &mlp->layers[l];
		size_t		nw = (size_t) d->in * d->out;

		ref->w[l] = malloc(nw * sizeof(double));
		for (size_t i = 0; i < nw; i++)
			ref->w[l][i] = d->w[i];
		if (d->b)
		{
			ref->b[l] = malloc(d->out * sizeof(double));
			for (int i = 0; i < d->out; i++)
				ref->b[l][i] = d->b[i];
		}
	}
	for (int l = 0; l <= mlp->n_layers; l++)
		if (mlp->dims[l] > widest)
			widest = mlp->dims[l];
	ref->buf[0] = malloc((size_t) n * widest * sizeof(double));
	ref->buf[1] = malloc((size_t) n * widest * sizeof(double));
}

static void
ref_free(RefNet *ref)
{
	for (int l = 0; l < ref->n_layers; l++)
	{
		free(ref->w[l]);
		free(ref->b[l]);
	}
	free(ref->buf[0]);
	free(ref->buf[1]);
}

/*
 * Forward n rows; returns sum c_i y_i and a hash of the signs of every
 * pre-activation in front of a kinked activation.
 */
static double
ref_loss(RefNet *ref, const double *x, int n, const double *c, uint64_t *signs,
		 double *y_out)
{
	const double *in = x;
	uint64_t	h = UINT64_C(1469598103934665603);
	double		loss = 0.0;
	int			cur = 0;

	for (int l = 0; l < ref->n_layers; l++)
	{
		int			di = ref->dims[l],
					dout = ref->dims[l + 1];
		double	   *out = ref->buf[cur];
		bool		kinked = ref->acts[l] == AN_ACT_RELU ||
			ref->acts[l] == AN_ACT_LEAKY_RELU;

		for (int r = 0; r < n; r++)
			for (int o = 0; o < dout; o++)
			{
				double		z = ref->b[l] ? ref->b[l][o] : 0.0;

				for (int i = 0; i < di; i++)
					z += in[(size_t) r * di + i] * ref->w[l][(size_t) o * di + i];
				if (kinked)
					h = (h ^ (uint64_t) (z > 0)) * UINT64_C(1099511628211);
				out[(size_t) r * dout + o] = fixture_activation(ref->acts[l], z);
			}
		in = out;
		cur = 1 - cur;
	}
	for (int i = 0; i < n * ref->dims[ref->n_layers]; i++)
	{
		loss += c[i] * in[i];
		if (y_out)
			y_out[i] = in[i];
	}
	if (signs)
		*signs = h;
	return loss;
}

static void
ref_central(RefNet *ref, double *p, const double *x, int n, const double *c,
			UnitGradStats *s, double analytic)
{
	double		p0 = *p,
				lp,
				lm;
	uint64_t	hp,
				hm;

	*p = p0 + REF_EPS;
	lp = ref_loss(ref, x, n, c, &hp, NULL);
	*p = p0 - REF_EPS;
	lm = ref_loss(ref, x, n, c, &hm, NULL);
	*p = p0;
	if (hp != hm)
	{
		s->skipped++;
		return;
	}
	unit_grad_compare(s, analytic, (lp - lm) / (2 * REF_EPS), REF_RTOL, 1e-5);
}

static void
mlp_gradcheck_ref(AnActivation act, bool bias, uint64_t seed)
{
	enum
	{
		N = 5, L = 3
	};
	static const int dims[L + 1] = {4, 6, 5, 3};
	AnActivation acts[L] = {act, act, act};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	RefNet		ref;
	AnRng		rng;
	float		x[N * 4],
				dout[N * 3],
				dx[N * 4];
	double		xd[N * 4],
				c[N * 3],
				yref[N * 3];
	const float *y;
	UnitGradStats	s = {0};
	char		what[64];

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_mlp_create(&ctx, &mlp, L, dims, acts, bias, true, N) == AN_OK);
	an_rng_seed(&rng, seed);
	an_mlp_init(&mlp, &rng);
	fill_uniform(&rng, x, N * 4, -1.5, 1.5);
	for (int i = 0; i < N * 4; i++)
		xd[i] = x[i];
	for (int i = 0; i < N * 3; i++)
	{
		c[i] = 2.0 * an_rng_uniform(&rng) - 1.0;
		dout[i] = (float) c[i];
	}

	/* the float forward agrees with the reference */
	ref_from_mlp(&ref, &mlp, N);
	y = an_mlp_forward(&mlp, x, N);
	ref_loss(&ref, xd, N, c, NULL, yref);
	for (int i = 0; i < N * 3; i++)
		CHECK_NEAR(y[i], yref[i], 1e-5);

	/* run backward twice: gradients are overwritten, not accumulated */
	an_mlp_backward(&mlp, x, N, dout, dx);
	an_mlp_backward(&mlp, x, N, dout, dx);

	for (int l = 0; l < L; l++)
	{
		AnDense    *d = &mlp.layers[l];

		for (int i = 0; i < d->in * d->out; i++)
			ref_central(&ref, &ref.w[l][i], xd, N, c, &s, d->gw[i]);
		for (int i = 0; bias && i < d->out; i++)
			ref_central(&ref, &ref.b[l][i], xd, N, c, &s, d->gb[i]);
	}
	for (int i = 0; i < N * 4; i++)
		ref_central(&ref, &xd[i], xd, N, c, &s, dx[i]);

	snprintf(what, sizeof(what), "mlp %s%s", an_activation_name(act),
			 bias ? " with bias" : " without bias");
	CHECK(s.compared + s.skipped ==
		  24 + 30 + 15 + (bias ? 6 + 5 + 3 : 0) + N * 4);
	unit_grad_report(what, &s, 1e-4);
	ref_free(&ref);
	an_mlp_free(&ctx, &mlp);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(gradcheck_mlp_identity)
{
	mlp_gradcheck_ref(AN_ACT_IDENTITY, true, 21);
	mlp_gradcheck_ref(AN_ACT_IDENTITY, false, 22);
}

UNIT_TEST(gradcheck_mlp_relu)
{
	mlp_gradcheck_ref(AN_ACT_RELU, true, 23);
	mlp_gradcheck_ref(AN_ACT_RELU, false, 24);
}

UNIT_TEST(gradcheck_mlp_leaky_relu)
{
	mlp_gradcheck_ref(AN_ACT_LEAKY_RELU, true, 25);
	mlp_gradcheck_ref(AN_ACT_LEAKY_RELU, false, 26);
}

UNIT_TEST(gradcheck_mlp_sigmoid)
{
	mlp_gradcheck_ref(AN_ACT_SIGMOID, true, 27);
	mlp_gradcheck_ref(AN_ACT_SIGMOID, false, 28);
}

UNIT_TEST(gradcheck_mlp_tanh)
{
	mlp_gradcheck_ref(AN_ACT_TANH, true, 29);
	mlp_gradcheck_ref(AN_ACT_TANH, false, 30);
}

/* ---- MLP, float32 central differences (smooth activations) ---- */

static double
mlp_loss(AnMlp *mlp, const float *x, int n, const double *c)
{
	const float *y = an_mlp_forward(mlp, x, n);

	return dot_fd(y, c, (size_t) n * an_mlp_out_dim(mlp));
}

static void
mlp_gradcheck_float(bool bias, bool alias_dout)
{
	enum
	{
		N = 6, L = 3
	};
	static const int dims[L + 1] = {5, 8, 3, 5};
	static const AnActivation acts[L] = {AN_ACT_TANH, AN_ACT_SIGMOID, AN_ACT_IDENTITY};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	AnRng		rng;
	float		x[N * 5],
				dout[N * 5],
				dx[N * 5];
	double		c[N * 5];
	UnitGradStats	s = {0};
	double		num;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_mlp_create(&ctx, &mlp, L, dims, acts, bias, true, 8) == AN_OK);
	an_rng_seed(&rng, bias ? 31 : 32);
	an_mlp_init(&mlp, &rng);
	fill_uniform(&rng, x, N * 5, -1, 1);
	for (int i = 0; i < N * 5; i++)
	{
		c[i] = 2.0 * an_rng_uniform(&rng) - 1.0;
		dout[i] = (float) c[i];
	}

	mlp_loss(&mlp, x, N, c);
	if (alias_dout)
	{
		/* dout may be the network's own output buffer */
		float	   *last = mlp.outs[L - 1];

		memcpy(last, dout, sizeof(dout));
		an_mlp_backward(&mlp, x, N, last, dx);
	}
	else
		an_mlp_backward(&mlp, x, N, dout, dx);

	for (int l = 0; l < L; l++)
	{
		AnDense    *d = &mlp.layers[l];

		for (int i = 0; i < d->in * d->out; i++)
		{
			CENTRAL_FLOAT(&d->w[i], mlp_loss(&mlp, x, N, c), num);
			unit_grad_compare(&s, d->gw[i], num, FLOAT_RTOL, 2e-3);
		}
		for (int i = 0; bias && i < d->out; i++)
		{
			CENTRAL_FLOAT(&d->b[i], mlp_loss(&mlp, x, N, c), num);
			unit_grad_compare(&s, d->gb[i], num, FLOAT_RTOL, 2e-3);
		}
	}
	for (int i = 0; i < N * 5; i++)
	{
		CENTRAL_FLOAT(&x[i], mlp_loss(&mlp, x, N, c), num);
		unit_grad_compare(&s, dx[i], num, FLOAT_RTOL, 2e-3);
	}
	unit_grad_report(bias ? "float mlp with bias" : "float mlp without bias", &s, 1e-2);
	an_mlp_free(&ctx, &mlp);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(gradcheck_mlp_float_bias)
{
	mlp_gradcheck_float(true, false);
}

UNIT_TEST(gradcheck_mlp_float_no_bias)
{
	mlp_gradcheck_float(false, false);
}

UNIT_TEST(gradcheck_mlp_float_aliased_dout)
{
	mlp_gradcheck_float(true, true);
}

/* ---- MSE ---- */

UNIT_TEST(gradcheck_mse)
{
	enum
	{
		N = 7, D = 3
	};
	AnRng		rng;
	float		y[N * D],
				t[N * D],
				g[N * D];
	UnitGradStats	s = {0};
	double		num;

	an_rng_seed(&rng, 41);
	fill_uniform(&rng, y, N * D, -2, 2);
	fill_uniform(&rng, t, N * D, -2, 2);
	an_mse(y, t, N, D, g);
	for (int i = 0; i < N * D; i++)
	{
		CENTRAL_FLOAT(&y[i], an_mse(y, t, N, D, NULL), num);
		unit_grad_compare(&s, g[i], num, FLOAT_RTOL, 1e-4);
	}
	unit_grad_report("mse", &s, 1e-2);
}

/* ---- binary cross-entropy with logits (the GAN losses) ---- */

/*
 * Float32 central differences over logits from -30 to 30 (both sigmoid
 * branches, and the far ends where a naive log(sigmoid) would overflow)
 * and targets anywhere in [0, 1] (label smoothing uses 0.1 and 0.9); then
 * the value against log(1 + e^l) - t l in long double.
 */
UNIT_TEST(gradcheck_bce_logits)
{
	enum
	{
		N = 41
	};
	AnRng		rng;
	float		l[N],
				t[N],
				g[N];
	UnitGradStats s = {0};
	double		num;
	long double ref = 0.0L;

	an_rng_seed(&rng, 43);
	for (int i = 0; i < N; i++)
		l[i] = (float) (-30.0 + 60.0 * i / (N - 1));
	fill_uniform(&rng, t, N, 0, 1);
	t[0] = 0.0f;
	t[1] = 1.0f;
	t[2] = 0.1f;
	an_bce_logits(l, t, N, g);
	for (int i = 0; i < N; i++)
	{
		CENTRAL_FLOAT(&l[i], an_bce_logits(l, t, N, NULL), num);
		unit_grad_compare(&s, g[i], num, FLOAT_RTOL, 1e-5);
		ref += log1pl(expl((long double) l[i])) - (long double) t[i] * l[i];
	}
	unit_grad_report("bce_logits", &s, 1e-2);
	CHECK_CLOSE(an_bce_logits(l, t, N, NULL), (double) (ref / N), 1e-9, 1e-12);

	/* no overflow at logits float32 can hold but exp() cannot */
	l[0] = 1e30f;
	l[1] = -1e30f;
	t[0] = 0.0f;
	t[1] = 1.0f;
	CHECK_CLOSE(an_bce_logits(l, t, 2, g), 1e30, 1e-6, 0.0);
	CHECK(g[0] == 0.5f && g[1] == -0.5f);
	CHECK(an_softplus(-1000.0) == 0.0 && an_softplus(1000.0) == 1000.0);
}

/*
 * The moment-matching loss (moments.c) of a batch of 16 rows of width 3
 * against the moments of 500 other rows: float32 central differences in
 * every entry of the batch (the loss is a polynomial: no kinks); the
 * gradient is added to what grad holds, times the weight; and the loss of
 * the target rows themselves is small.
 */
UNIT_TEST(gradcheck_moments)
{
	enum
	{
		N = 16, D = 3, ROWS = 500
	};
	AnContext	ctx;
	AnMoments	mm;
	AnRng		rng;
	float	   *x = malloc(sizeof(float) * ROWS * D);
	float		y[N * D],
				g[N * D],
				g2[N * D];
	UnitGradStats s = {0};
	double		num;

	unit_context_malloc(&ctx);
	an_rng_seed(&rng, 47);
	for (int i = 0; i < ROWS; i++)
	{
		double		a = an_rng_normal(&rng);

		x[i * D] = (float) (1.0 + a);
		x[i * D + 1] = (float) (0.5 * a + an_rng_normal(&rng));
		x[i * D + 2] = (float) (2.0 * an_rng_normal(&rng) - 1.0);
	}
	REQUIRE(an_moments_create(&ctx, &mm, D, 256) == AN_OK);
	REQUIRE(an_moments_fit(&ctx, &mm, x, ROWS) == AN_OK);
	CHECK_CLOSE(mm.mean[0], 1.0, 0.0, 0.15);
	CHECK_CLOSE(mm.cov[1 * D + 1], 1.25, 0.0, 0.2);
	fill_uniform(&rng, y, N * D, -3, 3);
	memset(g, 0, sizeof(g));
	(void) an_moments_loss(&mm, y, N, 1.0, g);
	for (int i = 0; i < N * D; i++)
	{
		CENTRAL_FLOAT(&y[i], an_moments_loss(&mm, y, N, 1.0, NULL), num);
		unit_grad_compare(&s, g[i], num, FLOAT_RTOL, 1e-4);
	}
	unit_grad_report("moments", &s, 1e-2);
	/* added, times the weight */
	for (int i = 0; i < N * D; i++)
		g2[i] = 1.0f;
	(void) an_moments_loss(&mm, y, N, 3.0, g2);
	for (int i = 0; i < N * D; i++)
		CHECK_CLOSE(g2[i], 1.0 + 3.0 * g[i], 1e-5, 1e-6);
	CHECK(an_moments_loss(&mm, x, 256, 1.0, NULL) < 0.05);
	an_moments_free(&ctx, &mm);
	free(x);
}
