/*-------------------------------------------------------------------------
 *
 * test_document.c
 *	  Unit tests of the stored model document: an exact round trip of the
 *	  model's own fields (spec, scaler, threshold, quantiles, counts), and
 *	  a decoder that refuses targeted damage by name (trailing bytes, wrong
 *	  tag or version, unknown method, non-finite numbers, inconsistent
 *	  shapes, garbage).  Every truncation, every overwritten byte, random
 *	  damage and allocation failures run for every method in
 *	  test_methods.c.
 *
 * Damaged documents are copied into buffers of exactly their length, so
 * that valgrind or ASan sees any read past the end.
 *
 * IDENTIFICATION
 *	  test/unit/test_document.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

/* the shared model's document, malloc'd */
static char *
fixture_document(size_t *len)
{
	FixtureModel *fm = fixture_trained();
	char	   *data;
	char	   *copy;

	if (fm->status != AN_OK ||
		an_model_encode(&fm->ctx, &fm->model, &data, len) != AN_OK)
	{
		unit_fail(__FILE__, __LINE__, "could not encode the shared model");
		return NULL;
	}
	copy = malloc(*len);
	memcpy(copy, data, *len);
	an_free(&fm->ctx, data);
	return copy;
}

/*
 * Offset just after occurrence nth (0-based; -1: the last) of the msgpack
 * fixstr "key", or -1.
 */
static long
find_key(const char *doc, size_t len, const char *key, int nth)
{
	size_t		klen = strlen(key);
	long		found = -1;
	int			seen = 0;

	for (size_t i = 0; i + 1 + klen <= len; i++)
	{
		if ((unsigned char) doc[i] == (0xa0 | klen) &&
			memcmp(doc + i + 1, key, klen) == 0)
		{
			found = (long) (i + 1 + klen);
			if (seen++ == nth)
				break;
		}
	}
	return nth < 0 || seen > nth ? found : -1;
}

/* decode len bytes from an exactly sized copy with a counting context */
static AnStatus
decode_copy(const char *data, size_t len, UnitAlloc *counter, AnModel *model,
			AnContext *ctx)
{
	char	   *copy = malloc(len ? len : 1);
	AnStatus	st;

	memcpy(copy, data, len);
	unit_context_counting(ctx, counter);
	st = an_model_decode(ctx, copy, len, model);
	free(copy);
	return st;
}

static void
check_same_spec(const AnFeatureSpec *a, const AnFeatureSpec *b)
{
	REQUIRE(a->n_features == b->n_features);
	CHECK(a->dim == b->dim);
	for (int i = 0; i < a->n_features; i++)
	{
		const AnFeature *fa = &a->features[i];
		const AnFeature *fb = &b->features[i];

		CHECK_STR(fa->name, fb->name);
		CHECK(fa->kind == fb->kind);
		CHECK(memcmp(&fa->fill, &fb->fill, sizeof(double)) == 0);
		CHECK(fa->offset == fb->offset && fa->width == fb->width);
		REQUIRE(fa->n_categories == fb->n_categories);
		for (int c = 0; c < fa->n_categories; c++)
			CHECK_STR(fa->categories[c], fb->categories[c]);
	}
}

UNIT_TEST(document_round_trip)
{
	FixtureModel *fm = fixture_trained();
	AnModel    *m = &fm->model;
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		back;
	char	   *data;
	size_t		len;
	char	   *again;
	size_t		again_len;
	double	   *outliers = fixture_outliers(11, 40);
	double	   *s1 = malloc(fm->n * sizeof(double));
	double	   *s2 = malloc(fm->n * sizeof(double));
	double		o1[40],
				o2[40];

	REQUIRE(fm->status == AN_OK);
	REQUIRE((data = fixture_document(&len)) != NULL);
	CHECK(len > 1000);
	CHECK_STATUS(decode_copy(data, len, &counter, &back, &ctx), AN_OK);
	REQUIRE(back.state != NULL);

	CHECK(back.method == an_method_lookup("autoencoder"));
	check_same_spec(&back.spec, &m->spec);
	CHECK(back.scaler.kind == m->scaler.kind && back.scaler.dim == m->scaler.dim);
	CHECK(memcmp(back.scaler.offset, m->scaler.offset, FIX_DIM * sizeof(double)) == 0);
	CHECK(memcmp(back.scaler.scale, m->scaler.scale, FIX_DIM * sizeof(double)) == 0);
	CHECK(memcmp(&back.threshold, &m->threshold, sizeof(double)) == 0);
	CHECK(back.contamination == m->contamination);
	CHECK(memcmp(back.quantiles, m->quantiles, sizeof(m->quantiles)) == 0);
	CHECK(back.trained_rows == m->trained_rows);
	CHECK(back.epochs_run == m->epochs_run);
	CHECK(back.loss == m->loss);
	CHECK(back.seed == m->seed);
	CHECK(back.scratch != NULL);

	/* the same scores, bit for bit, on training rows and outliers */
	an_model_score_raw(m, fm->raw, fm->n, s1);
	an_model_score_raw(&back, fm->raw, fm->n, s2);
	CHECK(memcmp(s1, s2, fm->n * sizeof(double)) == 0);
	an_model_score_raw(m, outliers, 40, o1);
	an_model_score_raw(&back, outliers, 40, o2);
	CHECK(memcmp(o1, o2, sizeof(o1)) == 0);

	/*
	 * The stored quantiles are those of the decoded model's scores of the
	 * training rows, bit for bit, whatever blocks training scored them in
	 * (model.c takes larger ones when the method's scores allow it).
	 */
	{
		bool		same = true;

		an_sort_doubles(s2, fm->n);
		for (int q = 0; q < AN_N_QUANTILES; q++)
		{
			double		v = an_quantile_sorted(s2, fm->n, (double) q / (AN_N_QUANTILES - 1));

			same &= memcmp(&v, &m->quantiles[q], sizeof(double)) == 0;
		}
		CHECK(same);
	}

	/* and the same document again */
	REQUIRE(an_model_encode(&ctx, &back, &again, &again_len) == AN_OK);
	CHECK(again_len == len && memcmp(again, data, len) == 0);
	an_free(&ctx, again);

	an_model_free(&ctx, &back);
	CHECK_NO_LEAKS(&counter);
	free(data);
	free(outliers);
	free(s1);
	free(s2);
}

UNIT_TEST(document_round_trip_robust_scaler)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model,
				back;
	AnOptions	opts;
	double	   *raw = fixture_rows(3, 200);
	float	   *x = NULL;
	char	   *data;
	size_t		len;
	double		s1[200],
				s2[200];

	unit_context_counting(&ctx, &counter);
	REQUIRE(fixture_prepare(&ctx, &model, raw, 200, AN_SCALER_ROBUST, &x) == AN_OK);
	REQUIRE(fixture_options(&ctx, &opts, 2, 3, 200) == AN_OK);
	REQUIRE(an_model_fit(&ctx, &model, &opts, x, 200) == AN_OK);
	REQUIRE(an_model_encode(&ctx, &model, &data, &len) == AN_OK);
	CHECK_STATUS(an_model_decode(&ctx, data, len, &back), AN_OK);
	CHECK(back.scaler.kind == AN_SCALER_ROBUST);
	CHECK(memcmp(back.scaler.offset, model.scaler.offset, FIX_DIM * sizeof(double)) == 0);
	an_model_score_raw(&model, raw, 200, s1);
	an_model_score_raw(&back, raw, 200, s2);
	CHECK(memcmp(s1, s2, sizeof(s1)) == 0);
	an_free(&ctx, data);
	an_model_free(&ctx, &back);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
	free(raw);
	free(x);
}

UNIT_TEST(document_rejects_trailing_bytes)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	char	   *data;
	size_t		len;
	char	   *longer;

	REQUIRE((data = fixture_document(&len)) != NULL);
	longer = malloc(2 * len);
	memcpy(longer, data, len);
	memcpy(longer + len, data, len);
	longer[len] = (char) 0xc0;	/* msgpack nil */
	CHECK_STATUS(decode_copy(longer, len + 1, &counter, &model, &ctx), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "1 trailing bytes");
	CHECK_NO_LEAKS(&counter);
	memcpy(longer + len, data, len);
	CHECK_STATUS(decode_copy(longer, 2 * len, &counter, &model, &ctx), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "trailing");
	CHECK_NO_LEAKS(&counter);
	free(longer);
	free(data);
}

/* patch a copy of the document at the given offset and expect CORRUPT */
static void
expect_corrupt(const char *data, size_t len, long at, const void *bytes, size_t n,
			   const char *message, int line)
{
	char	   *copy = malloc(len);
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	AnStatus	st;

	if (at < 0 || (size_t) at + n > len)
	{
		unit_fail(__FILE__, line, "patch position not found");
		free(copy);
		return;
	}
	memcpy(copy, data, len);
	memcpy(copy + at, bytes, n);
	st = decode_copy(copy, len, &counter, &model, &ctx);
	if (st != AN_ERR_CORRUPT)
	{
		unit_fail(__FILE__, line, "patched document gave status %d, not AN_ERR_CORRUPT", st);
		if (st == AN_OK)
			an_model_free(&ctx, &model);
	}
	else if (!strstr(ctx.errmsg, message))
		unit_fail(__FILE__, line, "message \"%s\" does not contain \"%s\"",
				  ctx.errmsg, message);
	if (counter.outstanding != 0 || counter.bad_frees != 0)
		unit_fail(__FILE__, line, "%ld allocations leaked", counter.outstanding);
	/* freeing a model the decoder already released is harmless */
	an_model_free(&ctx, &model);
	if (counter.bad_frees != 0)
		unit_fail(__FILE__, line, "bad free after a failed decode");
	free(copy);
}

UNIT_TEST(document_rejects_wrong_tag_version_method)
{
	char	   *data;
	size_t		len;
	long		at;
	unsigned char b;

	REQUIRE((data = fixture_document(&len)) != NULL);

	/* the "format" value is the fixstr "anomaly-model" */
	at = find_key(data, len, "format", 0);
	REQUIRE(at > 0);
	CHECK((unsigned char) data[at] == (0xa0 | 13));
	expect_corrupt(data, len, at + 13, "x", 1, "format", __LINE__);
	expect_corrupt(data, len, at + 1, "A", 1, "format", __LINE__);

	/* format_version 1 is the positive fixint 0x01 */
	at = find_key(data, len, "format_version", 0);
	REQUIRE(at > 0);
	CHECK(data[at] == 1);
	b = 2;
	expect_corrupt(data, len, at, &b, 1, "newer", __LINE__);
	b = 0x7f;
	expect_corrupt(data, len, at, &b, 1, "newer", __LINE__);
	b = 0;
	expect_corrupt(data, len, at, &b, 1, "format_version", __LINE__);
	b = 0xff;					/* -1 */
	expect_corrupt(data, len, at, &b, 1, "format_version", __LINE__);
	b = 0xc0;					/* nil */
	expect_corrupt(data, len, at, &b, 1, "format_version", __LINE__);

	/* method "autoencoder" -> "autoencodex" */
	at = find_key(data, len, "method", 0);
	REQUIRE(at > 0);
	CHECK((unsigned char) data[at] == (0xa0 | 11));
	expect_corrupt(data, len, at + 11, "x", 1, "unknown method \"autoencodex\"", __LINE__);

	/* the key itself renamed: a missing field */
	at = find_key(data, len, "threshold", 0);
	REQUIRE(at > 0);
	expect_corrupt(data, len, at - 1, "T", 1, "\"threshold\"", __LINE__);
	at = find_key(data, len, "scaler", 0);
	REQUIRE(at > 0);
	expect_corrupt(data, len, at - 1, "S", 1, "\"scaler\"", __LINE__);
	free(data);
}

UNIT_TEST(document_rejects_non_finite_numbers)
{
	static const unsigned char nan32[4] = {0x00, 0x00, 0xc0, 0x7f};
	static const unsigned char inf32[4] = {0x00, 0x00, 0x80, 0x7f};
	static const unsigned char nan64[9] = {0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
	static const unsigned char ninf64[9] = {0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0};
	char	   *data;
	size_t		len;
	long		at;
	long		body;

	REQUIRE((data = fixture_document(&len)) != NULL);

	/* the first and the last weight bins: bin8 or bin16 headers */
	for (int last = 0; last <= 1; last++)
	{
		at = find_key(data, len, "weight", last ? -1 : 0);
		REQUIRE(at > 0);
		body = (unsigned char) data[at] == 0xc4 ? at + 2 :
			(unsigned char) data[at] == 0xc5 ? at + 3 : -1;
		REQUIRE(body > 0);
		expect_corrupt(data, len, body, nan32, 4, "non-finite", __LINE__);
		expect_corrupt(data, len, body + 8, inf32, 4, "non-finite", __LINE__);
	}
	at = find_key(data, len, "bias", -1);
	REQUIRE(at > 0 && (unsigned char) data[at] == 0xc4);
	expect_corrupt(data, len, at + 2, inf32, 4, "non-finite", __LINE__);

	/* doubles: threshold, a quantile, a scaler offset and a fill */
	at = find_key(data, len, "threshold", 0);
	REQUIRE(at > 0 && (unsigned char) data[at] == 0xcb);
	expect_corrupt(data, len, at, nan64, 9, "threshold", __LINE__);
	at = find_key(data, len, "score_quantiles", 0);
	/* 101 doubles: an array16 header of 3 bytes */
	REQUIRE(at > 0 && (unsigned char) data[at] == 0xdc);
	REQUIRE((unsigned char) data[at + 3 + 9 * 50] == 0xcb);
	expect_corrupt(data, len, at + 3 + 9 * 50, ninf64, 9, "score_quantiles", __LINE__);
	at = find_key(data, len, "offset", 0);
	REQUIRE(at > 0 && (unsigned char) data[at + 1] == 0xcb);
	expect_corrupt(data, len, at + 1, nan64, 9, "offset", __LINE__);
	at = find_key(data, len, "scale", 0);
	REQUIRE(at > 0 && (unsigned char) data[at + 1] == 0xcb);
	expect_corrupt(data, len, at + 1, nan64, 9, "scale", __LINE__);
	at = find_key(data, len, "fill", 0);
	REQUIRE(at > 0 && (unsigned char) data[at] == 0xcb);
	expect_corrupt(data, len, at, nan64, 9, "fill", __LINE__);
	free(data);
}

UNIT_TEST(document_rejects_inconsistent_shapes)
{
	char	   *data;
	size_t		len;
	long		at;
	unsigned char b;
	static const unsigned char zero64[9] = {0xcb, 0, 0, 0, 0, 0, 0, 0, 0};

	REQUIRE((data = fixture_document(&len)) != NULL);

	/* the first layer's "in" (fixint 9) must match the 9 encoded inputs */
	at = find_key(data, len, "in", 0);
	REQUIRE(at > 0 && data[at] == FIX_DIM);
	b = FIX_DIM - 1;
	expect_corrupt(data, len, at, &b, 1, "input width", __LINE__);
	/* the last layer's "out" must give the input width back */
	at = find_key(data, len, "out", -1);
	REQUIRE(at > 0 && data[at] == FIX_DIM);
	b = FIX_DIM + 1;
	expect_corrupt(data, len, at, &b, 1, "weight of the wrong size", __LINE__);
	/* a zero scale */
	at = find_key(data, len, "scale", 0);
	REQUIRE(at > 0);
	expect_corrupt(data, len, at + 1, zero64, 9, "offset or scale of dimension 0 is out of range", __LINE__);
	/* a category that is not a string */
	for (int nth = 0;; nth++)
	{
		at = find_key(data, len, "categories", nth);
		if (at < 0 || (unsigned char) data[at] != 0x90)	/* skip empty arrays */
			break;
	}
	REQUIRE(at > 0 && (unsigned char) data[at] == 0x92);
	REQUIRE((unsigned char) data[at + 1] == (0xa0 | 7));
	/* fixstr "grocery" (8 bytes) -> bin8 of the 6 bytes "rocery" */
	expect_corrupt(data, len, at + 1, "\xc4\x06", 2, "not a string", __LINE__);
	/* an unknown feature kind: "numeric" -> "numerix" */
	at = find_key(data, len, "kind", 0);
	REQUIRE(at > 0 && (unsigned char) data[at] == (0xa0 | 7));
	expect_corrupt(data, len, at + 7, "x", 1, "unknown kind", __LINE__);
	/* an unknown activation: "leaky_relu" (the autoencoder's) -> "leaky_relv" */
	at = find_key(data, len, "activation", 0);
	REQUIRE(at > 0 && (unsigned char) data[at] == (0xa0 | 10));
	expect_corrupt(data, len, at + 10, "v", 1, "unknown activation", __LINE__);
	free(data);
}

UNIT_TEST(document_rejects_garbage)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	static const unsigned char not_map[1] = {0x2a};
	static const unsigned char empty_map[1] = {0x80};
	static const unsigned char bad_byte[1] = {0xc1};	/* never used */
	char		deep[4096];

	CHECK_STATUS(decode_copy("", 0, &counter, &model, &ctx), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "truncated");
	CHECK_STATUS(decode_copy((const char *) not_map, 1, &counter, &model, &ctx),
				 AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "not a msgpack map");
	CHECK_STATUS(decode_copy((const char *) empty_map, 1, &counter, &model, &ctx),
				 AN_ERR_CORRUPT);
	CHECK_STATUS(decode_copy((const char *) bad_byte, 1, &counter, &model, &ctx),
				 AN_ERR_CORRUPT);
	/*
	 * Container headers claiming 2^32 - 1 entries: msgpack-c asks malloc
	 * for up to 128 GiB before it reads a single entry; that must fail
	 * cleanly.  (Under ASan, run with allocator_may_return_null=1.)
	 */
	CHECK_STATUS(decode_copy("\xdf\xff\xff\xff\xff", 5, &counter, &model, &ctx),
				 AN_ERR_CORRUPT);
	CHECK_STATUS(decode_copy("\xdd\xff\xff\xff\xff", 5, &counter, &model, &ctx),
				 AN_ERR_CORRUPT);
	CHECK_STATUS(decode_copy("\x81\xa1k\xc6\xff\xff\xff\xff", 8, &counter, &model, &ctx),
				 AN_ERR_CORRUPT);
	/* nesting far deeper than any document: arrays of one array ... */
	memset(deep, 0x91, sizeof(deep));
	deep[sizeof(deep) - 1] = (char) 0xc0;
	CHECK_STATUS(decode_copy(deep, sizeof(deep), &counter, &model, &ctx), AN_ERR_CORRUPT);
	CHECK_NO_LEAKS(&counter);
}
