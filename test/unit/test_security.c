/*-------------------------------------------------------------------------
 *
 * test_security.c
 *	  Hostile inputs to the core: extreme rows that must not evade
 *	  detection, documents with overflowing values, documents built to make
 *	  every backend that decodes them allocate gigabytes; and the bounds of
 *	  training: interrupt checks inside a batch, the memory budget.
 *
 * What each test proves is listed in docs/security.md.  Hostile documents
 * are built here with msgpack-c, not committed as binaries.
 *
 * IDENTIFICATION
 *	  test/unit/test_security.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

#define TRAIN_ROWS	300

static AnStatus
train_quick(AnContext *ctx, const AnMethod *method, AnModel *model)
{
	double	   *raw = fixture_rows(5, TRAIN_ROWS);
	float	   *x = NULL;
	AnOptions	opts;
	AnStatus	st;

	memset(&opts, 0, sizeof(opts));
	memset(model, 0, sizeof(*model));
	st = fixture_prepare(ctx, model, raw, TRAIN_ROWS, AN_SCALER_STANDARD, &x);
	if (st == AN_OK)
		st = fixture_quick_options(ctx, &opts, method, 3, 5);
	if (st == AN_OK)
		an_options_resolve(&opts, FIX_DIM, TRAIN_ROWS);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, &opts, x, TRAIN_ROWS);
	an_options_free(ctx, &opts);
	free(raw);
	free(x);
	return st;
}

/* a score that a "score > threshold" test flags */
static bool
flagged(const AnModel *model, double score)
{
	return !isnan(score) && score > model->threshold;
}

/* rows with one huge value in each numeric dimension, both signs */
static void
check_extreme_rows(const AnMethod *m, AnModel *model, const char *which)
{
	double	   *raw = fixture_rows(9, 1);
	static const double extremes[] = {1e300, -1e300, DBL_MAX, 1e20};

	for (int j = 0; j < FIX_NUMERIC; j++)
		for (int e = 0; e < AN_LENGTHOF(extremes); e++)
		{
			double		row[FIX_DIM];
			double		score;

			memcpy(row, raw, sizeof(row));
			row[j] = extremes[e];
			an_model_score_raw(model, row, 1, &score);
			if (!flagged(model, score))
				unit_fail(__FILE__, __LINE__,
						  "%s (%s): dimension %d = %g scores %g, threshold %g",
						  m->name, which, j, extremes[e], score, model->threshold);
		}
	free(raw);
}

UNIT_TEST(security_extreme_rows_are_flagged)
{
	for (int i = 0; an_method_at(i); i++)
	{
		const AnMethod *m = an_method_at(i);
		AnContext	ctx;
		UnitAlloc	counter = {0};
		AnModel		model,
					back;
		char	   *doc;
		size_t		len;

		unit_context_counting(&ctx, &counter);
		if (train_quick(&ctx, m, &model) != AN_OK)
		{
			unit_fail(__FILE__, __LINE__, "%s: training failed: %s", m->name, ctx.errmsg);
			an_model_free(&ctx, &model);
			continue;
		}
		check_extreme_rows(m, &model, "trained");
		REQUIRE(an_model_encode(&ctx, &model, &doc, &len) == AN_OK);
		REQUIRE(an_model_decode(&ctx, doc, len, &back) == AN_OK);
		check_extreme_rows(m, &back, "decoded");
		an_model_free(&ctx, &back);
		an_free(&ctx, doc);
		an_model_free(&ctx, &model);
		CHECK_NO_LEAKS(&counter);
	}
}

/* the shared model's document, in ctx */
static char *
shared_document(AnContext *ctx, size_t *len)
{
	FixtureModel *fm = fixture_trained();
	char	   *doc = NULL;

	if (fm->status != AN_OK || an_model_encode(ctx, &fm->model, &doc, len) != AN_OK)
		return NULL;
	return doc;
}

/* offset of the payload of the nth "weight" bin of a document, its size */
static long
weight_payload(const char *doc, size_t len, int nth, size_t *size)
{
	int			seen = 0;

	for (size_t i = 0; i + 8 < len; i++)
	{
		const unsigned char *p = (const unsigned char *) doc + i;

		if (p[0] == 0xa6 && memcmp(p + 1, "weight", 6) == 0 && seen++ == nth)
		{
			p += 7;
			if (p[0] == 0xc4)
			{
				*size = p[1];
				return (long) (i + 9);
			}
			if (p[0] == 0xc5)
			{
				*size = (size_t) p[1] << 8 | p[2];
				return (long) (i + 10);
			}
			return -1;
		}
	}
	return -1;
}

static void build_layered(msgpack_sbuffer *sb, const int *widths, int n_layers,
						  float weight, const char *activation);

static void
store_float(char *p, float f)
{
	memcpy(p, &f, 4);			/* the tests run on little-endian machines */
}

UNIT_TEST(security_overflowing_network_scores_infinity)
{
	static const int widths[] = {1, 4, 4, 1};
	msgpack_sbuffer sb;
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	double		row = 5.0;
	float		scaled;
	double		direct,
				score;

	/*
	 * Weights of +-1e29, within the decoder's bound: the second layer's
	 * products overflow float32 and its sums mix +Infinity and -Infinity,
	 * so the network's output is NaN.
	 */
	build_layered(&sb, widths, 3, 1e29f, "identity");
	unit_context_counting(&ctx, &counter);
	REQUIRE(an_model_decode(&ctx, sb.data, sb.size, &model) == AN_OK);

	/* the method's own score is not finite: the test below means something */
	an_scaler_apply(&model.scaler, &row, &scaled);
	model.method->score(model.state, &scaled, 1, &direct);
	CHECK(!isfinite(direct));

	an_model_score_raw(&model, &row, 1, &score);
	CHECK(isinf(score) && score > 0);
	CHECK(flagged(&model, score));
	score = 0;
	an_model_score_scaled(&model, &scaled, 1, &score);
	CHECK(isinf(score) && score > 0);

	an_model_free(&ctx, &model);
	msgpack_sbuffer_destroy(&sb);
	CHECK_NO_LEAKS(&counter);
}

/* encode the shared model with one field changed, decode, expect refusal */
static void
expect_refused(AnModel *m, const char *expected, int line)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		back;
	char	   *doc;
	size_t		len;
	AnStatus	st;

	unit_context_counting(&ctx, &counter);
	if (an_model_encode(&ctx, m, &doc, &len) != AN_OK)
	{
		unit_fail(__FILE__, line, "could not encode");
		return;
	}
	st = an_model_decode(&ctx, doc, len, &back);
	if (st != AN_ERR_CORRUPT)
		unit_fail(__FILE__, line, "decode returned %d, not AN_ERR_CORRUPT", (int) st);
	else if (!strstr(ctx.errmsg, expected))
		unit_fail(__FILE__, line, "message \"%s\" does not contain \"%s\"", ctx.errmsg,
				  expected);
	if (st == AN_OK)
		an_model_free(&ctx, &back);
	an_free(&ctx, doc);
	if (counter.outstanding != 0)
		unit_fail(__FILE__, line, "%ld allocations leaked", counter.outstanding);
}

UNIT_TEST(security_decoder_rejects_overflowing_values)
{
	FixtureModel *fm = fixture_trained();
	AnModel    *m = &fm->model;
	AnContext	ctx;
	AnModel		back;
	char	   *doc;
	size_t		len,
				size;
	long		at;
	double		saved;

	REQUIRE(fm->status == AN_OK);

	/* scaler values whose use overflows, and nonsense ones */
	saved = m->scaler.offset[0];
	m->scaler.offset[0] = 1e200;
	expect_refused(m, "offset or scale of dimension 0", __LINE__);
	m->scaler.offset[0] = saved;
	saved = m->scaler.scale[2];
	m->scaler.scale[2] = 1e-300;
	expect_refused(m, "offset or scale of dimension 2", __LINE__);
	m->scaler.scale[2] = -1.0;
	expect_refused(m, "offset or scale of dimension 2", __LINE__);
	m->scaler.scale[2] = 1e200;
	expect_refused(m, "offset or scale of dimension 2", __LINE__);
	m->scaler.scale[2] = saved;

	/* non-finite threshold and quantiles, an impossible contamination */
	saved = m->threshold;
	m->threshold = NAN;
	expect_refused(m, "\"threshold\"", __LINE__);
	m->threshold = INFINITY;
	expect_refused(m, "\"threshold\"", __LINE__);
	m->threshold = saved;
	saved = m->quantiles[50];
	m->quantiles[50] = -INFINITY;
	expect_refused(m, "\"score_quantiles\"", __LINE__);
	m->quantiles[50] = saved;
	saved = m->contamination;
	m->contamination = 0.9;
	expect_refused(m, "\"contamination\"", __LINE__);
	m->contamination = saved;

	/* the unchanged model still decodes: the refusals came from the edits */
	unit_context_malloc(&ctx);
	REQUIRE((doc = shared_document(&ctx, &len)) != NULL);
	CHECK_STATUS(an_model_decode(&ctx, doc, len, &back), AN_OK);
	an_model_free(&ctx, &back);

	/* a finite but absurd weight */
	at = weight_payload(doc, len, 1, &size);
	REQUIRE(at > 0);
	store_float(doc + at + 4, 3e30f);
	CHECK_STATUS(an_model_decode(&ctx, doc, len, &back), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "absurd");
	store_float(doc + at + 4, -FLT_MAX);
	CHECK_STATUS(an_model_decode(&ctx, doc, len, &back), AN_ERR_CORRUPT);
	store_float(doc + at + 4, 9e29f);
	CHECK_STATUS(an_model_decode(&ctx, doc, len, &back), AN_OK);
	an_model_free(&ctx, &back);
	an_free(&ctx, doc);
}

/* ---- memory bombs ---- */

static int
sb_write(void *data, const char *buf, size_t len)
{
	return msgpack_sbuffer_write(data, buf, len);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/*
 * An autoencoder document of one numeric feature whose network has the
 * given widths (widths[0] and widths[n] are 1), every weight +-weight, no
 * bias: what a hostile role can write in a few megabytes.
 */
static void
build_layered(msgpack_sbuffer *sb, const int *widths, int n_layers, float weight,
			  const char *activation)
{
	msgpack_packer pk;
	size_t		zeros_len = 0;
	char	   *zeros;

	for (int l = 0; l < n_layers; l++)
		if ((size_t) widths[l] * widths[l + 1] * 4 > zeros_len)
			zeros_len = (size_t) widths[l] * widths[l + 1] * 4;
	zeros = calloc(zeros_len, 1);
	/* weight, -weight, weight, ... (zero weights stay all-bits zero) */
	if (weight != 0.0f)
		for (size_t k = 0; k < zeros_len / 4; k++)
			store_float(zeros + 4 * k, k % 2 ? -weight : weight);
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, sb_write);
	msgpack_pack_map(&pk, 10);
	pack_str(&pk, "format");
	pack_str(&pk, "anomaly-model");
	pack_str(&pk, "format_version");
	msgpack_pack_int(&pk, 1);
	pack_str(&pk, "method");
	pack_str(&pk, "autoencoder");
	pack_str(&pk, "features");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 4);
	pack_str(&pk, "name");
	pack_str(&pk, "a");
	pack_str(&pk, "kind");
	pack_str(&pk, "numeric");
	pack_str(&pk, "fill");
	msgpack_pack_double(&pk, 0.0);
	pack_str(&pk, "categories");
	msgpack_pack_array(&pk, 0);
	pack_str(&pk, "scaler");
	msgpack_pack_map(&pk, 3);
	pack_str(&pk, "kind");
	pack_str(&pk, "standard");
	pack_str(&pk, "offset");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_double(&pk, 0.0);
	pack_str(&pk, "scale");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_double(&pk, 1.0);
	pack_str(&pk, "state");
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "network");
	msgpack_pack_map(&pk, 1);
	pack_str(&pk, "layers");
	msgpack_pack_array(&pk, n_layers);
	for (int l = 0; l < n_layers; l++)
	{
		size_t		bytes = (size_t) widths[l] * widths[l + 1] * 4;

		msgpack_pack_map(&pk, 4);
		pack_str(&pk, "in");
		msgpack_pack_int(&pk, widths[l]);
		pack_str(&pk, "out");
		msgpack_pack_int(&pk, widths[l + 1]);
		pack_str(&pk, "activation");
		pack_str(&pk, activation);
		pack_str(&pk, "weight");
		msgpack_pack_bin(&pk, bytes);
		msgpack_pack_bin_body(&pk, zeros, bytes);
	}
	pack_str(&pk, "threshold");
	msgpack_pack_double(&pk, 1.0);
	pack_str(&pk, "contamination");
	msgpack_pack_double(&pk, 0.01);
	pack_str(&pk, "score_quantiles");
	msgpack_pack_array(&pk, AN_N_QUANTILES);
	for (int q = 0; q < AN_N_QUANTILES; q++)
		msgpack_pack_double(&pk, 0.0);
	pack_str(&pk, "training");
	msgpack_pack_map(&pk, 4);
	pack_str(&pk, "rows");
	msgpack_pack_int(&pk, 1);
	pack_str(&pk, "epochs");
	msgpack_pack_int(&pk, 1);
	pack_str(&pk, "loss");
	msgpack_pack_double(&pk, 0.0);
	pack_str(&pk, "seed");
	msgpack_pack_uint64(&pk, 1);
	free(zeros);
}

UNIT_TEST(security_layered_bomb_is_bounded)
{
	static const int two_wide[] = {1, 1 << 20, 1, 1 << 20, 1};
	static const int three_wide[] = {1, 1 << 20, 1, 1 << 20, 1, 1 << 20, 1};
	static const int both_buffers_wide[] = {1, 1 << 20, 1, 1, 1 << 20, 1};
	static const int small[] = {1, 4, 1};
	msgpack_sbuffer sb;
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;
	size_t		limit;
	AnStatus	st;
	double		row = 5.0,
				score;

	/* the document builder makes a valid model: it decodes and scores */
	build_layered(&sb, small, 2, 0.0f, "relu");
	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_model_decode(&ctx, sb.data, sb.size, &model), AN_OK);
	an_model_score_raw(&model, &row, 1, &score);
	CHECK(score == 25.0);		/* zero weights: the output is 0 */
	an_model_free(&ctx, &model);
	msgpack_sbuffer_destroy(&sb);

	/*
	 * 1 -> 2^20 -> 1 -> 2^20 -> 1: 16 MB of weights, which asked 0.1.0 for
	 * 2 GB of workspace (256 rows per layer).  Now the decoded model holds
	 * its weights and a workspace of AN_DECODE_BATCH rows, within the
	 * decoder's budget.
	 */
	build_layered(&sb, two_wide, 4, 0.0f, "relu");
	limit = AN_DECODE_FIXED_BYTES + AN_DECODE_BYTES_PER_DOC_BYTE * sb.size;
	memset(&counter, 0, sizeof(counter));
	unit_context_counting(&ctx, &counter);
	st = an_model_decode(&ctx, sb.data, sb.size, &model);
	CHECK(st == AN_OK || st == AN_ERR_CORRUPT);
	printf("# two wide layers: document %zu bytes, %s, peak %zu bytes (limit %zu)\n",
		   sb.size, st == AN_OK ? "decoded" : "refused", counter.peak_bytes, limit);
	CHECK(counter.peak_bytes <= limit);
	CHECK(counter.peak_bytes < ((size_t) 200 << 20));
	if (st == AN_OK)
	{
		an_model_score_raw(&model, &row, 1, &score);
		CHECK(score == 25.0);
		an_model_free(&ctx, &model);
	}
	CHECK_NO_LEAKS(&counter);
	msgpack_sbuffer_destroy(&sb);

	/* depth does not add workspace: three wide layers share it */
	build_layered(&sb, three_wide, 6, 0.0f, "relu");
	limit = AN_DECODE_FIXED_BYTES + AN_DECODE_BYTES_PER_DOC_BYTE * sb.size;
	memset(&counter, 0, sizeof(counter));
	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_model_decode(&ctx, sb.data, sb.size, &model), AN_OK);
	printf("# three wide layers: document %zu bytes, peak %zu bytes\n",
		   sb.size, counter.peak_bytes);
	CHECK(counter.peak_bytes < ((size_t) 100 << 20));
	if (model.state)
		an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);
	msgpack_sbuffer_destroy(&sb);

	/*
	 * Wide layers writing both buffers need 128 MB of workspace for 16 MB
	 * of weights, more than the budget: refused before the allocation that
	 * would cross it, with nothing kept.
	 */
	build_layered(&sb, both_buffers_wide, 5, 0.0f, "relu");
	limit = AN_DECODE_FIXED_BYTES + AN_DECODE_BYTES_PER_DOC_BYTE * sb.size;
	memset(&counter, 0, sizeof(counter));
	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_model_decode(&ctx, sb.data, sb.size, &model), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "of memory once decoded");
	CHECK(counter.peak_bytes <= limit);
	CHECK_NO_LEAKS(&counter);
	msgpack_sbuffer_destroy(&sb);
}

UNIT_TEST(security_object_count_is_bounded)
{
	/* an array of 2^23 + 1 nils: 8 MB of document, 200 MB of msgpack-c tree */
	uint64_t	n = AN_MAX_DOC_OBJECTS;
	size_t		len = 5 + n;
	char	   *doc = malloc(len);
	AnContext	ctx;
	AnModel		model;

	doc[0] = (char) 0xdd;
	doc[1] = (char) (n >> 24);
	doc[2] = (char) (n >> 16);
	doc[3] = (char) (n >> 8);
	doc[4] = (char) n;
	memset(doc + 5, 0xc0, n);
	unit_context_malloc(&ctx);
	/* n objects in the array plus the array itself: one too many */
	CHECK_STATUS(an_msgpack_check(&ctx, doc, len), AN_ERR_CORRUPT);
	CHECK_CONTAINS(ctx.errmsg, "msgpack objects");
	CHECK_STATUS(an_model_decode(&ctx, doc, len, &model), AN_ERR_CORRUPT);
	/* one fewer element is well-formed msgpack (not a model) */
	doc[1] = (char) ((n - 1) >> 24);
	doc[2] = (char) ((n - 1) >> 16);
	doc[3] = (char) ((n - 1) >> 8);
	doc[4] = (char) (n - 1);
	CHECK_STATUS(an_msgpack_check(&ctx, doc, len - 1), AN_OK);
	free(doc);
}

/* ---- training bounds ---- */

typedef struct TrainProbe
{
	UnitAlloc	counter;		/* first: the counting allocator's arg */
	long		calls;			/* interrupt checks so far */
	long		calls_at_report;	/* at the end of the first epoch */
} TrainProbe;

static bool
count_call(void *arg)
{
	((TrainProbe *) arg)->calls++;
	return false;
}

static void
note_report(void *arg, const AnEpochReport *report)
{
	TrainProbe *p = arg;

	if (report->epoch == 1)
		p->calls_at_report = p->calls;
}

static size_t
counted_bytes(void *arg)
{
	return ((UnitAlloc *) arg)->bytes;
}

/* an autoencoder of two wide hidden layers, trained in one batch */
static AnStatus
train_wide(AnContext *ctx, size_t rows, int width, AnModel *model)
{
	double		hidden[2] = {width, width};
	AnOptionValue h = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 2};
	double	   *raw = fixture_rows(6, rows);
	float	   *x = NULL;
	AnOptions	opts;
	AnOptionValue v;
	AnStatus	st;

	memset(&opts, 0, sizeof(opts));
	memset(model, 0, sizeof(*model));
	st = fixture_prepare(ctx, model, raw, rows, AN_SCALER_STANDARD, &x);
	if (st == AN_OK)
		st = an_options_init(ctx, &opts, an_method_lookup("autoencoder"));
	if (st == AN_OK)
		st = an_options_set(ctx, &opts, "hidden", &h);
	v = unit_num(1);
	if (st == AN_OK)
		st = an_options_set(ctx, &opts, "epochs", &v);
	v = unit_num((double) rows);
	if (st == AN_OK)
		st = an_options_set(ctx, &opts, "batch_size", &v);
	v = unit_num(0);
	if (st == AN_OK)
		st = an_options_set(ctx, &opts, "validation_fraction", &v);
	if (st == AN_OK)
	{
		an_options_resolve(&opts, FIX_DIM, rows);
		st = an_model_fit(ctx, model, &opts, x, rows);
	}
	an_options_free(ctx, &opts);
	free(raw);
	free(x);
	return st;
}

UNIT_TEST(security_interrupts_inside_a_batch)
{
	TrainProbe	probe;
	AnContext	ctx;
	AnModel		model;

	/*
	 * One batch of 512 rows through 512 x 512 layers: 0.8 G multiply-adds
	 * in one optimiser step.  The trainer asks once before the batch; the
	 * network must ask again every AN_MLP_CHUNK_MACS inside it.
	 */
	memset(&probe, 0, sizeof(probe));
	unit_context_counting(&ctx, &probe.counter);
	ctx.arg = &probe;
	ctx.interrupted = count_call;
	ctx.progress = note_report;
	CHECK_STATUS(train_wide(&ctx, 512, 512, &model), AN_OK);
	printf("# %ld interrupt checks in one epoch of one batch, %ld in all\n",
		   probe.calls_at_report, probe.calls);
	CHECK(probe.calls_at_report >= 10);
	CHECK(probe.calls > probe.calls_at_report);	/* the final scoring checks too */
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&probe.counter);
}

UNIT_TEST(security_training_memory_budget)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnModel		model;

	/* 1 MB cannot hold 1024 x 1024 layers (4 MB each, with Adam 16 MB) */
	unit_context_counting(&ctx, &counter);
	ctx.mem_used = counted_bytes;
	ctx.mem_limit = (size_t) 1 << 20;
	CHECK_STATUS(train_wide(&ctx, 256, 1024, &model), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "budget of 1024 kB");
	CHECK_CONTAINS(ctx.errmsg, "\"batch_size\"");
	CHECK_CONTAINS(ctx.errmsg, "\"hidden\"");
	CHECK(ctx.mem_exceeded);
	CHECK(counter.peak_bytes <= ctx.mem_limit);
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);

	/* the same budget holds a small model: it is not refused by default */
	memset(&counter, 0, sizeof(counter));
	unit_context_counting(&ctx, &counter);
	ctx.mem_used = counted_bytes;
	ctx.mem_limit = (size_t) 1 << 20;
	CHECK_STATUS(train_wide(&ctx, 256, 16, &model), AN_OK);
	CHECK(!ctx.mem_exceeded);
	CHECK(counter.peak_bytes <= ctx.mem_limit);
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);
}
