/*-------------------------------------------------------------------------
 *
 * codec.h
 *	  msgpack helpers for the stored model document.
 *
 * Writing goes into an AnBuffer grown through the context's allocator, so
 * that on PostgreSQL it is palloc'd memory and released with its memory
 * context.  Reading walks a msgpack_object tree and validates every field
 * it takes: type, size, shape and finiteness.  A missing or malformed field
 * is AN_ERR_CORRUPT with a message naming it; nothing here crashes on bad
 * bytes.  Weights are little-endian float32 in msgpack bin fields.
 *
 * IDENTIFICATION
 *	  include/anomaly/codec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_CODEC_H
#define ANOMALY_CODEC_H

#include <msgpack.h>

#include "anomaly/core.h"
#include "anomaly/nn.h"

typedef msgpack_packer AnPacker;
typedef msgpack_object AnObject;

typedef struct AnBuffer
{
	AnContext  *ctx;
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* an allocation failed; data is incomplete */
} AnBuffer;

extern void an_buffer_init(AnBuffer *buf, AnContext *ctx);
extern void an_packer_init(AnPacker *pk, AnBuffer *buf);

/* ---- writing ---- */
extern void an_pack_str(AnPacker *pk, const char *s);
extern void an_pack_key_str(AnPacker *pk, const char *key, const char *value);
extern void an_pack_key_int(AnPacker *pk, const char *key, int64_t value);
extern void an_pack_key_real(AnPacker *pk, const char *key, double value);
extern void an_pack_key_bool(AnPacker *pk, const char *key, bool value);
extern void an_pack_key_floats(AnPacker *pk, const char *key, const float *v, size_t n);
extern void an_pack_key_int32s(AnPacker *pk, const char *key, const int32_t *v, size_t n);
extern void an_pack_key_reals(AnPacker *pk, const char *key, const double *v, size_t n);
/* a network: {"layers": [{"in", "out", "activation", "weight", "bias"?}...]} */
extern void an_pack_key_mlp(AnPacker *pk, const char *key, const AnMlp *mlp);
/* the same network without a key: an element of an array of networks */
extern void an_pack_mlp(AnPacker *pk, const AnMlp *mlp);

/* ---- reading ---- */

/*
 * Walk the msgpack headers of one complete object without allocating:
 * every string, bin and ext must fit in the buffer, and no array or map may
 * claim more elements than bytes remain.  msgpack-c allocates its object
 * tree from malloc according to those claims, so this runs first.
 */
extern AnStatus an_msgpack_check(AnContext *ctx, const char *data, size_t len);

/*
 * msgpack-c spends about 24 bytes per object of its tree, whatever the
 * object's size in the document: a document of more objects than this is
 * refused.  A model of 2^20 input dimensions needs about 3 x 2^20 (the
 * scaler's two arrays and the category strings).
 */
#define AN_MAX_DOC_OBJECTS	(UINT64_C(1) << 23)

/*
 * The largest magnitude of a stored float32 (weights, centres): a trained
 * network never comes near it, and a larger finite weight can only serve
 * to overflow a score.
 */
#define AN_MAX_FLOAT_VALUE	1e30

extern const AnObject *an_map_get(const AnObject *map, const char *key);
extern AnStatus an_get_map(AnContext *ctx, const AnObject *map, const char *key,
						   const AnObject **out);
extern AnStatus an_get_array(AnContext *ctx, const AnObject *map, const char *key,
							 const AnObject **out);
extern AnStatus an_get_int(AnContext *ctx, const AnObject *map, const char *key,
						   int64_t min, int64_t max, int64_t *out);
extern AnStatus an_get_real(AnContext *ctx, const AnObject *map, const char *key,
							double *out);
extern AnStatus an_get_bool(AnContext *ctx, const AnObject *map, const char *key,
							bool *out);
/* a copy of a string field, allocated in ctx */
extern AnStatus an_get_str(AnContext *ctx, const AnObject *map, const char *key,
						   char **out);
extern bool an_object_str_eq(const AnObject *obj, const char *s);
extern char *an_object_strdup(AnContext *ctx, const AnObject *obj);
/* exactly n finite values (floats: of magnitude at most AN_MAX_FLOAT_VALUE) */
extern AnStatus an_get_floats(AnContext *ctx, const AnObject *map, const char *key,
							  float *out, size_t n);
extern AnStatus an_get_reals(AnContext *ctx, const AnObject *map, const char *key,
							 double *out, size_t n);
/* exactly n int32 values, unchecked: the caller bounds them */
extern AnStatus an_get_int32s(AnContext *ctx, const AnObject *map, const char *key,
							  int32_t *out, size_t n);

/*
 * Read a network written by an_pack_key_mlp into an inference-only MLP
 * (or a trainable one) whose input width must be in_dim (-1: any).
 */
extern AnStatus an_get_mlp(AnContext *ctx, const AnObject *map, const char *key,
						   int in_dim, bool trainable, int max_batch, AnMlp *mlp);

/*
 * The same from the network's map itself (an element of an array of
 * networks); key names it in error messages.
 */
extern AnStatus an_get_mlp_object(AnContext *ctx, const AnObject *net, const char *key,
								  int in_dim, bool trainable, int max_batch, AnMlp *mlp);

#endif							/* ANOMALY_CODEC_H */
