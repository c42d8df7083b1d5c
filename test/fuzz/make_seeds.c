/*-------------------------------------------------------------------------
 *
 * make_seeds.c
 *	  Writes the fuzzers' seed corpora: a small real model of every
 *	  registered method (an_method_at, so a new method is included by its
 *	  registry line alone), and option lines for every method.
 *
 * Usage: make_seeds MODEL_DIR OPTIONS_DIR.  Run at build time: no binary
 * is committed.
 *
 * IDENTIFICATION
 *	  test/fuzz/make_seeds.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/model.h"
#include "anomaly/rng.h"

#define ROWS	200
#define DIM		5				/* 3 numeric, one categorical of 1 + other */

static int
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char		path[1024];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
	{
		perror(path);
		return 1;
	}
	return 0;
}

static AnStatus
set_num(AnContext *ctx, AnOptions *opts, const char *key, double x)
{
	AnOptionValue v = {.kind = AN_OPTION_NUMBER, .number = x};

	return an_options_set(ctx, opts, key, &v);
}

/* a small model of method on correlated rows, encoded */
static AnStatus
train(AnContext *ctx, const AnMethod *method, char **doc, size_t *len)
{
	static const double hidden[1] = {6};
	AnOptionValue h = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};
	AnModel		model;
	AnOptions	opts;
	AnRng		rng;
	double	   *raw = calloc((size_t) ROWS * DIM, sizeof(double));
	bool		fit_dim[DIM] = {true, true, true, false, false};
	static char *cats[1] = {"a"};
	AnStatus	st;

	memset(&model, 0, sizeof(model));
	an_rng_seed(&rng, 1);
	for (int i = 0; i < ROWS; i++)
	{
		double		t = (double) an_rng_below(&rng, 1000) / 100.0;

		raw[i * DIM + 0] = t;
		raw[i * DIM + 1] = 2 * t + 1;
		raw[i * DIM + 2] = sin(t);
		raw[i * DIM + 3 + (t > 5)] = 1.0;
	}
	model.spec.n_features = 4;
	model.spec.features = an_alloc_array(ctx, 4, sizeof(AnFeature));
	for (int i = 0; i < 4; i++)
	{
		AnFeature  *f = &model.spec.features[i];
		char		name[8];

		snprintf(name, sizeof(name), "c%d", i);
		f->name = an_strdup(ctx, name);
		f->kind = i < 3 ? AN_FEATURE_NUMERIC : AN_FEATURE_CATEGORICAL;
		if (i == 3)
		{
			f->n_categories = 1;
			f->categories = an_alloc_array(ctx, 1, sizeof(char *));
			f->categories[0] = an_strdup(ctx, cats[0]);
		}
	}
	st = an_spec_layout(ctx, &model.spec);
	if (st == AN_OK)
		st = an_scaler_fit(ctx, &model.scaler, AN_SCALER_STANDARD, raw, ROWS, DIM, fit_dim);
	if (st == AN_OK)
		st = an_options_init(ctx, &opts, method);
	if (st == AN_OK)
	{
		float	   *x = an_scaler_apply_compact(&model.scaler, raw, ROWS);

		st = set_num(ctx, &opts, "seed", 1);
		if (st == AN_OK && (an_method_is_gradient(method) || method->network_options))
		{
			st = an_options_set(ctx, &opts, "hidden", &h);
			if (st == AN_OK)
				st = set_num(ctx, &opts, "latent", 2);
			if (st == AN_OK)
				st = set_num(ctx, &opts, "epochs", 2);
			if (st == AN_OK)
				st = set_num(ctx, &opts, "batch_size", 32);
		}
		if (st == AN_OK)
		{
			an_options_resolve(&opts, DIM, ROWS);
			st = an_model_fit(ctx, &model, &opts, x, ROWS);
		}
		an_options_free(ctx, &opts);
	}
	if (st == AN_OK)
		st = an_model_encode(ctx, &model, doc, len);
	an_model_free(ctx, &model);
	free(raw);
	return st;
}

/* option lines (see fuzz_options.c), one seed per line set */
static const char *const option_seeds[] = {
	"n epochs=5\nn batch_size=32\na hidden=16,8\nn latent=3",
	"s activation=tanh\nn learning_rate=0.01\nn weight_decay=0.001",
	"n seed=42\nn validation_fraction=0.2\nn early_stopping_patience=3",
	"n contamination=0.05\nn max_rows=1000\ns scaler=robust\nn max_categories=5",
	"s objective=soft_boundary\nn nu=0.1\nn eps=0.1\nn pretrain_epochs=2",
	"n units=32\nb pretrain=true\nn rbf_centers=16\nn rbf_gamma=0.5",
	"n beta=1\ns score=elbo",
	"s members=autoencoder,deep_svdd\ns combine=max",
	"z epochs=\no hidden=x\na hidden=\nn latent=-1",
	NULL
};

int
main(int argc, char **argv)
{
	AnContext	ctx;
	int			failed = 0;

	if (argc != 3)
	{
		fprintf(stderr, "usage: make_seeds MODEL_DIR OPTIONS_DIR\n");
		return 2;
	}
	an_context_init_malloc(&ctx);
	if (an_blas_load(&ctx) != AN_OK)
	{
		fprintf(stderr, "make_seeds: %s\n", ctx.errmsg);
		return 1;
	}
	for (int i = 0; an_method_at(i); i++)
	{
		const AnMethod *m = an_method_at(i);
		char	   *doc;
		size_t		len;
		char		name[128];

		if (train(&ctx, m, &doc, &len) != AN_OK)
		{
			fprintf(stderr, "make_seeds: %s: %s\n", m->name, ctx.errmsg);
			failed = 1;
			continue;
		}
		snprintf(name, sizeof(name), "%s.msgpack", m->name);
		failed |= write_file(argv[1], name, doc, len);
		printf("%s: %zu bytes\n", name, len);
		an_free(&ctx, doc);

		for (int s = 0; option_seeds[s]; s++)
		{
			char		buf[512];
			size_t		n = strlen(option_seeds[s]);

			buf[0] = (char) i;
			buf[1] = (char) 9;
			memcpy(buf + 2, option_seeds[s], n);
			snprintf(name, sizeof(name), "%s-%d", m->name, s);
			failed |= write_file(argv[2], name, buf, n + 2);
		}
	}
	return failed;
}
