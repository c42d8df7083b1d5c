/*-------------------------------------------------------------------------
 *
 * simd.h
 *	  Vectors of 16 floats for the core's hand-vectorized loops.
 *
 * GCC vector types: one register with AVX-512, two or four without, so
 * that a function compiled with target_clones("avx512f", "avx2",
 * "default") uses the widest the processor has.  Loads and stores go
 * through memcpy (unaligned moves), and are macros: a function passing a
 * 64-byte vector by value would have an ABI that differs between clones.
 * Comparisons give lanes of all ones (true) or zeros, so a select is a
 * bitwise and: the same bits as the scalar "c ? a : 0".
 *
 * IDENTIFICATION
 *	  include/anomaly/simd.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_SIMD_H
#define ANOMALY_SIMD_H

#include <stdint.h>
#include <string.h>

#define AN_LANES 16

typedef float an_v16 __attribute__((vector_size(AN_LANES * sizeof(float))));
typedef int32_t an_v16i __attribute__((vector_size(AN_LANES * sizeof(int32_t))));

#define an_v16_load(p) ({ an_v16 v_; memcpy(&v_, (p), sizeof(v_)); v_; })
#define an_v16_store(p, v) do { an_v16 v_ = (v); memcpy((p), &v_, sizeof(v_)); } while (0)

/* lanes of a where mask is true, else of b */
#define an_v16_select(mask, a, b) \
	((an_v16) (((an_v16i) (a) & (mask)) | ((an_v16i) (b) & ~(mask))))

#endif							/* ANOMALY_SIMD_H */
