/*-------------------------------------------------------------------------
 *
 * fuzz_model.c
 *	  libFuzzer target: the model document decoder, and scoring what it
 *	  accepts.
 *
 * Every input is a candidate model document.  The decoder must refuse it
 * cleanly or return a model; a model must score rows (its fill values,
 * zeros, extreme values of both signs) without a sanitizer report and
 * without a NaN score, and free everything.  Memory is bounded by the
 * decoder's budget (docs/security.md), which libFuzzer's -rss_limit_mb and
 * -malloc_limit_mb check from outside.  Built by "make fuzz" with clang's
 * -fsanitize=fuzzer,address,undefined from the core sources, no server.
 *
 * IDENTIFICATION
 *	  test/fuzz/fuzz_model.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/blas.h"
#include "anomaly/model.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	AnContext	ctx;

	an_context_init_malloc(&ctx);
	if (an_blas_load(&ctx) != AN_OK)
	{
		fprintf(stderr, "fuzz_model: %s\n", ctx.errmsg);
		exit(1);
	}
	an_blas_set_threads(1);
	return 0;
}

/* a NaN score, or a non-finite threshold, is a finding: crash loudly */
static void
check_scores(const AnModel *model, const double *scores, int n)
{
	for (int i = 0; i < n; i++)
		if (isnan(scores[i]))
		{
			fprintf(stderr, "fuzz_model: row %d scored NaN\n", i);
			abort();
		}
	if (!isfinite(model->threshold))
	{
		fprintf(stderr, "fuzz_model: non-finite threshold\n");
		abort();
	}
}

#define ROWS 5

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	AnContext	ctx;
	AnModel		model;
	double	   *raw;
	double		scores[ROWS];
	int			dim;

	an_context_init_malloc(&ctx);
	if (an_model_decode(&ctx, (const char *) data, size, &model) != AN_OK)
		return 0;

	dim = model.spec.dim;
	raw = calloc((size_t) ROWS * dim, sizeof(double));
	if (raw)
	{
		/* fill values, zeros, huge of both signs, and the input's bytes */
		for (int i = 0; i < model.spec.n_features; i++)
			raw[model.spec.features[i].offset] = model.spec.features[i].fill;
		for (int j = 0; j < dim; j++)
		{
			raw[2 * dim + j] = 1e300;
			raw[3 * dim + j] = -1e300;
			raw[4 * dim + j] = (double) data[j % size] - 128.0;
		}
		an_model_score_raw(&model, raw, ROWS, scores);
		check_scores(&model, scores, ROWS);
		free(raw);
	}
	an_model_free(&ctx, &model);
	return 0;
}
