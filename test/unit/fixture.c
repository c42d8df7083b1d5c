/*-------------------------------------------------------------------------
 *
 * fixture.c
 *	  The synthetic data set and the shared trained autoencoder.
 *
 * IDENTIFICATION
 *	  test/unit/fixture.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

static const char *const numeric_names[FIX_NUMERIC] = {
	"amount", "ratio", "depth", "balance", "mix"
};
static const char *const merchant_categories[2] = {"grocery", "fuel"};

/* numeric columns from two latents: mixed offsets and scales */
static void
numeric_columns(double z1, double z2, double *out)
{
	out[0] = 50.0 + 10.0 * z1;
	out[1] = 0.8 * z1 + 0.6 * z2;
	out[2] = 3.0 * z2 - 1.0;
	out[3] = 1000.0 + 100.0 * (z1 - z2);
	out[4] = 0.5 * (z1 + z2);
}

/* column standard deviations of numeric_columns, for noise and outliers */
static const double numeric_std[FIX_NUMERIC] = {10.0, 1.0, 3.0, 141.42, 0.7071};

static void
encode_row(AnRng *rng, double z1, double z2, double *row)
{
	numeric_columns(z1, z2, row);
	for (int j = 0; j < FIX_NUMERIC; j++)
		row[j] += 0.05 * numeric_std[j] * an_rng_normal(rng);
	/* weekend: boolean */
	row[5] = z2 > 0 ? 1.0 : 0.0;
	/* merchant: grocery, fuel or other, one-hot */
	row[6] = z1 > 0.5 ? 1.0 : 0.0;
	row[7] = z1 < -0.5 ? 1.0 : 0.0;
	row[8] = 1.0 - row[6] - row[7];
}

double *
fixture_rows(uint64_t seed, size_t n)
{
	double	   *raw = malloc(n * FIX_DIM * sizeof(double) + 1);
	AnRng		rng;

	an_rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++)
	{
		double		z1 = an_rng_normal(&rng);
		double		z2 = an_rng_normal(&rng);

		encode_row(&rng, z1, z2, raw + i * FIX_DIM);
	}
	return raw;
}

double *
fixture_outliers(uint64_t seed, size_t n)
{
	/* push the numeric part 3 standard deviations off in a +-+- pattern */
	static const double push[FIX_NUMERIC] = {3, -3, 3, 3, -3};
	double	   *raw = fixture_rows(seed, n);

	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < FIX_NUMERIC; j++)
			raw[i * FIX_DIM + j] += push[j] * numeric_std[j];
	return raw;
}

AnStatus
fixture_prepare(AnContext *ctx, AnModel *model, const double *raw, size_t n,
				AnScalerKind scaler, float **x)
{
	AnFeatureSpec *spec = &model->spec;
	AnFeature  *f;
	bool		fit_dim[FIX_DIM];
	double	   *buf;

	memset(model, 0, sizeof(*model));
	spec->features = an_alloc_array(ctx, FIX_NUMERIC + 2, sizeof(AnFeature));
	if (!spec->features)
		return an_nomem(ctx);
	spec->n_features = FIX_NUMERIC + 2;
	f = spec->features;
	for (int i = 0; i < FIX_NUMERIC; i++)
	{
		f[i].name = an_strdup(ctx, numeric_names[i]);
		f[i].kind = AN_FEATURE_NUMERIC;
	}
	f[FIX_NUMERIC].name = an_strdup(ctx, "weekend");
	f[FIX_NUMERIC].kind = AN_FEATURE_BOOLEAN;
	f[FIX_NUMERIC].fill = 0.5;
	f[FIX_NUMERIC + 1].name = an_strdup(ctx, "merchant");
	f[FIX_NUMERIC + 1].kind = AN_FEATURE_CATEGORICAL;
	f[FIX_NUMERIC + 1].categories = an_alloc_array(ctx, 2, sizeof(char *));
	if (!f[FIX_NUMERIC + 1].categories)
		return an_nomem(ctx);
	for (int c = 0; c < 2; c++)
	{
		f[FIX_NUMERIC + 1].categories[c] = an_strdup(ctx, merchant_categories[c]);
		if (!f[FIX_NUMERIC + 1].categories[c])
			return an_nomem(ctx);
		f[FIX_NUMERIC + 1].n_categories = c + 1;
	}
	for (int i = 0; i < FIX_NUMERIC + 2; i++)
		if (!f[i].name)
			return an_nomem(ctx);
	/* the training means, as the host imputes NULLs */
	for (int i = 0; i < FIX_NUMERIC; i++)
	{
		double		sum = 0;

		for (size_t r = 0; r < n; r++)
			sum += raw[r * FIX_DIM + i];
		f[i].fill = n ? sum / n : 0;
	}
	AN_TRY(an_spec_layout(ctx, spec));
	if (spec->dim != FIX_DIM)
		return an_error(ctx, AN_ERR_INVALID, "fixture layout has %d dimensions", spec->dim);

	for (int j = 0; j < FIX_DIM; j++)
		fit_dim[j] = j < FIX_NUMERIC;
	AN_TRY(an_scaler_fit(ctx, &model->scaler, scaler, raw, n, FIX_DIM, fit_dim));

	/* scale a copy in place, as a host's training load does */
	buf = malloc(n * FIX_DIM * sizeof(double) + 1);
	memcpy(buf, raw, n * FIX_DIM * sizeof(double));
	*x = an_scaler_apply_compact(&model->scaler, buf, n);
	return AN_OK;
}

AnStatus
fixture_options(AnContext *ctx, AnOptions *opts, int epochs, uint64_t seed, size_t n)
{
	static const double hidden[1] = {16};
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};

	AN_TRY(an_options_init(ctx, opts, an_method_lookup("autoencoder")));
	AN_TRY(an_options_set(ctx, opts, "hidden", &v));
	v.kind = AN_OPTION_NUMBER;
	v.number = 3;
	AN_TRY(an_options_set(ctx, opts, "latent", &v));
	/* one network: the fixture's figures (epochs, reports, scores) are a network's */
	v.number = 1;
	AN_TRY(an_options_set(ctx, opts, "networks", &v));
	v.number = epochs;
	AN_TRY(an_options_set(ctx, opts, "epochs", &v));
	v.number = 64;
	AN_TRY(an_options_set(ctx, opts, "batch_size", &v));
	v.number = 0.01;
	AN_TRY(an_options_set(ctx, opts, "learning_rate", &v));
	v.number = (double) seed;
	AN_TRY(an_options_set(ctx, opts, "seed", &v));
	an_options_resolve(opts, FIX_DIM, n);
	return AN_OK;
}

AnStatus
fixture_quick_options(AnContext *ctx, AnOptions *opts, const AnMethod *method,
					  uint64_t seed, int epochs)
{
	static const double hidden[1] = {16};
	AnOptionValue h = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};
	AnOptionValue v;

	AN_TRY(an_options_init(ctx, opts, method));
	v = unit_num((double) seed);
	AN_TRY(an_options_set(ctx, opts, "seed", &v));
	if (an_method_is_gradient(method) || method->network_options)
	{
		AN_TRY(an_options_set(ctx, opts, "hidden", &h));
		v = unit_num(3);
		AN_TRY(an_options_set(ctx, opts, "latent", &v));
		v = unit_num(epochs);
		AN_TRY(an_options_set(ctx, opts, "epochs", &v));
		v = unit_num(32);
		AN_TRY(an_options_set(ctx, opts, "batch_size", &v));
		v = unit_num(0.01);
		AN_TRY(an_options_set(ctx, opts, "learning_rate", &v));
	}
	return AN_OK;
}

AnStatus
fixture_fit(AnContext *ctx, AnModel *model, size_t n, int epochs, uint64_t seed,
			float **x)
{
	double	   *raw = fixture_rows(seed + 1000, n);
	float	   *scaled = NULL;
	AnOptions	opts;
	AnStatus	st;

	st = fixture_prepare(ctx, model, raw, n, AN_SCALER_STANDARD, &scaled);
	if (st == AN_OK)
		st = fixture_options(ctx, &opts, epochs, seed, n);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, &opts, scaled, n);
	an_options_free(ctx, &opts);
	free(raw);
	if (x)
		*x = scaled;
	else
		free(scaled);
	return st;
}

/* ---- a method's state, read back from its own encoding ---- */

/* the mean and population covariance (var 0, covariance, var 1) of n 2-D rows */
static void
moments_2d(const float *x, int n, double *mean, double *cov)
{
	mean[0] = mean[1] = 0.0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < 2; j++)
			mean[j] += x[i * 2 + j] / (double) n;
	cov[0] = cov[1] = cov[2] = 0.0;
	for (int i = 0; i < n; i++)
	{
		double		a = x[i * 2] - mean[0],
					b = x[i * 2 + 1] - mean[1];

		cov[0] += a * a / n;
		cov[1] += a * b / n;
		cov[2] += b * b / n;
	}
}

bool
fixture_moments_match(const float *data, int n, const float *gen, int n_gen,
					  double mean_tol, double cov_tol)
{
	double		dm[2],
				dc[3],
				gm[2],
				gc[3];
	bool		ok = true;

	moments_2d(data, n, dm, dc);
	moments_2d(gen, n_gen, gm, gc);
	printf("  generator: mean %.3f %.3f (data %.3f %.3f), "
		   "cov %.3f %.3f %.3f (data %.3f %.3f %.3f)\n",
		   gm[0], gm[1], dm[0], dm[1], gc[0], gc[1], gc[2], dc[0], dc[1], dc[2]);
	for (int j = 0; j < 2; j++)
		ok = ok && fabs(gm[j] - dm[j]) < mean_tol;
	for (int j = 0; j < 3; j++)
		ok = ok && fabs(gc[j] - dc[j]) < cov_tol;
	return ok;
}

const AnObject *
fixture_state_object(AnContext *ctx, const AnMethod *method, const void *state,
					 FixtureState *doc)
{
	AnPacker	pk;
	size_t		off = 0;

	memset(doc, 0, sizeof(*doc));
	doc->ctx = ctx;
	an_buffer_init(&doc->buf, ctx);
	an_packer_init(&pk, &doc->buf);
	if (method->encode(ctx, state, &pk) != AN_OK || doc->buf.failed)
		return NULL;
	msgpack_unpacked_init(&doc->msg);
	doc->unpacked = true;
	if (msgpack_unpack_next(&doc->msg, doc->buf.data, doc->buf.len, &off) !=
		MSGPACK_UNPACK_SUCCESS || off != doc->buf.len)
		return NULL;
	return &doc->msg.data;
}

void
fixture_state_free(FixtureState *doc)
{
	if (doc->unpacked)
		msgpack_unpacked_destroy(&doc->msg);
	an_free(doc->ctx, doc->buf.data);
	doc->unpacked = false;
	doc->buf.data = NULL;
}

AnStatus
fixture_decode_packed(AnContext *ctx, const AnMethod *method, AnBuffer *buf,
					  int dim, void **state)
{
	msgpack_unpacked msg;
	size_t		off = 0;
	AnStatus	st;

	msgpack_unpacked_init(&msg);
	if (buf->failed ||
		msgpack_unpack_next(&msg, buf->data, buf->len, &off) != MSGPACK_UNPACK_SUCCESS)
	{
		unit_fail(__FILE__, __LINE__, "the hand-packed %s state does not unpack",
				  method->name);
		st = AN_ERR_CORRUPT;
	}
	else
		st = method->decode(ctx, &msg.data, dim, state);
	msgpack_unpacked_destroy(&msg);
	an_free(buf->ctx, buf->data);
	buf->data = NULL;
	return st;
}

/* ---- the shared model ---- */

static FixtureModel *shared;

static void
record_progress(void *arg, const AnEpochReport *report)
{
	FixtureModel *fm = arg;

	if (fm->n_reports < FIX_MAX_EPOCHS)
		fm->reports[fm->n_reports++] = *report;
}

void
fixture_model_context(FixtureModel *fm)
{
	unit_context_malloc(&fm->ctx);
	fm->ctx.progress = record_progress;
	fm->ctx.arg = fm;
}

FixtureModel *
fixture_model_train(FixtureOptionsFn make, const char *what)
{
	FixtureModel *fm = calloc(1, sizeof(FixtureModel));

	fixture_model_context(fm);
	fm->n = 2000;
	fm->raw = fixture_rows(42, fm->n);
	fm->status = fixture_prepare(&fm->ctx, &fm->model, fm->raw, fm->n,
								 AN_SCALER_STANDARD, &fm->x);
	if (fm->status == AN_OK)
		fm->status = make(&fm->ctx, &fm->opts, 60, 42, fm->n);
	if (fm->status == AN_OK)
		fm->status = an_model_fit(&fm->ctx, &fm->model, &fm->opts, fm->x, fm->n);
	if (fm->status != AN_OK)
		unit_fail(__FILE__, __LINE__, "training the shared %s failed: %s",
				  what, fm->ctx.errmsg);
	return fm;
}

void
fixture_model_free(FixtureModel *fm)
{
	an_model_free(&fm->ctx, &fm->model);
	an_options_free(&fm->ctx, &fm->opts);
	free(fm->raw);
	free(fm->x);
	free(fm);
}

static void
free_shared(void)
{
	if (shared)
		fixture_model_free(shared);
	shared = NULL;
}

FixtureModel *
fixture_trained(void)
{
	if (!shared)
	{
		shared = fixture_model_train(fixture_options, "model");
		atexit(free_shared);
	}
	return shared;
}

void
fixture_count_flagged(AnModel *model, int n, int *outliers_flagged, int *normal_flagged)
{
	double	   *out = fixture_outliers(7, n);
	double	   *normal = fixture_rows(8, n);
	double	   *s_out = malloc(sizeof(double) * n);
	double	   *s_norm = malloc(sizeof(double) * n);

	an_model_score_raw(model, out, n, s_out);
	an_model_score_raw(model, normal, n, s_norm);
	*outliers_flagged = *normal_flagged = 0;
	for (int i = 0; i < n; i++)
	{
		*outliers_flagged += s_out[i] > model->threshold;
		*normal_flagged += s_norm[i] > model->threshold;
	}
	free(out);
	free(normal);
	free(s_out);
	free(s_norm);
}

double
fixture_activation(AnActivation act, double x)
{
	switch (act)
	{
		case AN_ACT_IDENTITY:
			return x;
		case AN_ACT_RELU:
			return x > 0 ? x : 0;
		case AN_ACT_LEAKY_RELU:
			return x > 0 ? x : 0.01 * x;
		case AN_ACT_SIGMOID:
			return 1.0 / (1.0 + exp(-x));
		case AN_ACT_TANH:
			return tanh(x);
	}
	return NAN;
}
