/*-------------------------------------------------------------------------
 *
 * core_quality.c
 *	  Detection quality of a method straight from the numeric core, without
 *	  a server: for tuning a method's defaults quickly.
 *
 *	  build/core_quality <method> <file.csv> [split=F split_seed=S] [key=value ...]
 *
 * Reads a CSV with header f0,...,label (label 1 = anomaly), standardises
 * every column (mean, population standard deviation), trains on all rows
 * with the label left out, scores them, and prints AUROC (ties averaged)
 * and average precision, then what the model's threshold flags: the share
 * of training rows (the stored contamination), the false-positive rate
 * and the recall among the scored rows.  Option values are JSON-like: numbers, strings,
 * true/false, or [a,b,...] arrays of numbers.  With split=F (0 < F < 1)
 * it trains on the rows an_bench_in_train() puts in the training part
 * (the same rule as test/bench/quality.sh and reference_split.py), scales
 * with their statistics, and scores the other rows only.  The figures that count are
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

/*
 * The split rule shared with quality.sh (SQL) and reference_split.py: row
 * i (0-based, file order) is a training row for seed s when
 * hash32((i + s * 0x9E3779B1) mod 2^32) / 2^32 < fraction, hash32 being
 * two rounds of xor-shift-multiply (0x45d9f3b) and a final xor-shift.
 */
static uint32_t
hash32(uint32_t x)
{
	x = ((x >> 16) ^ x) * 0x45d9f3bu;
	x = ((x >> 16) ^ x) * 0x45d9f3bu;
	return (x >> 16) ^ x;
}

static bool
in_train(size_t i, uint32_t seed, double fraction)
{
	return hash32((uint32_t) i + seed * 0x9E3779B1u) / 4294967296.0 < fraction;
}

/* trace=1: one line per epoch, for loss comparisons (test/bench/parity.py) */
static void
trace_epoch(void *arg, const AnEpochReport *r)
{
	(void) arg;
	printf("epoch %d phase %s train_loss %.6f val_loss %.6f seconds %.4f\n",
		   r->epoch, r->phase, r->train_loss, r->val_loss, r->seconds);
	fflush(stdout);
}

/*
 * time_score=1 prints the time to score the rows one at a time, as
 * anomaly_score() does in SQL, with the model decoded from its document
 * as a backend's cache holds it: the method's per-row cost without the
 * server's.
 */
static void
time_one_row_scoring(AnContext *ctx, const AnModel *trained, const double *raw,
					 size_t n, int dim)
{
	struct timespec t0,
				t1;
	double		sum = 0.0,
				s;
	char	   *doc;
	size_t		len;
	AnModel		model;

	if (an_model_encode(ctx, trained, &doc, &len) != AN_OK ||
		an_model_decode(ctx, doc, len, &model) != AN_OK)
	{
		fprintf(stderr, "encoding or decoding failed: %s\n", ctx->errmsg);
		exit(1);
	}
	an_free(ctx, doc);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++)
	{
		an_model_score_raw(&model, raw + i * dim, 1, &s);
		sum += s;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("one-row scoring: %.0f ns a row (checksum %g)\n",
		   ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double) n, sum);
	an_model_free(ctx, &model);
}

/*
 * dump=PREFIX writes PREFIX.train (the scores of the training rows, one a
 * line) and PREFIX.test (score and label of each scored row): the raw
 * material for trying ways of combining methods without retraining them.
 */
static void
dump_scores(AnModel *model, const char *prefix, const double *raw, size_t n_train,
			const double *scores, const int *labels, size_t n_scored, int dim)
{
	char		path[4096];
	double	   *train = malloc(n_train * sizeof(double));
	FILE	   *f;

	an_model_score_raw(model, raw, n_train, train);
	snprintf(path, sizeof(path), "%s.train", prefix);
	f = fopen(path, "w");
	for (size_t i = 0; f && i < n_train; i++)
		fprintf(f, "%.17g\n", train[i]);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s.test", prefix);
	f = fopen(path, "w");
	for (size_t i = 0; f && i < n_scored; i++)
		fprintf(f, "%.17g %d\n", scores[i], labels[i]);
	if (f)
		fclose(f);
	free(train);
	(void) dim;
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
				n_train,
				n_scored,
				cap = 1024;
	double		split = 0;
	const char *dump = NULL;
	int			time_score = 0;
	uint32_t	split_seed = 0;
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
	{
		if (strncmp(argv[i], "split=", 6) == 0)
			split = strtod(argv[i] + 6, NULL);
		else if (strncmp(argv[i], "trace=", 6) == 0)
			ctx.progress = atoi(argv[i] + 6) ? trace_epoch : NULL;
		else if (strncmp(argv[i], "time_score=", 11) == 0)
			time_score = atoi(argv[i] + 11);
		else if (strncmp(argv[i], "dump=", 5) == 0)
			dump = argv[i] + 5;
		else if (strncmp(argv[i], "split_seed=", 11) == 0)
			split_seed = (uint32_t) strtoul(argv[i] + 11, NULL, 10);
		else
			set_option(&ctx, &opts, argv[i]);
	}

	/* training rows first, then the scored rows */
	n_train = n;
	if (split > 0 && split < 1)
	{
		double	   *reordered = malloc(n * dim * sizeof(double));
		int		   *relabels = malloc(n * sizeof(int));
		size_t		a = 0,
					b = 0;

		for (size_t i = 0; i < n; i++)
			a += in_train(i, split_seed, split);
		n_train = a;
		b = a;
		a = 0;
		for (size_t i = 0; i < n; i++)
		{
			size_t		to = in_train(i, split_seed, split) ? a++ : b++;

			memcpy(reordered + to * dim, raw + i * dim, dim * sizeof(double));
			relabels[to] = labels[i];
		}
		free(raw);
		free(labels);
		raw = reordered;
		labels = relabels;
	}
	an_options_resolve(&opts, dim, n_train);

	memset(&model, 0, sizeof(model));
	model.spec.n_features = dim;
	model.spec.features = calloc(dim, sizeof(AnFeature));
	for (int j = 0; j < dim; j++)
	{
		model.spec.features[j].name = malloc(16);
		snprintf(model.spec.features[j].name, 16, "f%d", j);
	}
	an_spec_layout(&ctx, &model.spec);
	an_scaler_fit(&ctx, &model.scaler, opts.scaler, raw, n_train, dim, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		double	   *copy = malloc(n_train * dim * sizeof(double));
		float	   *x;

		memcpy(copy, raw, n_train * dim * sizeof(double));
		x = an_scaler_apply_compact(&model.scaler, copy, n_train);
		if (an_model_fit(&ctx, &model, &opts, x, n_train) != AN_OK)
		{
			fprintf(stderr, "training failed: %s\n", ctx.errmsg);
			return 1;
		}
		free(copy);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	/* without a split, every row is scored; with one, the held-out rows */
	{
		size_t		first = n_train < n ? n_train : 0;

		scores = malloc((n - first) * sizeof(double));
		an_model_score_raw(&model, raw + first * dim, n - first, scores);
		metrics(scores, labels + first, n - first, &auroc, &ap);
		n_scored = n - first;
		if (time_score)
			time_one_row_scoring(&ctx, &model, raw + first * dim, n - first, dim);
		if (dump)
			dump_scores(&model, dump, raw, n_train, scores, labels + first, n_scored, dim);
	}
	printf("%s %s rows %zu dims %d epochs %d auroc %.4f auprc %.4f seconds %.2f loss %.6f",
		   argv[1], argv[2], n_scored, dim, model.epochs_run, auroc, ap,
		   (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9,
		   model.loss);
	/* what the model's threshold flags among the scored rows, by class */
	{
		size_t		first = n_train < n ? n_train : 0;
		double		normal = 0,
					anomalies = 0,
					fp = 0,
					tp = 0;

		for (size_t i = 0; i < n_scored; i++)
		{
			bool		flagged = scores[i] > model.threshold;

			if (labels[first + i])
			{
				anomalies++;
				tp += flagged;
			}
			else
			{
				normal++;
				fp += flagged;
			}
		}
		printf(" threshold %.6g train_flagged %.4f fpr %.4f recall %.4f\n",
			   model.threshold, model.contamination,
			   normal > 0 ? fp / normal : NAN, anomalies > 0 ? tp / anomalies : NAN);
	}
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	free(raw);
	free(labels);
	free(scores);
	return 0;
}
