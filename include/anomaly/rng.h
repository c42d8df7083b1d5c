/*-------------------------------------------------------------------------
 *
 * rng.h
 *	  Seedable pseudo-random numbers for the core (xoshiro256**).
 *
 * Training is reproducible: the same seed, data and thread count give the
 * same weights bit for bit, so the generator is explicit state passed
 * around, never a global.
 *
 * IDENTIFICATION
 *	  include/anomaly/rng.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_RNG_H
#define ANOMALY_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct AnRng
{
	uint64_t	s[4];
} AnRng;

extern void an_rng_seed(AnRng *rng, uint64_t seed);
extern uint64_t an_rng_next(AnRng *rng);
extern double an_rng_uniform(AnRng *rng);	/* [0, 1) */
extern double an_rng_normal(AnRng *rng);	/* N(0, 1) */
extern uint64_t an_rng_below(AnRng *rng, uint64_t bound); /* [0, bound) */
extern void an_rng_shuffle(AnRng *rng, uint32_t *items, size_t n);

#endif							/* ANOMALY_RNG_H */
