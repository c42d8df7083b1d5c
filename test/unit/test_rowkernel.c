/*-------------------------------------------------------------------------
 *
 * test_rowkernel.c
 *	  The one-row inference kernel (rowkernel.c) against a forward pass in
 *	  double precision over the same float32 weights.
 *
 * The kernel sums in another order than sgemm and than a dot product per
 * output, so it is checked within a tolerance, not bit for bit: each
 * output within 1e-5 of the double result relative to the sum of the
 * magnitudes that made it (the bound of float32 rounding over a few
 * hundred terms, with room for the activations).  The shapes cover whole
 * blocks of four vectors, a tail of one to three vectors, outputs that are
 * not a multiple of a vector, and a layer wider than the kernel's blocks.
 * That every network method scores a row alone through the kernel as the
 * trained model scores it in a batch is checked in test_methods.c.
 *
 * IDENTIFICATION
 *	  test/unit/test_rowkernel.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "anomaly/nn.h"
#include "fixture.h"
#include "unit.h"

/* the double forward pass; *scale receives the last layer's magnitude bound */
static void
ref_forward(const AnMlp *mlp, const float *x, double *y, double *scale)
{
	double		cur[512],
				next[512],
				mag_in[512],
				mag[512];

	for (int i = 0; i < mlp->dims[0]; i++)
	{
		cur[i] = x[i];
		mag_in[i] = fabs(x[i]);
	}
	for (int l = 0; l < mlp->n_layers; l++)
	{
		const AnDense *d = &mlp->layers[l];

		for (int j = 0; j < d->out; j++)
		{
			double		s = d->b ? d->b[j] : 0.0;
			double		m = d->b ? fabs(d->b[j]) : 0.0;

			for (int i = 0; i < d->in; i++)
			{
				s += (double) d->w[(size_t) j * d->in + i] * cur[i];
				m += fabs((double) d->w[(size_t) j * d->in + i]) * mag_in[i];
			}
			next[j] = fixture_activation(mlp->acts[l], s);
			mag[j] = m;
		}
		for (int j = 0; j < d->out; j++)
		{
			cur[j] = next[j];
			mag_in[j] = fmax(fabs(next[j]), mag[j]);
		}
	}
	for (int j = 0; j < mlp->dims[mlp->n_layers]; j++)
	{
		y[j] = cur[j];
		scale[j] = mag_in[j];
	}
}

static void
check_shape(int n_layers, const int *dims, const AnActivation *acts, bool bias,
			uint64_t seed)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	AnRng		rng;
	float		x[512];
	double		ref[512],
				scale[512];
	int			out = dims[n_layers];

	unit_context_counting(&ctx, &counter);
	an_rng_seed(&rng, seed);
	REQUIRE(an_mlp_create(&ctx, &mlp, n_layers, dims, acts, bias, false, 16) == AN_OK);
	an_mlp_init(&mlp, &rng);
	CHECK_STATUS(an_mlp_pack_rows(&ctx, &mlp), AN_OK);
	REQUIRE(mlp.rownet != NULL);

	for (int r = 0; r < 20; r++)
	{
		const float *y;

		for (int i = 0; i < dims[0]; i++)
			x[i] = (float) (3.0 * an_rng_normal(&rng));
		ref_forward(&mlp, x, ref, scale);
		y = an_mlp_forward(&mlp, x, 1);
		for (int j = 0; j < out; j++)
			if (!(fabs(y[j] - ref[j]) <= 1e-5 * scale[j] + 1e-30))
			{
				unit_fail(__FILE__, __LINE__,
						  "%d layers, width %d -> %d, row %d output %d: %.9g vs %.9g (scale %.3g)",
						  n_layers, dims[0], out, r, j, y[j], ref[j], scale[j]);
				break;
			}
	}
	an_mlp_free(&ctx, &mlp);
	CHECK(mlp.rownet == NULL);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(rowkernel_matches_double_forward)
{
	/* the reference autoencoder, 30-64-16-64-30 */
	static const int ae[] = {30, 64, 16, 64, 30};
	static const AnActivation ae_acts[] = {AN_ACT_RELU, AN_ACT_RELU, AN_ACT_RELU,
	AN_ACT_IDENTITY};
	/* tails of one to three vectors, odd widths, no bias, every activation */
	static const int odd[] = {37, 5, 130, 200, 3};
	static const AnActivation odd_acts[] = {AN_ACT_TANH, AN_ACT_SIGMOID,
	AN_ACT_LEAKY_RELU, AN_ACT_IDENTITY};
	static const int one[] = {1, 1};
	static const AnActivation one_act[] = {AN_ACT_SIGMOID};

	check_shape(4, ae, ae_acts, true, 1);
	check_shape(4, odd, odd_acts, false, 2);
	check_shape(4, odd, odd_acts, true, 3);
	check_shape(1, one, one_act, true, 4);
}

/* a batch still goes through sgemm, and a network too large is not copied */
UNIT_TEST(rowkernel_only_for_one_row_of_small_networks)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	AnRng		rng;
	static const int big[] = {2048, 2048, 2};
	static const int small[] = {3, 4};
	static const AnActivation acts[] = {AN_ACT_RELU, AN_ACT_IDENTITY};

	unit_context_counting(&ctx, &counter);
	an_rng_seed(&rng, 5);
	REQUIRE(an_mlp_create(&ctx, &mlp, 2, big, acts, true, false, 1) == AN_OK);
	CHECK_STATUS(an_mlp_pack_rows(&ctx, &mlp), AN_OK);
	CHECK(mlp.rownet == NULL);
	an_mlp_free(&ctx, &mlp);

	/* a training network's weights change at every step: never copied */
	REQUIRE(an_mlp_create(&ctx, &mlp, 1, small, acts, true, true, 4) == AN_OK);
	CHECK_STATUS(an_mlp_pack_rows(&ctx, &mlp), AN_OK);
	CHECK(mlp.rownet == NULL);
	an_mlp_free(&ctx, &mlp);
	CHECK_NO_LEAKS(&counter);
}

/* every allocation of the copy may fail, leaving the network as it was */
UNIT_TEST(rowkernel_out_of_memory_leaks_nothing)
{
	static const int dims[] = {30, 64, 16};
	static const AnActivation acts[] = {AN_ACT_RELU, AN_ACT_IDENTITY};

	for (long k = 1; k <= 2; k++)
	{
		AnContext	ctx;
		UnitAlloc	counter = {0};
		AnMlp		mlp;

		unit_context_counting(&ctx, &counter);
		REQUIRE(an_mlp_create(&ctx, &mlp, 2, dims, acts, true, false, 16) == AN_OK);
		counter.fail_at = counter.n_allocs + k;
		CHECK_STATUS(an_mlp_pack_rows(&ctx, &mlp), AN_ERR_NOMEM);
		CHECK(mlp.rownet == NULL);
		counter.fail_at = 0;
		an_mlp_free(&ctx, &mlp);
		CHECK_NO_LEAKS(&counter);
	}
}
