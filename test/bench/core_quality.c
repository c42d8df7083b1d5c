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
 * Three keys belong to the driver, not to the method:
 *	  split=F		train (and fit the scaler) on a fraction F of the rows and
 *					score the others only, as PyOD's benchmark does (60/40)
 *	  split_seed=N	which rows: the round(F n) rows with the smallest
 *					splitmix64(N * 2^32 + i), so that test/bench/parity.py
 *					draws the very same split in Python
 *	  trace=1		print one line per epoch: training loss (mean over the
 *					epoch's batches), validation loss and seconds
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

/* splitmix64 (Steele et al. 2014): one well-mixed 64-bit hash per row */
static uint64_t
splitmix64(uint64_t x)
{
	uint64_t	z = x + UINT64_C(0x9E3779B97F4A7C15);

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

typedef struct Keyed
{
	uint64_t	key;
	size_t		row;
} Keyed;

static int
by_key(const void *a, const void *b)
{
	uint64_t	x = ((const Keyed *) a)->key,
				y = ((const Keyed *) b)->key;

	if (x != y)
		return (x > y) - (x < y);
	return (((const Keyed *) a)->row > ((const Keyed *) b)->row) -
		(((const Keyed *) a)->row < ((const Keyed *) b)->row);
}

/* in_train[i] for the round(fraction * n) rows of smallest hash */
static void
split_rows(size_t n, double fraction, uint64_t seed, bool *in_train)
{
	Keyed	   *k = malloc(n * sizeof(Keyed));
	size_t		n_train = (size_t) floor(fraction * (double) n + 0.5);

	for (size_t i = 0; i < n; i++)
	{
		k[i].key = splitmix64((seed << 32) + (uint64_t) i);
		k[i].row = i;
		in_train[i] = false;
	}
	qsort(k, n, sizeof(Keyed), by_key);
	for (size_t i = 0; i < n_train; i++)
		in_train[k[i].row] = true;
	free(k);
}

static void
trace_epoch(void *arg, const AnEpochReport *r)
{
	(void) arg;
	printf("epoch %d phase %s train_loss %.6f val_loss %.6f seconds %.4f\n",
		   r->epoch, r->phase, r->train_loss, r->val_loss, r->seconds);
	fflush(stdout);
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
	double		split = 1.0;
	uint64_t	split_seed = 0;
	bool	   *in_train;
	double	   *train;
	size_t		n_train = 0,
				n_test;
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
		else if (strncmp(argv[i], "split_seed=", 11) == 0)
			split_seed = strtoull(argv[i] + 11, NULL, 10);
		else if (strncmp(argv[i], "trace=", 6) == 0)
			ctx.progress = atoi(argv[i] + 6) ? trace_epoch : NULL;
		else
			set_option(&ctx, &opts, argv[i]);
	}
	if (!(split > 0.0 && split <= 1.0))
	{
		fprintf(stderr, "split must be in (0, 1]\n");
		return 2;
	}

	/* training rows first, then the held-out rows: test = all rows if no split */
	in_train = malloc(n * sizeof(bool));
	if (split < 1.0)
		split_rows(n, split, split_seed, in_train);
	else
		for (size_t i = 0; i < n; i++)
			in_train[i] = true;
	train = malloc(n * dim * sizeof(double));
	for (size_t i = 0; i < n; i++)
		if (in_train[i])
			memcpy(train + n_train++ * dim, raw + i * dim, dim * sizeof(double));
	if (split < 1.0)
	{
		size_t		k = 0;

		for (size_t i = 0; i < n; i++)
			if (!in_train[i])
			{
				memmove(raw + k * dim, raw + i * dim, dim * sizeof(double));
				labels[k++] = labels[i];
			}
		n_test = k;
	}
	else
		n_test = n;

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
	an_scaler_fit(&ctx, &model.scaler, opts.scaler, train, n_train, dim, NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		float	   *x = an_scaler_apply_compact(&model.scaler, train, n_train);

		if (an_model_fit(&ctx, &model, &opts, x, n_train) != AN_OK)
		{
			fprintf(stderr, "training failed: %s\n", ctx.errmsg);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	scores = malloc(n_test * sizeof(double));
	an_model_score_raw(&model, raw, n_test, scores);
	metrics(scores, labels, n_test, &auroc, &ap);
	printf("%s %s rows %zu dims %d epochs %d auroc %.4f auprc %.4f seconds %.2f loss %.6f\n",
		   argv[1], argv[2], n_test, dim, model.epochs_run, auroc, ap,
		   (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9,
		   model.loss);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	free(raw);
	free(train);
	free(in_train);
	free(labels);
	free(scores);
	return 0;
}
