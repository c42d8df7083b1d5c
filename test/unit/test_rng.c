/*-------------------------------------------------------------------------
 *
 * test_rng.c
 *	  Unit tests of the seedable generator: known outputs, determinism,
 *	  ranges, distributions and shuffling.
 *
 * IDENTIFICATION
 *	  test/unit/test_rng.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/rng.h"
#include "unit.h"

/*
 * xoshiro256** seeded through splitmix64, computed with an independent
 * Python implementation of both (Blackman and Vigna's reference code).
 */
UNIT_TEST(rng_known_values)
{
	static const uint64_t seed0[4] = {
		UINT64_C(0x99ec5f36cb75f2b4), UINT64_C(0xbf6e1f784956452a),
		UINT64_C(0x1a5f849d4933e6e0), UINT64_C(0x6aa594f1262d2d2c)
	};
	static const uint64_t seed42[4] = {
		UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e),
		UINT64_C(0xae17533239e499a1), UINT64_C(0xecb8ad4703b360a1)
	};
	AnRng		rng;

	an_rng_seed(&rng, 0);
	for (int i = 0; i < 4; i++)
		CHECK(an_rng_next(&rng) == seed0[i]);
	an_rng_seed(&rng, 42);
	for (int i = 0; i < 4; i++)
		CHECK(an_rng_next(&rng) == seed42[i]);
}

UNIT_TEST(rng_same_seed_same_sequence)
{
	AnRng		a,
				b,
				c;
	int			same_ab = 0,
				same_ac = 0;

	an_rng_seed(&a, 12345);
	an_rng_seed(&b, 12345);
	an_rng_seed(&c, 12346);
	for (int i = 0; i < 1000; i++)
	{
		uint64_t	x = an_rng_next(&a);

		same_ab += x == an_rng_next(&b);
		same_ac += x == an_rng_next(&c);
	}
	CHECK(same_ab == 1000);
	CHECK(same_ac == 0);

	/* the derived draws are deterministic too */
	an_rng_seed(&a, 9);
	an_rng_seed(&b, 9);
	for (int i = 0; i < 100; i++)
	{
		CHECK(an_rng_uniform(&a) == an_rng_uniform(&b));
		CHECK(an_rng_normal(&a) == an_rng_normal(&b));
		CHECK(an_rng_below(&a, 1000) == an_rng_below(&b, 1000));
	}
}

UNIT_TEST(rng_uniform_and_normal_moments)
{
	enum
	{
		N = 200000
	};
	AnRng		rng;
	double		sum = 0,
				sum2 = 0,
				nsum = 0,
				nsum2 = 0,
				nsum4 = 0;
	double		lo = 1,
				hi = 0;
	int			beyond3 = 0;

	an_rng_seed(&rng, 77);
	for (int i = 0; i < N; i++)
	{
		double		u = an_rng_uniform(&rng);
		double		z = an_rng_normal(&rng);

		CHECK(u >= 0.0 && u < 1.0);
		lo = fmin(lo, u);
		hi = fmax(hi, u);
		sum += u;
		sum2 += u * u;
		CHECK(isfinite(z));
		nsum += z;
		nsum2 += z * z;
		nsum4 += z * z * z * z;
		beyond3 += fabs(z) > 3;
	}
	/* U(0, 1): mean 1/2, variance 1/12 */
	CHECK_NEAR(sum / N, 0.5, 0.005);
	CHECK_NEAR(sum2 / N - (sum / N) * (sum / N), 1.0 / 12, 0.002);
	CHECK(lo < 1e-4 && hi > 1 - 1e-4);
	/* N(0, 1): mean 0, variance 1, kurtosis 3, P(|z| > 3) = 0.0027 */
	CHECK_NEAR(nsum / N, 0.0, 0.01);
	CHECK_NEAR(nsum2 / N, 1.0, 0.02);
	CHECK_NEAR(nsum4 / N, 3.0, 0.1);
	CHECK_NEAR((double) beyond3 / N, 0.0027, 0.0006);
}

UNIT_TEST(rng_below_range_and_uniformity)
{
	enum
	{
		BOUND = 7, N = 70000
	};
	AnRng		rng;
	int			counts[BOUND] = {0};
	bool		in_range = true;

	an_rng_seed(&rng, 3);
	CHECK(an_rng_below(&rng, 0) == 0);
	CHECK(an_rng_below(&rng, 1) == 0);
	for (int i = 0; i < N; i++)
	{
		uint64_t	x = an_rng_below(&rng, BOUND);

		if (x >= BOUND)
			in_range = false;
		else
			counts[x]++;
	}
	CHECK(in_range);
	/* expected 10000 each, standard deviation about 93 */
	for (int k = 0; k < BOUND; k++)
		CHECK(abs(counts[k] - N / BOUND) < 500);

	/* a bound above 2^63 still stays in range */
	for (int i = 0; i < 1000; i++)
		in_range &= an_rng_below(&rng, UINT64_C(0xC000000000000000)) <
			UINT64_C(0xC000000000000000);
	CHECK(in_range);
}

UNIT_TEST(rng_shuffle_is_a_permutation)
{
	enum
	{
		N = 1000
	};
	AnRng		rng;
	uint32_t	a[N],
				b[N];
	bool		seen[N] = {false};
	int			fixed = 0,
				same = 0;
	int			first_pos[3] = {0};

	an_rng_seed(&rng, 99);
	for (uint32_t i = 0; i < N; i++)
		a[i] = b[i] = i;
	an_rng_shuffle(&rng, a, N);
	for (int i = 0; i < N; i++)
	{
		CHECK(a[i] < N && !seen[a[i]]);
		if (a[i] < N)
			seen[a[i]] = true;
		fixed += a[i] == (uint32_t) i;
	}
	/* a random permutation has about one fixed point */
	CHECK(fixed < 10);

	/* the same seed shuffles the same way */
	an_rng_seed(&rng, 99);
	an_rng_shuffle(&rng, b, N);
	for (int i = 0; i < N; i++)
		same += a[i] == b[i];
	CHECK(same == N);

	/* every position is reachable: where does element 0 of 3 go? */
	an_rng_seed(&rng, 5);
	for (int t = 0; t < 3000; t++)
	{
		uint32_t	c[3] = {0, 1, 2};

		an_rng_shuffle(&rng, c, 3);
		for (int i = 0; i < 3; i++)
			if (c[i] == 0)
				first_pos[i]++;
	}
	for (int i = 0; i < 3; i++)
		CHECK(abs(first_pos[i] - 1000) < 120);

	/* trivial sizes are no-ops */
	an_rng_shuffle(&rng, a, 0);
	b[0] = 17;
	an_rng_shuffle(&rng, b, 1);
	CHECK(b[0] == 17);
}
