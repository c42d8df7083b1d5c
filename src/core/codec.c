/*-------------------------------------------------------------------------
 *
 * codec.c
 *	  msgpack reading and writing helpers for the model document.
 *
 * IDENTIFICATION
 *	  src/core/codec.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/codec.h"

/* ---- the output buffer ---- */

static int
buffer_write(void *data, const char *buf, size_t len)
{
	AnBuffer   *b = (AnBuffer *) data;

	if (b->failed)
		return -1;
	if (b->len + len > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 4096;
		char	   *grown;

		while (cap < b->len + len)
			cap *= 2;
		grown = an_alloc(b->ctx, cap);
		if (!grown)
		{
			b->failed = true;
			return -1;
		}
		if (b->len)
			memcpy(grown, b->data, b->len);
		an_free(b->ctx, b->data);
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, buf, len);
	b->len += len;
	return 0;
}

void
an_buffer_init(AnBuffer *buf, AnContext *ctx)
{
	memset(buf, 0, sizeof(*buf));
	buf->ctx = ctx;
}

void
an_packer_init(AnPacker *pk, AnBuffer *buf)
{
	msgpack_packer_init(pk, buf, buffer_write);
}

/* ---- writing ---- */

void
an_pack_str(AnPacker *pk, const char *s)
{
	size_t		len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
an_pack_key_str(AnPacker *pk, const char *key, const char *value)
{
	an_pack_str(pk, key);
	an_pack_str(pk, value);
}

void
an_pack_key_int(AnPacker *pk, const char *key, int64_t value)
{
	an_pack_str(pk, key);
	msgpack_pack_int64(pk, value);
}

void
an_pack_key_real(AnPacker *pk, const char *key, double value)
{
	an_pack_str(pk, key);
	msgpack_pack_double(pk, value);
}

void
an_pack_key_bool(AnPacker *pk, const char *key, bool value)
{
	an_pack_str(pk, key);
	if (value)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/*
 * float32 and int32 arrays are bin fields of little-endian 32-bit words,
 * whatever the host's byte order; a word is copied by its bits.
 */
static void
store_le32(unsigned char *p, const unsigned char *word)
{
	uint32_t	u;

	memcpy(&u, word, sizeof(u));
	p[0] = (unsigned char) u;
	p[1] = (unsigned char) (u >> 8);
	p[2] = (unsigned char) (u >> 16);
	p[3] = (unsigned char) (u >> 24);
}

static void
load_le32(const unsigned char *p, unsigned char *word)
{
	uint32_t	u = (uint32_t) p[0] | (uint32_t) p[1] << 8 |
		(uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;

	memcpy(word, &u, sizeof(u));
}

/* n words of v (4 bytes each) as the bin field key, in chunks */
static void
pack_key_words(AnPacker *pk, const char *key, const void *v, size_t n)
{
	const unsigned char *words = v;
	unsigned char chunk[1024];

	an_pack_str(pk, key);
	msgpack_pack_bin(pk, n * 4);
	for (size_t i = 0; i < n; i += sizeof(chunk) / 4)
	{
		size_t		m = n - i < sizeof(chunk) / 4 ? n - i : sizeof(chunk) / 4;

		for (size_t k = 0; k < m; k++)
			store_le32(chunk + 4 * k, words + 4 * (i + k));
		msgpack_pack_bin_body(pk, chunk, m * 4);
	}
}

void
an_pack_key_floats(AnPacker *pk, const char *key, const float *v, size_t n)
{
	pack_key_words(pk, key, v, n);
}

void
an_pack_key_int32s(AnPacker *pk, const char *key, const int32_t *v, size_t n)
{
	pack_key_words(pk, key, v, n);
}

void
an_pack_key_reals(AnPacker *pk, const char *key, const double *v, size_t n)
{
	an_pack_str(pk, key);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_double(pk, v[i]);
}

void
an_pack_key_mlp(AnPacker *pk, const char *key, const AnMlp *mlp)
{
	an_pack_str(pk, key);
	an_pack_mlp(pk, mlp);
}

void
an_pack_mlp(AnPacker *pk, const AnMlp *mlp)
{
	msgpack_pack_map(pk, 1);
	an_pack_str(pk, "layers");
	msgpack_pack_array(pk, mlp->n_layers);
	for (int l = 0; l < mlp->n_layers; l++)
	{
		const AnDense *layer = &mlp->layers[l];

		msgpack_pack_map(pk, layer->b ? 5 : 4);
		an_pack_key_int(pk, "in", layer->in);
		an_pack_key_int(pk, "out", layer->out);
		an_pack_key_str(pk, "activation", an_activation_name(mlp->acts[l]));
		an_pack_key_floats(pk, "weight", layer->w, (size_t) layer->in * layer->out);
		if (layer->b)
			an_pack_key_floats(pk, "bias", layer->b, layer->out);
	}
}

/* ---- reading ---- */

static uint64_t
read_be(const unsigned char *p, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

AnStatus
an_msgpack_check(AnContext *ctx, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *) data;
	size_t		pos = 0;
	uint64_t	pending = 1;	/* objects still to read */
	uint64_t	objects = 0;

	while (pending > 0)
	{
		unsigned char b;
		uint64_t	skip = 0;	/* payload bytes after the header */
		uint64_t	children = 0;
		int			size_bytes = 0;

		if (pos >= len)
			return an_error(ctx, AN_ERR_CORRUPT, "corrupt model document: truncated msgpack data");
		if (++objects > AN_MAX_DOC_OBJECTS)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: more than %llu msgpack objects",
							(unsigned long long) AN_MAX_DOC_OBJECTS);
		b = p[pos++];
		pending--;
		if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3))
			continue;			/* fixint, nil, bool */
		if (b >= 0x80 && b <= 0x8f)
			children = 2 * (uint64_t) (b & 0x0f);
		else if (b >= 0x90 && b <= 0x9f)
			children = b & 0x0f;
		else if (b >= 0xa0 && b <= 0xbf)
			skip = b & 0x1f;
		else
		{
			switch (b)
			{
				case 0xc4: case 0xd9: size_bytes = 1; break;	/* bin8, str8 */
				case 0xc5: case 0xda: size_bytes = 2; break;	/* bin16, str16 */
				case 0xc6: case 0xdb: size_bytes = 4; break;	/* bin32, str32 */
				case 0xc7: size_bytes = 1; skip = 1; break;	/* ext8: + type */
				case 0xc8: size_bytes = 2; skip = 1; break;
				case 0xc9: size_bytes = 4; skip = 1; break;
				case 0xca: skip = 4; break;
				case 0xcb: skip = 8; break;
				case 0xcc: case 0xd0: skip = 1; break;
				case 0xcd: case 0xd1: skip = 2; break;
				case 0xce: case 0xd2: skip = 4; break;
				case 0xcf: case 0xd3: skip = 8; break;
				case 0xd4: skip = 2; break;	/* fixext: type + payload */
				case 0xd5: skip = 3; break;
				case 0xd6: skip = 5; break;
				case 0xd7: skip = 9; break;
				case 0xd8: skip = 17; break;
				case 0xdc: case 0xdd: case 0xde: case 0xdf:
					{
						int			nb = (b == 0xdc || b == 0xde) ? 2 : 4;
						uint64_t	n;

						if (len - pos < (size_t) nb)
							return an_error(ctx, AN_ERR_CORRUPT,
											"corrupt model document: truncated msgpack data");
						n = read_be(p + pos, nb);
						pos += nb;
						children = b >= 0xde ? 2 * n : n;
						break;
					}
				default:
					return an_error(ctx, AN_ERR_CORRUPT,
									"corrupt model document: invalid msgpack byte 0x%02x", b);
			}
		}
		if (size_bytes > 0)
		{
			if (len - pos < (size_t) size_bytes)
				return an_error(ctx, AN_ERR_CORRUPT,
								"corrupt model document: truncated msgpack data");
			skip += read_be(p + pos, size_bytes);
			pos += size_bytes;
		}
		if (skip > len - pos || children > len - pos)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: a msgpack field claims more data than there is");
		pos += skip;
		pending += children;
	}
	return AN_OK;
}

bool
an_object_str_eq(const AnObject *obj, const char *s)
{
	size_t		len = strlen(s);

	return obj->type == MSGPACK_OBJECT_STR && obj->via.str.size == len &&
		memcmp(obj->via.str.ptr, s, len) == 0;
}

char *
an_object_strdup(AnContext *ctx, const AnObject *obj)
{
	char	   *s;

	if (obj->type != MSGPACK_OBJECT_STR)
		return NULL;
	s = an_alloc(ctx, obj->via.str.size + 1);
	if (s)
	{
		memcpy(s, obj->via.str.ptr, obj->via.str.size);
		s[obj->via.str.size] = '\0';
	}
	return s;
}

const AnObject *
an_map_get(const AnObject *map, const char *key)
{
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++)
		if (an_object_str_eq(&map->via.map.ptr[i].key, key))
			return &map->via.map.ptr[i].val;
	return NULL;
}

static AnStatus
missing(AnContext *ctx, const char *key, const char *what)
{
	return an_error(ctx, AN_ERR_CORRUPT,
					"corrupt model document: field \"%s\" is missing or not %s", key, what);
}

AnStatus
an_get_map(AnContext *ctx, const AnObject *map, const char *key, const AnObject **out)
{
	const AnObject *o = an_map_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_MAP)
		return missing(ctx, key, "a map");
	*out = o;
	return AN_OK;
}

AnStatus
an_get_array(AnContext *ctx, const AnObject *map, const char *key, const AnObject **out)
{
	const AnObject *o = an_map_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_ARRAY)
		return missing(ctx, key, "an array");
	*out = o;
	return AN_OK;
}

static bool
object_int(const AnObject *o, int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
	{
		if (o->via.u64 > (uint64_t) INT64_MAX)
			return false;
		*out = (int64_t) o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
	{
		*out = o->via.i64;
		return true;
	}
	return false;
}

static bool
object_real(const AnObject *o, double *out)
{
	int64_t		i;

	if (o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64)
	{
		*out = o->via.f64;
		return isfinite(*out);
	}
	if (object_int(o, &i))
	{
		*out = (double) i;
		return true;
	}
	return false;
}

AnStatus
an_get_int(AnContext *ctx, const AnObject *map, const char *key,
		   int64_t min, int64_t max, int64_t *out)
{
	const AnObject *o = an_map_get(map, key);
	int64_t		v;

	if (!o || !object_int(o, &v) || v < min || v > max)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"%s\" is missing or not an integer between %lld and %lld",
						key, (long long) min, (long long) max);
	*out = v;
	return AN_OK;
}

AnStatus
an_get_real(AnContext *ctx, const AnObject *map, const char *key, double *out)
{
	const AnObject *o = an_map_get(map, key);

	if (!o || !object_real(o, out))
		return missing(ctx, key, "a finite number");
	return AN_OK;
}

AnStatus
an_get_bool(AnContext *ctx, const AnObject *map, const char *key, bool *out)
{
	const AnObject *o = an_map_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
		return missing(ctx, key, "a boolean");
	*out = o->via.boolean;
	return AN_OK;
}

AnStatus
an_get_str(AnContext *ctx, const AnObject *map, const char *key, char **out)
{
	const AnObject *o = an_map_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_STR)
		return missing(ctx, key, "a string");
	*out = an_object_strdup(ctx, o);
	return *out ? AN_OK : an_nomem(ctx);
}

/* the bin field key as exactly n words into out; what names their type */
static AnStatus
get_words(AnContext *ctx, const AnObject *map, const char *key, void *out, size_t n,
		  const char *what)
{
	const AnObject *o = an_map_get(map, key);
	const unsigned char *p;

	if (!o || o->type != MSGPACK_OBJECT_BIN || o->via.bin.size / 4 != n ||
		o->via.bin.size % 4 != 0)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"%s\" is missing or not %zu %s values",
						key, n, what);
	p = (const unsigned char *) o->via.bin.ptr;
	for (size_t i = 0; i < n; i++)
		load_le32(p + 4 * i, (unsigned char *) out + 4 * i);
	return AN_OK;
}

AnStatus
an_get_floats(AnContext *ctx, const AnObject *map, const char *key, float *out, size_t n)
{
	AN_TRY(get_words(ctx, map, key, out, n, "float32"));
	for (size_t i = 0; i < n; i++)
	{
		/* written so that NaN fails the test too */
		if (!(fabsf(out[i]) <= (float) AN_MAX_FLOAT_VALUE))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: field \"%s\" holds a non-finite or absurd value (beyond %g)",
							key, AN_MAX_FLOAT_VALUE);
	}
	return AN_OK;
}

AnStatus
an_get_int32s(AnContext *ctx, const AnObject *map, const char *key, int32_t *out, size_t n)
{
	return get_words(ctx, map, key, out, n, "int32");
}

AnStatus
an_get_reals(AnContext *ctx, const AnObject *map, const char *key, double *out, size_t n)
{
	const AnObject *o = an_map_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != n)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"%s\" is missing or not %zu numbers",
						key, n);
	for (size_t i = 0; i < n; i++)
		if (!object_real(&o->via.array.ptr[i], &out[i]))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: field \"%s\" holds a non-finite value", key);
	return AN_OK;
}

AnStatus
an_get_mlp(AnContext *ctx, const AnObject *map, const char *key, int in_dim,
		   bool trainable, int max_batch, AnMlp *mlp)
{
	const AnObject *net;

	memset(mlp, 0, sizeof(*mlp));
	AN_TRY(an_get_map(ctx, map, key, &net));
	return an_get_mlp_object(ctx, net, key, in_dim, trainable, max_batch, mlp);
}

AnStatus
an_get_mlp_object(AnContext *ctx, const AnObject *net, const char *key, int in_dim,
				  bool trainable, int max_batch, AnMlp *mlp)
{
	const AnObject *layers;
	int			dims[AN_MAX_LAYERS + 1];
	AnActivation acts[AN_MAX_LAYERS];
	bool		bias = false;
	int			n;
	AnStatus	st;

	memset(mlp, 0, sizeof(*mlp));
	if (net->type != MSGPACK_OBJECT_MAP)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: network \"%s\" is not a map", key);
	AN_TRY(an_get_array(ctx, net, "layers", &layers));
	n = (int) layers->via.array.size;
	if (n < 1 || n > AN_MAX_LAYERS)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: network \"%s\" has %d layers", key, n);

	for (int l = 0; l < n; l++)
	{
		const AnObject *layer = &layers->via.array.ptr[l];
		int64_t		in,
					out;
		char		act[32];
		const AnObject *a = an_map_get(layer, "activation");

		AN_TRY(an_get_int(ctx, layer, "in", 1, 1 << 20, &in));
		AN_TRY(an_get_int(ctx, layer, "out", 1, 1 << 20, &out));
		if ((l == 0 && in_dim >= 0 && in != in_dim) || (l > 0 && in != dims[l]))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: layer %d of network \"%s\" has input width %lld",
							l, key, (long long) in);
		if (!a || a->type != MSGPACK_OBJECT_STR || a->via.str.size >= sizeof(act))
			return missing(ctx, "activation", "a string");
		memcpy(act, a->via.str.ptr, a->via.str.size);
		act[a->via.str.size] = '\0';
		if (!an_activation_parse(act, &acts[l]))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: unknown activation \"%s\"", act);
		/* check sizes before allocating anything a corrupt header asks for */
		{
			const AnObject *w = an_map_get(layer, "weight");

			if (!w || w->type != MSGPACK_OBJECT_BIN ||
				(uint64_t) w->via.bin.size != (uint64_t) in * (uint64_t) out * 4)
				return an_error(ctx, AN_ERR_CORRUPT,
								"corrupt model document: layer %d of network \"%s\" has a weight of the wrong size",
								l, key);
		}
		if (l == 0)
			bias = an_map_get(layer, "bias") != NULL;
		else if (bias != (an_map_get(layer, "bias") != NULL))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: network \"%s\" mixes layers with and without bias",
							key);
		dims[l] = (int) in;
		dims[l + 1] = (int) out;
	}

	AN_TRY(an_mlp_create(ctx, mlp, n, dims, acts, bias, trainable, max_batch));
	for (int l = 0; l < n; l++)
	{
		const AnObject *layer = &layers->via.array.ptr[l];
		AnDense    *d = &mlp->layers[l];

		st = an_get_floats(ctx, layer, "weight", d->w, (size_t) d->in * d->out);
		if (st == AN_OK && bias)
			st = an_get_floats(ctx, layer, "bias", d->b, d->out);
		if (st != AN_OK)
		{
			an_mlp_free(ctx, mlp);
			return st;
		}
	}
	/* an inference network scores one row at a time (rowkernel.c) */
	if (!trainable && (st = an_mlp_pack_rows(ctx, mlp)) != AN_OK)
		an_mlp_free(ctx, mlp);
	return st;
}
