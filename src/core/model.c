/*-------------------------------------------------------------------------
 *
 * model.c
 *	  Training, scoring and the stored document of a model, whatever its
 *	  method.
 *
 * The document is one msgpack map (docs/model-format.md):
 *	 format, format_version, method, features, scaler, state (the method's
 *	 own map), threshold, contamination, score_quantiles, training.
 *
 * IDENTIFICATION
 *	  src/core/model.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/model.h"

static int
score_rows(const AnModel *model)
{
	return model->score_rows > 0 ? model->score_rows : AN_SCORE_BATCH;
}

AnStatus
an_model_ready(AnContext *ctx, AnModel *model)
{
	if (!model->scratch)
		model->scratch = an_alloc_array(ctx, (size_t) score_rows(model) * model->spec.dim,
										sizeof(float));
	return model->scratch ? AN_OK : an_nomem(ctx);
}

/*
 * A non-finite score never passes as normal: NaN compares false with any
 * threshold, so it would evade "score > threshold".  It becomes +Infinity.
 */
static void
finite_or_worst(double *out, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!isfinite(out[k]))
			out[k] = INFINITY;
}

/* the method's scores of n scaled rows, as they come (training needs them) */
static void
score_scaled_as_is(AnModel *model, const float *x, size_t n, double *out)
{
	int			dim = model->spec.dim;
	int			rows = score_rows(model);

	for (size_t i = 0; i < n;)
	{
		int			m = (int) (n - i < (size_t) rows ? n - i : (size_t) rows);

		/* no row alone in the last block: one row takes another kernel */
		if (m > 2 && n - i - m == 1)
			m--;
		model->method->score(model->state, x + i * dim, m, out + i);
		i += m;
	}
}

void
an_model_score_scaled(AnModel *model, const float *x, size_t n, double *out)
{
	score_scaled_as_is(model, x, n, out);
	finite_or_worst(out, n);
}

void
an_model_score_raw(AnModel *model, const double *raw, size_t n, double *out)
{
	int			dim = model->spec.dim;
	int			rows = score_rows(model);

	for (size_t i = 0; i < n; i += rows)
	{
		int			m = (int) (n - i < (size_t) rows ? n - i : (size_t) rows);

		for (int k = 0; k < m; k++)
			an_scaler_apply(&model->scaler, raw + (i + k) * dim,
							model->scratch + (size_t) k * dim);
		model->method->score(model->state, model->scratch, m, out + i);
		finite_or_worst(out + i, m);
	}
}

/*
 * The scores of every training row, in blocks, with an interrupt check
 * between blocks: on a large table this is seconds of work.  In the
 * decoded model's blocks (model->score_rows), whose bits the model's
 * scores have from now on, unless the method's scores do not depend on
 * the block: then in blocks of AN_SCORE_BATCH, which the trained state
 * takes (a block of 16 rows costs a transpose of every layer).
 */
static AnStatus
score_scaled_checked(AnContext *ctx, AnModel *model, const float *x, size_t n,
					 double *out)
{
	int			dim = model->spec.dim;
	int			saved = model->score_rows;
	size_t		block;
	AnStatus	st = AN_OK;

	if (model->method->rows_independent &&
		model->method->rows_independent(model->state))
		model->score_rows = AN_SCORE_BATCH;
	block = (size_t) score_rows(model) * 64;
	for (size_t i = 0; i < n; i += block)
	{
		if (an_check_interrupts(ctx))
		{
			st = an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
			break;
		}
		score_scaled_as_is(model, x + i * dim, n - i < block ? n - i : block, out + i);
	}
	model->score_rows = saved;
	return st;
}

/*
 * An allocation refused by the memory budget is reported as the budget's,
 * naming the method's options that size it (ctx->mem_options, for hosts).
 */
static AnStatus
over_budget(AnContext *ctx, const AnMethod *method, AnStatus st)
{
	if (st == AN_ERR_NOMEM && ctx->mem_exceeded)
	{
		ctx->mem_options = an_method_sizing_options(method);
		return an_error(ctx, AN_ERR_INVALID,
						"training needs more memory than its budget of %zu kB: lower %s",
						ctx->mem_limit / 1024, ctx->mem_options);
	}
	return st;
}

AnStatus
an_model_fit(AnContext *ctx, AnModel *model, const AnOptions *opts,
			 const float *x, size_t n)
{
	int			dim = model->spec.dim;
	AnRng		rng;
	AnTrainResult result;
	double	   *scores;
	AnStatus	st;

	if (n < AN_MIN_TRAIN_ROWS)
		return an_error(ctx, AN_ERR_INVALID, "training needs at least %d rows, got %zu",
						AN_MIN_TRAIN_ROWS, n);
	/* an overflowing scaler would make every score meaningless */
	{
		int			bad = an_scaler_bad_dim(&model->scaler);

		if (bad >= 0)
			return an_error(ctx, AN_ERR_NUMERIC,
							"the values of input dimension %d are too large to scale (beyond %g)",
							bad, AN_MAX_SCALER_VALUE);
	}
	an_rng_seed(&rng, opts->seed);
	model->method = opts->method;
	/*
	 * Blocks of the size a decoded model uses, for the threshold as for
	 * every later score: BLAS results depend on the block size in the last
	 * bits, and the trained model must score exactly as its document does.
	 */
	model->score_rows = AN_DECODE_BATCH;
	model->seed = opts->seed;
	model->contamination = opts->contamination;

	st = an_method_train(ctx, opts, x, n, dim, &rng, &model->state, &result);
	if (st != AN_OK)
		return over_budget(ctx, opts->method, st);
	if (opts->method->train_summary)
		opts->method->train_summary(model->state, &result.epochs_run, &result.loss);

	/* threshold and calibration quantiles from the scores of every row */
	scores = an_alloc_array(ctx, n, sizeof(double));
	if (!scores)
		return over_budget(ctx, opts->method, an_nomem(ctx));
	st = score_scaled_checked(ctx, model, x, n, scores);
	if (st != AN_OK)
	{
		an_free(ctx, scores);
		return st;
	}
	for (size_t i = 0; i < n; i++)
	{
		if (!isfinite(scores[i]))
		{
			an_free(ctx, scores);
			return an_error(ctx, AN_ERR_NUMERIC,
							"training produced a non-finite score");
		}
	}
	an_sort_doubles(scores, n);
	for (int q = 0; q < AN_N_QUANTILES; q++)
		model->quantiles[q] = an_quantile_sorted(scores, n,
												 (double) q / (AN_N_QUANTILES - 1));
	if (opts->contamination_auto)
	{
		/* the share of training rows it flags is recorded as the contamination */
		size_t		above = 0;
		AnStatus	st = an_threshold_auto(ctx, scores, n, &model->threshold);

		if (st != AN_OK)
		{
			an_free(ctx, scores);
			return st;
		}
		for (size_t i = 0; i < n; i++)
			above += scores[i] > model->threshold;
		model->contamination = (double) above / (double) n;
	}
	else
		model->threshold = an_quantile_sorted(scores, n, 1.0 - opts->contamination);
	an_free(ctx, scores);

	model->trained_rows = (int64_t) n;
	model->epochs_run = result.epochs_run;
	model->loss = result.loss;
	return over_budget(ctx, opts->method, an_model_ready(ctx, model));
}

void
an_model_free(AnContext *ctx, AnModel *model)
{
	if (model->state && model->method)
		model->method->destroy(ctx, model->state);
	model->state = NULL;
	an_spec_free(ctx, &model->spec);
	an_scaler_free(ctx, &model->scaler);
	an_free(ctx, model->scratch);
	model->scratch = NULL;
}

/* ---- document ---- */

static void
pack_features(AnPacker *pk, const AnFeatureSpec *spec)
{
	an_pack_str(pk, "features");
	msgpack_pack_array(pk, spec->n_features);
	for (int i = 0; i < spec->n_features; i++)
	{
		const AnFeature *f = &spec->features[i];

		msgpack_pack_map(pk, 4);
		an_pack_key_str(pk, "name", f->name);
		an_pack_key_str(pk, "kind", an_feature_kind_name(f->kind));
		an_pack_key_real(pk, "fill", f->fill);
		an_pack_str(pk, "categories");
		msgpack_pack_array(pk, f->n_categories);
		for (int c = 0; c < f->n_categories; c++)
			an_pack_str(pk, f->categories[c]);
	}
}

AnStatus
an_model_encode(AnContext *ctx, const AnModel *model, char **data, size_t *len)
{
	AnBuffer	buf;
	AnPacker	pk;
	int			dim = model->spec.dim;

	an_buffer_init(&buf, ctx);
	an_packer_init(&pk, &buf);

	msgpack_pack_map(&pk, 10);
	an_pack_key_str(&pk, "format", AN_FORMAT_TAG);
	an_pack_key_int(&pk, "format_version", AN_FORMAT_VERSION);
	an_pack_key_str(&pk, "method", model->method->name);
	pack_features(&pk, &model->spec);

	an_pack_str(&pk, "scaler");
	msgpack_pack_map(&pk, 3);
	an_pack_key_str(&pk, "kind", an_scaler_name(model->scaler.kind));
	an_pack_key_reals(&pk, "offset", model->scaler.offset, dim);
	an_pack_key_reals(&pk, "scale", model->scaler.scale, dim);

	an_pack_str(&pk, "state");
	{
		AnStatus	st = model->method->encode(ctx, model->state, &pk);

		if (st != AN_OK)
		{
			an_free(ctx, buf.data);
			return st;
		}
	}

	an_pack_key_real(&pk, "threshold", model->threshold);
	an_pack_key_real(&pk, "contamination", model->contamination);
	an_pack_key_reals(&pk, "score_quantiles", model->quantiles, AN_N_QUANTILES);

	an_pack_str(&pk, "training");
	msgpack_pack_map(&pk, 4);
	an_pack_key_int(&pk, "rows", model->trained_rows);
	an_pack_key_int(&pk, "epochs", model->epochs_run);
	an_pack_key_real(&pk, "loss", isfinite(model->loss) ? model->loss : 0.0);
	an_pack_str(&pk, "seed");
	msgpack_pack_uint64(&pk, model->seed);

	if (buf.failed)
	{
		an_free(ctx, buf.data);
		return an_nomem(ctx);
	}
	*data = buf.data;
	*len = buf.len;
	return AN_OK;
}

static AnStatus
decode_features(AnContext *ctx, const AnObject *doc, AnFeatureSpec *spec)
{
	const AnObject *arr;
	uint32_t	n;

	AN_TRY(an_get_array(ctx, doc, "features", &arr));
	n = arr->via.array.size;
	if (n < 1 || n > 100000)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: %u features", n);
	spec->features = an_alloc_array(ctx, n, sizeof(AnFeature));
	if (!spec->features)
		return an_nomem(ctx);
	spec->n_features = (int) n;

	for (uint32_t i = 0; i < n; i++)
	{
		const AnObject *fo = &arr->via.array.ptr[i];
		AnFeature  *f = &spec->features[i];
		const AnObject *cats;
		char	   *kind;
		bool		known;

		AN_TRY(an_get_str(ctx, fo, "name", &f->name));
		AN_TRY(an_get_str(ctx, fo, "kind", &kind));
		known = an_feature_kind_parse(kind, &f->kind);
		an_free(ctx, kind);
		if (!known)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: feature \"%s\" has an unknown kind", f->name);
		AN_TRY(an_get_real(ctx, fo, "fill", &f->fill));
		AN_TRY(an_get_array(ctx, fo, "categories", &cats));
		if (cats->via.array.size > 100000 ||
			(f->kind != AN_FEATURE_CATEGORICAL && cats->via.array.size > 0))
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: feature \"%s\" has bad categories", f->name);
		if (cats->via.array.size > 0)
		{
			f->categories = an_alloc_array(ctx, cats->via.array.size, sizeof(char *));
			if (!f->categories)
				return an_nomem(ctx);
			for (uint32_t c = 0; c < cats->via.array.size; c++)
			{
				const AnObject *co = &cats->via.array.ptr[c];

				if (co->type != MSGPACK_OBJECT_STR)
					return an_error(ctx, AN_ERR_CORRUPT,
									"corrupt model document: a category of feature \"%s\" is not a string",
									f->name);
				f->categories[c] = an_object_strdup(ctx, co);
				if (!f->categories[c])
					return an_nomem(ctx);
				f->n_categories = (int) c + 1;
			}
		}
	}
	return an_spec_layout(ctx, spec);
}

static AnStatus
decode_document(AnContext *ctx, const AnObject *doc, AnModel *model)
{
	const AnObject *scaler;
	const AnObject *state;
	const AnObject *training;
	const AnObject *method;
	const AnObject *tag;
	int64_t		version;
	int64_t		i;
	char	   *kind;
	bool		known;
	char		name[64];

	if (doc->type != MSGPACK_OBJECT_MAP)
		return an_error(ctx, AN_ERR_CORRUPT, "corrupt model document: not a msgpack map");
	tag = an_map_get(doc, "format");
	if (!tag || !an_object_str_eq(tag, AN_FORMAT_TAG))
		return an_error(ctx, AN_ERR_CORRUPT,
						"not an anomaly model document: the \"format\" tag is missing");
	AN_TRY(an_get_int(ctx, doc, "format_version", 1, INT32_MAX, &version));
	if (version > AN_FORMAT_VERSION)
		return an_error(ctx, AN_ERR_CORRUPT,
						"model format version %lld is newer than this library supports (%d)",
						(long long) version, AN_FORMAT_VERSION);

	method = an_map_get(doc, "method");
	if (!method || method->type != MSGPACK_OBJECT_STR ||
		method->via.str.size >= sizeof(name))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"method\" is missing or not a string");
	memcpy(name, method->via.str.ptr, method->via.str.size);
	name[method->via.str.size] = '\0';
	model->method = an_method_lookup(name);
	if (!model->method)
		return an_error(ctx, AN_ERR_CORRUPT,
						"model document uses unknown method \"%s\"", name);

	AN_TRY(decode_features(ctx, doc, &model->spec));

	AN_TRY(an_get_map(ctx, doc, "scaler", &scaler));
	AN_TRY(an_get_str(ctx, scaler, "kind", &kind));
	known = an_scaler_parse(kind, &model->scaler.kind);
	an_free(ctx, kind);
	if (!known)
		return an_error(ctx, AN_ERR_CORRUPT, "corrupt model document: unknown scaler");
	{
		AnScalerKind skind = model->scaler.kind;

		AN_TRY(an_scaler_alloc(ctx, &model->scaler, model->spec.dim));
		model->scaler.kind = skind;
	}
	AN_TRY(an_get_reals(ctx, scaler, "offset", model->scaler.offset, model->spec.dim));
	AN_TRY(an_get_reals(ctx, scaler, "scale", model->scaler.scale, model->spec.dim));
	{
		int			bad = an_scaler_bad_dim(&model->scaler);

		if (bad >= 0)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: the scaler's offset or scale of dimension %d is out of range",
							bad);
	}

	AN_TRY(an_get_map(ctx, doc, "state", &state));
	AN_TRY(model->method->decode(ctx, state, model->spec.dim, &model->state));

	AN_TRY(an_get_real(ctx, doc, "threshold", &model->threshold));
	AN_TRY(an_get_real(ctx, doc, "contamination", &model->contamination));
	AN_TRY(an_get_reals(ctx, doc, "score_quantiles", model->quantiles, AN_N_QUANTILES));
	/* 0 when contamination "auto" put the threshold above every training row */
	if (!(model->contamination >= 0.0 && model->contamination <= 0.5))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: field \"contamination\" is not in [0, 0.5]");

	AN_TRY(an_get_map(ctx, doc, "training", &training));
	AN_TRY(an_get_int(ctx, training, "rows", 0, INT64_MAX, &model->trained_rows));
	AN_TRY(an_get_int(ctx, training, "epochs", 0, INT32_MAX, &i));
	model->epochs_run = (int) i;
	AN_TRY(an_get_real(ctx, training, "loss", &model->loss));
	{
		const AnObject *seed = an_map_get(training, "seed");

		if (!seed || seed->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return an_error(ctx, AN_ERR_CORRUPT,
							"corrupt model document: field \"seed\" is missing or not an unsigned integer");
		model->seed = seed->via.u64;
	}
	return an_model_ready(ctx, model);
}

/*
 * The allocator a document is decoded with: it passes every allocation to
 * the caller's, once it has checked that the running total stays within
 * the budget.  Whatever a method's decoder allocates, present or future,
 * counts, so a small document cannot make every backend that scores it
 * allocate gigabytes.
 */
typedef struct DecodeBudget
{
	AnContext  *outer;
	size_t		used;
	size_t		limit;
	bool		exceeded;
} DecodeBudget;

static void *
budget_alloc(void *arg, size_t size)
{
	DecodeBudget *b = arg;
	void	   *p;

	if (size > b->limit - b->used)
	{
		b->exceeded = true;
		return NULL;
	}
	p = b->outer->alloc(b->outer->arg, size);
	if (p)
		b->used += size;
	return p;
}

static void
budget_free(void *arg, void *ptr)
{
	DecodeBudget *b = arg;

	b->outer->free(b->outer->arg, ptr);
}

AnStatus
an_model_decode(AnContext *ctx, const char *data, size_t len, AnModel *model)
{
	msgpack_unpacked msg;
	msgpack_unpack_return ret;
	size_t		offset = 0;
	AnStatus	st;
	AnContext	inner;
	DecodeBudget budget;

	memset(model, 0, sizeof(*model));
	model->score_rows = AN_DECODE_BATCH;
	/* before msgpack-c allocates what the headers claim, check they fit */
	AN_TRY(an_msgpack_check(ctx, data, len));

	memset(&budget, 0, sizeof(budget));
	budget.outer = ctx;
	budget.limit = AN_DECODE_FIXED_BYTES +
		(len < SIZE_MAX / 8 ? len * AN_DECODE_BYTES_PER_DOC_BYTE : SIZE_MAX / 2);
	memset(&inner, 0, sizeof(inner));
	inner.alloc = budget_alloc;
	inner.free = budget_free;
	inner.arg = &budget;

	msgpack_unpacked_init(&msg);
	ret = msgpack_unpack_next(&msg, data, len, &offset);
	if (ret != MSGPACK_UNPACK_SUCCESS)
		st = an_error(ctx, AN_ERR_CORRUPT, "corrupt model document: %s",
					  ret == MSGPACK_UNPACK_CONTINUE ? "truncated msgpack data"
					  : ret == MSGPACK_UNPACK_NOMEM_ERROR ? "msgpack data too large"
					  : "invalid msgpack data");
	else if (offset != len)
		st = an_error(ctx, AN_ERR_CORRUPT,
					  "corrupt model document: %zu trailing bytes", len - offset);
	else
	{
		st = decode_document(&inner, &msg.data, model);
		if (st != AN_OK && budget.exceeded)
			st = an_error(ctx, AN_ERR_CORRUPT,
						  "model document of %zu bytes would need more than %zu bytes of memory once decoded",
						  len, budget.limit);
		else if (st != AN_OK)
			memcpy(ctx->errmsg, inner.errmsg, sizeof(ctx->errmsg));
	}
	msgpack_unpacked_destroy(&msg);
	if (st != AN_OK)
		an_model_free(ctx, model);
	return st;
}
