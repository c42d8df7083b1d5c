/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  Per-column explanations of a model's scores, the percentile of a
 *	  score among the training scores, and integrated gradients for the
 *	  methods that have no per-dimension form of their score.
 *
 * IDENTIFICATION
 *	  src/core/explain.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/explain.h"

AnStatus
an_model_explain(AnContext *ctx, AnModel *model, const double *raw,
				 double *per_feature, double *rest, double *score)
{
	const AnFeatureSpec *spec = &model->spec;
	int			dim = spec->dim;
	float	   *x;
	double	   *contrib;
	AnStatus	st;

	if (!model->method->explain)
		return an_error(ctx, AN_ERR_INVALID, "method %s cannot explain its scores",
						model->method->name);
	x = an_alloc_array(ctx, dim, sizeof(float));
	contrib = an_alloc_array(ctx, dim, sizeof(double));
	if (!x || !contrib)
	{
		an_free(ctx, x);
		an_free(ctx, contrib);
		return an_nomem(ctx);
	}
	an_scaler_apply(&model->scaler, raw, x);
	model->method->score(model->state, x, 1, score);
	*rest = 0.0;
	st = model->method->explain(ctx, model->state, x, dim, contrib, rest);
	if (st == AN_OK)
	{
		/* a categorical column's one-hot group sums back to the column */
		for (int i = 0; i < spec->n_features; i++)
		{
			const AnFeature *f = &spec->features[i];

			per_feature[i] = 0.0;
			for (int j = f->offset; j < f->offset + f->width; j++)
				per_feature[i] += contrib[j];
		}
	}
	an_free(ctx, x);
	an_free(ctx, contrib);
	return st;
}

double
an_model_percentile(const AnModel *model, double score)
{
	const double *q = model->quantiles;
	const int	last = AN_N_QUANTILES - 1;
	int			lo,
				hi;

	if (isnan(score))
		return NAN;
	if (score < q[0])
		return 0.0;
	if (score > q[last])
		return 1.0;
	/* a run of quantiles equal to the score: the middle of it */
	for (lo = 0; lo <= last && q[lo] < score; lo++)
		;
	for (hi = lo; hi <= last && q[hi] == score; hi++)
		;
	if (hi > lo)
		return (double) (lo + hi - 1) / (2.0 * last);
	/* q[lo - 1] < score < q[lo]: linear between them */
	return (lo - 1 + (score - q[lo - 1]) / (q[lo] - q[lo - 1])) / last;
}

AnStatus
an_explain_integrated_gradients(AnContext *ctx, const AnMethod *method, void *state,
								const float *x, int dim, double *contrib, double *rest)
{
	/*
	 * Rows per score call: pairs of (x + h e_j, x - h e_j), within what a
	 * decoded model's workspace holds (AN_DECODE_BATCH rows).
	 */
	int			per_call = AN_DECODE_BATCH / 2;
	float	   *rows = an_alloc_array(ctx, (size_t) AN_SCORE_BATCH * dim, sizeof(float));
	double		out[AN_SCORE_BATCH];
	float	   *point = an_alloc_array(ctx, dim, sizeof(float));
	double		xmax = 1.0;
	double		h;

	if (!rows || !point)
	{
		an_free(ctx, rows);
		an_free(ctx, point);
		return an_nomem(ctx);
	}
	for (int j = 0; j < dim; j++)
		xmax = fmax(xmax, fabs((double) x[j]));
	/* large enough that float rounding of the score is small against it */
	h = 1e-2 * xmax;

	memset(point, 0, sizeof(float) * dim);
	method->score(state, point, 1, out);
	*rest = out[0];
	for (int j = 0; j < dim; j++)
		contrib[j] = 0.0;

	for (int k = 0; k < AN_IG_STEPS; k++)
	{
		double		alpha = (k + 0.5) / AN_IG_STEPS;

		for (int j = 0; j < dim; j++)
			point[j] = (float) (alpha * x[j]);
		for (int j0 = 0; j0 < dim; j0 += per_call)
		{
			int			m = dim - j0 < per_call ? dim - j0 : per_call;

			for (int t = 0; t < m; t++)
			{
				float	   *up = rows + (size_t) (2 * t) * dim;
				float	   *down = up + dim;

				memcpy(up, point, sizeof(float) * dim);
				memcpy(down, point, sizeof(float) * dim);
				up[j0 + t] += (float) h;
				down[j0 + t] -= (float) h;
			}
			method->score(state, rows, 2 * m, out);
			for (int t = 0; t < m; t++)
			{
				int			j = j0 + t;
				/* the step actually taken, after rounding to float */
				double		step = (double) rows[(size_t) (2 * t) * dim + j] -
					(double) rows[(size_t) (2 * t + 1) * dim + j];

				contrib[j] += (out[2 * t] - out[2 * t + 1]) / step;
			}
		}
	}
	for (int j = 0; j < dim; j++)
		contrib[j] *= (double) x[j] / AN_IG_STEPS;
	an_free(ctx, rows);
	an_free(ctx, point);
	return AN_OK;
}
