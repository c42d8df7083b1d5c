/*-------------------------------------------------------------------------
 *
 * test_codec.c
 *	  Unit tests of the msgpack helpers: the output buffer, typed field
 *	  readers with their validation, and networks written and read back.
 *
 * IDENTIFICATION
 *	  test/unit/test_codec.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/codec.h"
#include "unit.h"

/* A packed document and its unpacked tree. */
typedef struct Doc
{
	AnBuffer	buf;
	msgpack_unpacked msg;
	bool		ok;
} Doc;

static void
doc_unpack(Doc *doc)
{
	size_t		off = 0;

	msgpack_unpacked_init(&doc->msg);
	doc->ok = !doc->buf.failed &&
		msgpack_unpack_next(&doc->msg, doc->buf.data, doc->buf.len, &off) ==
		MSGPACK_UNPACK_SUCCESS && off == doc->buf.len;
	if (!doc->ok)
		unit_fail(__FILE__, __LINE__, "could not unpack a test document");
}

static void
doc_free(AnContext *ctx, Doc *doc)
{
	msgpack_unpacked_destroy(&doc->msg);
	an_free(ctx, doc->buf.data);
}

UNIT_TEST(codec_buffer_grows)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnBuffer	buf;
	AnPacker	pk;
	char		big[10000];

	unit_context_counting(&ctx, &counter);
	an_buffer_init(&buf, &ctx);
	an_packer_init(&pk, &buf);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char) (i * 7);
	msgpack_pack_bin(&pk, sizeof(big));
	msgpack_pack_bin_body(&pk, big, sizeof(big));
	CHECK(!buf.failed);
	CHECK(buf.len == 3 + sizeof(big));		/* bin16 header */
	CHECK(buf.cap >= buf.len);
	CHECK(memcmp(buf.data + 3, big, sizeof(big)) == 0);
	CHECK(counter.outstanding == 1);
	an_free(&ctx, buf.data);
	CHECK_NO_LEAKS(&counter);

	/* a refused allocation marks the buffer failed and stops writing */
	an_buffer_init(&buf, &ctx);
	an_packer_init(&pk, &buf);
	an_pack_str(&pk, "hello");
	counter.n_allocs = 0;
	counter.fail_at = 1;
	msgpack_pack_bin(&pk, sizeof(big));
	msgpack_pack_bin_body(&pk, big, sizeof(big));
	CHECK(buf.failed);
	an_pack_str(&pk, "more");
	CHECK(buf.len == 6 + 3);		/* "hello" and the bin16 header */
	an_free(&ctx, buf.data);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(codec_scalar_fields)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	Doc			doc;
	AnPacker	pk;
	const AnObject *root;
	const AnObject *o;
	int64_t		i;
	double		d;
	bool		b;
	char	   *s;

	unit_context_counting(&ctx, &counter);
	an_buffer_init(&doc.buf, &ctx);
	an_packer_init(&pk, &doc.buf);
	msgpack_pack_map(&pk, 11);
	an_pack_key_int(&pk, "small", 7);
	an_pack_key_int(&pk, "negative", -5);
	an_pack_key_int(&pk, "large", INT64_C(1) << 40);
	an_pack_key_real(&pk, "real", 2.5);
	an_pack_key_real(&pk, "nan", NAN);
	an_pack_key_real(&pk, "inf", -INFINITY);
	an_pack_key_bool(&pk, "yes", true);
	an_pack_key_str(&pk, "name", "grocery");
	an_pack_str(&pk, "huge");
	msgpack_pack_uint64(&pk, UINT64_MAX);
	an_pack_str(&pk, "sub");
	msgpack_pack_map(&pk, 0);
	an_pack_str(&pk, "list");
	msgpack_pack_array(&pk, 0);
	doc_unpack(&doc);
	REQUIRE(doc.ok);
	root = &doc.msg.data;

	CHECK(an_map_get(root, "small") != NULL);
	CHECK(an_map_get(root, "smal") == NULL);
	CHECK(an_map_get(root, "smalll") == NULL);
	CHECK(an_map_get(an_map_get(root, "small"), "x") == NULL);	/* not a map */
	CHECK(an_map_get(NULL, "small") == NULL);

	CHECK_STATUS(an_get_int(&ctx, root, "small", 0, 10, &i), AN_OK);
	CHECK(i == 7);
	CHECK_STATUS(an_get_int(&ctx, root, "negative", -10, 10, &i), AN_OK);
	CHECK(i == -5);
	CHECK_STATUS(an_get_int(&ctx, root, "large", 0, INT64_MAX, &i), AN_OK);
	CHECK(i == INT64_C(1) << 40);
	i = 99;
	CHECK_STATUS(an_get_int(&ctx, root, "small", 8, 10, &i), AN_ERR_CORRUPT);
	CHECK(i == 99);
	CHECK_CONTAINS(ctx.errmsg, "\"small\"");
	CHECK_STATUS(an_get_int(&ctx, root, "negative", 0, 10, &i), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_int(&ctx, root, "huge", 0, INT64_MAX, &i), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_int(&ctx, root, "real", 0, 10, &i), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_int(&ctx, root, "missing", 0, 10, &i), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "\"missing\"");

	CHECK_STATUS(an_get_real(&ctx, root, "real", &d), AN_OK);
	CHECK(d == 2.5);
	CHECK_STATUS(an_get_real(&ctx, root, "negative", &d), AN_OK);	/* ints are numbers */
	CHECK(d == -5);
	CHECK_STATUS(an_get_real(&ctx, root, "nan", &d), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_real(&ctx, root, "inf", &d), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_real(&ctx, root, "name", &d), AN_ERR_CORRUPT);

	CHECK_STATUS(an_get_bool(&ctx, root, "yes", &b), AN_OK);
	CHECK(b);
	CHECK_STATUS(an_get_bool(&ctx, root, "small", &b), AN_ERR_CORRUPT);

	CHECK_STATUS(an_get_str(&ctx, root, "name", &s), AN_OK);
	CHECK_STR(s, "grocery");
	an_free(&ctx, s);
	CHECK_STATUS(an_get_str(&ctx, root, "small", &s), AN_ERR_CORRUPT);
	CHECK(an_object_str_eq(an_map_get(root, "name"), "grocery"));
	CHECK(!an_object_str_eq(an_map_get(root, "name"), "grocer"));
	CHECK(!an_object_str_eq(an_map_get(root, "small"), "7"));
	CHECK(an_object_strdup(&ctx, an_map_get(root, "small")) == NULL);

	CHECK_STATUS(an_get_map(&ctx, root, "sub", &o), AN_OK);
	CHECK(o->type == MSGPACK_OBJECT_MAP);
	CHECK_STATUS(an_get_map(&ctx, root, "list", &o), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_array(&ctx, root, "list", &o), AN_OK);
	CHECK_STATUS(an_get_array(&ctx, root, "sub", &o), AN_ERR_CORRUPT);

	/* out of memory copying a string */
	counter.n_allocs = 0;
	counter.fail_at = 1;
	CHECK_STATUS(an_get_str(&ctx, root, "name", &s), AN_ERR_NOMEM);
	counter.fail_at = 0;

	doc_free(&ctx, &doc);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(codec_float_and_real_arrays)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	Doc			doc;
	AnPacker	pk;
	const AnObject *root;
	/* more than one 256-value chunk of the writer */
	enum
	{
		N = 300
	};
	float		v[N],
				back[N + 1];
	double		reals[3] = {1.5, -2, 1e300},
				rback[3];
	float		bad[2] = {1, NAN};
	double		rbad[2] = {1, INFINITY};
	int32_t		ints[N],
				iback[N];
	const AnObject *w;
	const unsigned char *p;

	unit_context_counting(&ctx, &counter);
	for (int i = 0; i < N; i++)
	{
		v[i] = (float) i * 0.37f - 20.0f;
		ints[i] = (i % 2 ? -1 : 1) * i * 7919;
	}
	ints[1] = INT32_MIN;
	ints[2] = INT32_MAX;
	an_buffer_init(&doc.buf, &ctx);
	an_packer_init(&pk, &doc.buf);
	msgpack_pack_map(&pk, 6);
	an_pack_key_floats(&pk, "w", v, N);
	an_pack_key_floats(&pk, "nan", bad, 2);
	an_pack_key_reals(&pk, "r", reals, 3);
	an_pack_key_reals(&pk, "rinf", rbad, 2);
	an_pack_key_floats(&pk, "empty", v, 0);
	an_pack_key_int32s(&pk, "i", ints, N);
	doc_unpack(&doc);
	REQUIRE(doc.ok);
	root = &doc.msg.data;

	/* float32 little-endian in a bin field */
	w = an_map_get(root, "w");
	REQUIRE(w && w->type == MSGPACK_OBJECT_BIN && w->via.bin.size == 4 * N);
	p = (const unsigned char *) w->via.bin.ptr;
	/* v[1] = -19.63f = 0xc19d0a3d */
	CHECK(p[4] == 0x3d && p[5] == 0x0a && p[6] == 0x9d && p[7] == 0xc1);

	CHECK_STATUS(an_get_floats(&ctx, root, "w", back, N), AN_OK);
	CHECK(memcmp(back, v, sizeof(v)) == 0);
	CHECK_STATUS(an_get_floats(&ctx, root, "w", back, N - 1), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_floats(&ctx, root, "w", back, N + 1), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_floats(&ctx, root, "nan", back, 2), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "non-finite");
	CHECK_STATUS(an_get_floats(&ctx, root, "r", back, 3), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_floats(&ctx, root, "empty", back, 0), AN_OK);

	CHECK_STATUS(an_get_reals(&ctx, root, "r", rback, 3), AN_OK);
	CHECK(rback[0] == 1.5 && rback[1] == -2 && rback[2] == 1e300);
	CHECK_STATUS(an_get_reals(&ctx, root, "r", rback, 2), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_reals(&ctx, root, "rinf", rback, 2), AN_ERR_CORRUPT);
	CHECK_STATUS(an_get_reals(&ctx, root, "w", rback, 3), AN_ERR_CORRUPT);

	/* int32 little-endian in a bin field, the same layout: ints[3] = -23757 = 0xffffa333 */
	w = an_map_get(root, "i");
	REQUIRE(w && w->type == MSGPACK_OBJECT_BIN && w->via.bin.size == 4 * N);
	p = (const unsigned char *) w->via.bin.ptr;
	CHECK(p[12] == 0x33 && p[13] == 0xa3 && p[14] == 0xff && p[15] == 0xff);
	CHECK_STATUS(an_get_int32s(&ctx, root, "i", iback, N), AN_OK);
	CHECK(memcmp(iback, ints, sizeof(ints)) == 0);
	CHECK_STATUS(an_get_int32s(&ctx, root, "i", iback, N - 1), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "int32");
	CHECK_STATUS(an_get_int32s(&ctx, root, "r", iback, 3), AN_ERR_CORRUPT);

	doc_free(&ctx, &doc);
	CHECK_NO_LEAKS(&counter);
}

/* ---- networks ---- */

static const int net_dims[4] = {4, 6, 2, 4};
static const AnActivation net_acts[3] = {AN_ACT_SIGMOID, AN_ACT_LEAKY_RELU,
AN_ACT_IDENTITY};

static AnStatus
make_net(AnContext *ctx, AnMlp *mlp, bool bias, uint64_t seed)
{
	AnRng		rng;

	AN_TRY(an_mlp_create(ctx, mlp, 3, net_dims, net_acts, bias, true, 8));
	an_rng_seed(&rng, seed);
	an_mlp_init(mlp, &rng);
	return AN_OK;
}

static void
pack_net_doc(AnContext *ctx, Doc *doc, const AnMlp *mlp)
{
	AnPacker	pk;

	an_buffer_init(&doc->buf, ctx);
	an_packer_init(&pk, &doc->buf);
	msgpack_pack_map(&pk, 1);
	an_pack_key_mlp(&pk, "net", mlp);
	doc_unpack(doc);
}

UNIT_TEST(codec_mlp_round_trip)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	for (int bias = 0; bias <= 1; bias++)
	{
		AnMlp		mlp,
					back;
		Doc			doc;
		float		x[12];
		float		y1[12];
		const float *y2;

		unit_context_counting(&ctx, &counter);
		REQUIRE(make_net(&ctx, &mlp, bias, 5 + bias) == AN_OK);
		pack_net_doc(&ctx, &doc, &mlp);
		REQUIRE(doc.ok);

		CHECK_STATUS(an_get_mlp(&ctx, &doc.msg.data, "net", 4, false, 3, &back), AN_OK);
		CHECK(back.n_layers == 3 && back.bias == (bool) bias && !back.trainable);
		CHECK(back.max_batch == 3);
		for (int l = 0; l < 3; l++)
		{
			CHECK(back.dims[l + 1] == net_dims[l + 1] && back.acts[l] == net_acts[l]);
			CHECK(memcmp(back.layers[l].w, mlp.layers[l].w,
						 sizeof(float) * net_dims[l] * net_dims[l + 1]) == 0);
			if (bias)
				CHECK(memcmp(back.layers[l].b, mlp.layers[l].b,
							 sizeof(float) * net_dims[l + 1]) == 0);
			else
				CHECK(back.layers[l].b == NULL);
			CHECK(back.layers[l].gw == NULL);
		}
		for (int i = 0; i < 12; i++)
			x[i] = (float) (i % 5) - 2.0f;
		memcpy(y1, an_mlp_forward(&mlp, x, 3), sizeof(y1));
		y2 = an_mlp_forward(&back, x, 3);
		CHECK(memcmp(y1, y2, sizeof(y1)) == 0);
		an_mlp_free(&ctx, &back);

		/* any input width, and a trainable copy */
		CHECK_STATUS(an_get_mlp(&ctx, &doc.msg.data, "net", -1, true, 8, &back), AN_OK);
		CHECK(back.trainable && back.layers[0].gw != NULL);
		an_mlp_free(&ctx, &back);

		/* the wrong input width; a missing network */
		CHECK_STATUS(an_get_mlp(&ctx, &doc.msg.data, "net", 5, false, 3, &back),
					 AN_ERR_CORRUPT);
		CHECK_CONTAINS(ctx.errmsg, "input width");
		CHECK_STATUS(an_get_mlp(&ctx, &doc.msg.data, "other", 4, false, 3, &back),
					 AN_ERR_CORRUPT);

		doc_free(&ctx, &doc);
		an_mlp_free(&ctx, &mlp);
		CHECK_NO_LEAKS(&counter);
	}
}

/* one layer map; weight_size floats of weights, bias present if n_bias >= 0 */
static void
pack_layer(AnPacker *pk, int in, int out, const char *act, int weight_size, int n_bias)
{
	float		zeros[64] = {0};

	msgpack_pack_map(pk, n_bias >= 0 ? 5 : 4);
	an_pack_key_int(pk, "in", in);
	an_pack_key_int(pk, "out", out);
	an_pack_key_str(pk, "activation", act);
	an_pack_key_floats(pk, "weight", zeros, weight_size);
	if (n_bias >= 0)
		an_pack_key_floats(pk, "bias", zeros, n_bias);
}

typedef enum BadNet
{
	BAD_NONE,
	BAD_NO_LAYERS,
	BAD_TOO_MANY_LAYERS,
	BAD_CHAIN,
	BAD_WEIGHT_SIZE,
	BAD_BIAS_SIZE,
	BAD_MIXED_BIAS,				/* the second layer lacks the bias */
	BAD_MIXED_BIAS_FIRST,		/* the first layer lacks it */
	BAD_ACTIVATION,
	BAD_LONG_ACTIVATION,
	BAD_ZERO_WIDTH,
	BAD_HUGE_WIDTH,
	BAD_LAYER_NOT_MAP
} BadNet;

static void
pack_bad_net(AnContext *ctx, Doc *doc, BadNet bad)
{
	AnPacker	pk;
	int			n = bad == BAD_NO_LAYERS ? 0 : bad == BAD_TOO_MANY_LAYERS ? 21 : 2;

	an_buffer_init(&doc->buf, ctx);
	an_packer_init(&pk, &doc->buf);
	msgpack_pack_map(&pk, 1);
	an_pack_str(&pk, "net");
	msgpack_pack_map(&pk, 1);
	an_pack_str(&pk, "layers");
	msgpack_pack_array(&pk, n);
	if (bad == BAD_TOO_MANY_LAYERS)
	{
		for (int l = 0; l < n; l++)
			pack_layer(&pk, 2, 2, "relu", 4, 2);
	}
	else if (n == 2)
	{
		/* 3 -> 2 -> 3 */
		if (bad == BAD_LAYER_NOT_MAP)
			msgpack_pack_int(&pk, 3);
		else
			pack_layer(&pk, bad == BAD_ZERO_WIDTH ? 0 : bad == BAD_HUGE_WIDTH ? (1 << 20) + 1 : 3,
					   2,
					   bad == BAD_ACTIVATION ? "swish" :
					   bad == BAD_LONG_ACTIVATION ? "an_activation_name_over_32_chars_long" :
					   "tanh",
					   bad == BAD_WEIGHT_SIZE ? 5 : 6,
					   bad == BAD_BIAS_SIZE ? 3 : bad == BAD_MIXED_BIAS_FIRST ? -1 : 2);
		pack_layer(&pk, bad == BAD_CHAIN ? 3 : 2, 3, "identity",
				   bad == BAD_CHAIN ? 9 : 6, bad == BAD_MIXED_BIAS ? -1 : 3);
	}
	doc_unpack(doc);
}

UNIT_TEST(codec_mlp_rejects_bad_networks)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	Doc			doc;

	unit_context_counting(&ctx, &counter);

	/* the hand-written network itself is valid */
	pack_bad_net(&ctx, &doc, BAD_NONE);
	CHECK_STATUS(an_get_mlp(&ctx, &doc.msg.data, "net", 3, false, 4, &mlp), AN_OK);
	CHECK(mlp.n_layers == 2 && mlp.bias && an_mlp_out_dim(&mlp) == 3);
	CHECK(mlp.acts[0] == AN_ACT_TANH && mlp.acts[1] == AN_ACT_IDENTITY);
	an_mlp_free(&ctx, &mlp);
	doc_free(&ctx, &doc);

	for (int bad = BAD_NO_LAYERS; bad <= BAD_LAYER_NOT_MAP; bad++)
	{
		pack_bad_net(&ctx, &doc, (BadNet) bad);
		ctx.errmsg[0] = '\0';
		CHECK_STATUS(an_get_mlp(&ctx, &doc.msg.data, "net", -1, false, 4, &mlp),
					 AN_ERR_CORRUPT);
		if (ctx.errmsg[0] == '\0')
			unit_fail(__FILE__, __LINE__, "case %d left no message", bad);
		/* the MLP is left empty: freeing it is harmless */
		an_mlp_free(&ctx, &mlp);
		doc_free(&ctx, &doc);
		CHECK_NO_LEAKS(&counter);
	}
}
