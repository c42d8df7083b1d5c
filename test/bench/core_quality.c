/*-------------------------------------------------------------------------
 *
 * core_quality.c
 *	  Detection quality of a method straight from the numeric core, without
 *	  a server: for tuning a method's defaults quickly.
 *
 *	  build/core_quality <method> <file.csv> [key=value ...]
 *
 * Reads a CSV with header f0,...,label (label 1 = anomaly), standardises
 * every column (mean, population standard deviation), trains on all rows
 * with the label left out, scores them, and prints AUROC (ties averaged)
 * and average precision.  Option values are JSON-like: numbers, strings,
 * true/false, or [a,b,...] arrays of numbers.  The figures that count are
 * the ones computed from SQL scores (test/bench/quality.sh); this tool
 * follows the same protocol.
 *
 * IDENTIFICATION
 *	  test/bench/core_quality.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anomaly/blas.h"
#include "anomaly/model.h"

typedef struct Pair
{
	double		score;
	int			label;
} Pair;

static int
by_score(const void *a, const void *b)
{
	double		x = ((const Pair *) a)->score,
				y = ((const Pair *) b)->score;

	return (x > y) - (x < y);
}

static void
metrics(const double *scores, const int *labels, size_t n, double *auroc, double *ap)
{
	Pair	   *p = malloc(n * sizeof(Pair));
	double		rank_sum = 0,
				npos = 0,
				tp = 0,
				sum_ap = 0;

	for (size_t i = 0; i < n; i++)
	{
		p[i].score = scores[i];
		p[i].label = labels[i];
		npos += labels[i];
	}
	qsort(p, n, sizeof(Pair), by_score);
	/* ascending: average ranks over ties */
	for (size_t i = 0; i < n;)
	{
		size_t		j = i;
		double		pos = 0;

		while (j < n && p[j].score == p[i].score)
			pos += p[j++].label;
		rank_sum += pos * ((double) (i + 1 + j) / 2.0);
		i = j;
	}
	*auroc = (rank_sum - npos * (npos + 1) / 2) / (npos * ((double) n - npos));
	/* descending: one precision point per distinct score */
	for (size_t i = n; i > 0;)
	{
		size_t		j = i;
		double		pos = 0;

		while (j > 0 && p[j - 1].score == p[i - 1].score)
			pos += p[--j].label;
		tp += pos;
		sum_ap += pos / npos * tp / (double) (n - j);
		i = j;
	}
	*ap = sum_ap;
	free(p);
}

static void
set_option(AnContext *ctx, AnOptions *opts, char *arg)
{
	char	   *eq = strchr(arg, '=');
	AnOptionValue v;
	double		items[64];
	char	   *end;

	if (!eq)
	{
		fprintf(stderr, "option %s: expected key=value\n", arg);
		exit(2);
	}
	*eq = '\0';
	memset(&v, 0, sizeof(v));
	if (eq[1] == '[')
	{
		char	   *p = eq + 2;

		v.kind = AN_OPTION_ARRAY;
		v.items = items;
		while (*p && *p != ']' && v.n_items < 64)
		{
			items[v.n_items++] = strtod(p, &end);
			p = end;
			while (*p == ',' || *p == ' ')
				p++;
		}
	}
	else if (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "false") == 0)
	{
		v.kind = AN_OPTION_BOOL;
		v.boolean = eq[1] == 't';
	}
	else
	{
		v.number = strtod(eq + 1, &end);
		if (*end == '\0' && end != eq + 1)
			v.kind = AN_OPTION_NUMBER;
		else
		{
			v.kind = AN_OPTION_STRING;
			v.string = eq + 1;
		}
	}
	if (an_options_set(ctx, opts, arg, &v) != AN_OK)
	{
		fprintf(stderr, "%s\n", ctx->errmsg);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	AnContext	ctx;
	AnOptions	opts;
	AnModel		model;
	const AnMethod *method;
	FILE	   *f;
	char		line[1 << 16];
	int			dim = 0;
	size_t		n = 0,
				cap = 1024;
	double	   *raw;
	int		   *labels;
	double	   *scores;
	double		auroc,
				ap;
	struct timespec t0,
				t1;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s method file.csv [key=value ...]\n", argv[0]);
		return 2;
	}
	an_context_init_malloc(&ctx);
	if (an_blas_load(&ctx) != AN_OK || !(method = an_method_lookup(argv[1])))
	{
		fprintf(stderr, "no BLAS or unknown method %s\n", argv[1]);
		return 2;
	}
	if (!(f = fopen(argv[2], "r")) || !fgets(line, sizeof(line), f))
	{
		perror(argv[2]);
		return 2;
	}
	for (char *p = line; *p; p++)
		dim += *p == ',';		/* columns minus the label */

	raw = malloc(cap * dim * sizeof(double));
	labels = malloc(cap * sizeof(int));
	while (fgets(line, sizeof(line), f))
	{
		char	   *p = line;

		if (n == cap)
		{
			cap *= 2;
			raw = realloc(raw, cap * dim * sizeof(double));
			labels = realloc(labels, cap * sizeof(int));
		}
		for (int j = 0; j < dim; j++)
		{
			raw[n * dim + j] = strtod(p, &p);
			p++;
		}
		labels[n++] = atoi(p);
	}
	fclose(f);

	an_options_init(&ctx, &opts, method);
	opts.seed = 42;
	for (int i = 3; i < argc; i++)
		set_option(&ctx, &opts, argv[i]);
	an_options_resolve(&opts, dim, n);

	memset(&model, 0, sizeof(model));
	model.spec.n_features = dim;
	model.spec.features = calloc(dim, sizeof(AnFeature));
	for (int j = 0; j < dim; j++)
	{
		model.spec.features[j].name = malloc(16);
		snprintf(model.spec.features[j].name, 16, "f%d", j);
	}
	an_spec_layout(&ctx, &model.spec);
	an_scaler_fit(&ctx, &model.scaler, opts.scaler, raw, n, dim, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		double	   *copy = malloc(n * dim * sizeof(double));
		float	   *x;

		memcpy(copy, raw, n * dim * sizeof(double));
		x = an_scaler_apply_compact(&model.scaler, copy, n);
		if (an_model_fit(&ctx, &model, &opts, x, n) != AN_OK)
		{
			fprintf(stderr, "training failed: %s\n", ctx.errmsg);
			return 1;
		}
		free(copy);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	scores = malloc(n * sizeof(double));
	an_model_score_raw(&model, raw, n, scores);
	metrics(scores, labels, n, &auroc, &ap);
	printf("%s %s rows %zu dims %d epochs %d auroc %.4f auprc %.4f seconds %.2f\n",
		   argv[1], argv[2], n, dim, model.epochs_run, auroc, ap,
		   (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	free(raw);
	free(labels);
	free(scores);
	return 0;
}
