/*-------------------------------------------------------------------------
 *
 * rng.c
 *	  xoshiro256** seeded through splitmix64 (Blackman and Vigna).
 *
 * IDENTIFICATION
 *	  src/core/rng.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "anomaly/rng.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
an_rng_seed(AnRng *rng, uint64_t seed)
{
	uint64_t	x = seed;

	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
}

uint64_t
an_rng_next(AnRng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double
an_rng_uniform(AnRng *rng)
{
	return (double) (an_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Box-Muller; the second variate is discarded to keep the state simple */
double
an_rng_normal(AnRng *rng)
{
	double		u1,
				u2;

	do
		u1 = an_rng_uniform(rng);
	while (u1 <= 0.0);
	u2 = an_rng_uniform(rng);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* unbiased: Lemire's multiply-shift with rejection */
uint64_t
an_rng_below(AnRng *rng, uint64_t bound)
{
	uint64_t	threshold;

	if (bound <= 1)
		return 0;
	threshold = (0 - bound) % bound;
	for (;;)
	{
		unsigned __int128 m = (unsigned __int128) an_rng_next(rng) * bound;

		if ((uint64_t) m >= threshold)
			return (uint64_t) (m >> 64);
	}
}

void
an_rng_shuffle(AnRng *rng, uint32_t *items, size_t n)
{
	for (size_t i = n; i > 1; i--)
	{
		size_t		j = (size_t) an_rng_below(rng, i);
		uint32_t	t = items[i - 1];

		items[i - 1] = items[j];
		items[j] = t;
	}
}
