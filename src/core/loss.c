/*-------------------------------------------------------------------------
 *
 * loss.c
 *	  Losses: reconstruction errors and binary cross-entropy with logits.
 *
 * IDENTIFICATION
 *	  src/core/loss.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "anomaly/nn.h"

double
an_mse(const float *y, const float *target, int n, int d, float *grad)
{
	size_t		total = (size_t) n * d;
	double		sum = 0.0;
	float		g = total ? 2.0f / (float) total : 0.0f;

	for (size_t i = 0; i < total; i++)
	{
		float		diff = y[i] - target[i];

		sum += (double) diff * diff;
		if (grad)
			grad[i] = g * diff;
	}
	return total ? sum / (double) total : 0.0;
}

void
an_row_mse(const float *y, const float *target, int n, int d, double *out)
{
	for (int i = 0; i < n; i++)
	{
		const float *a = y + (size_t) i * d;
		const float *b = target + (size_t) i * d;
		double		sum = 0.0;

		for (int j = 0; j < d; j++)
		{
			double		diff = (double) a[j] - b[j];

			sum += diff * diff;
		}
		out[i] = sum / d;
	}
}

double
an_softplus(double x)
{
	/* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): the exponent is never positive */
	return (x > 0.0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

double
an_bce_logits(const float *logit, const float *target, int n, float *grad)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		l = logit[i];

		sum += an_softplus(l) - (double) target[i] * l;
		if (grad)
		{
			/* sigmoid from the side where exp() cannot overflow */
			double		s = l >= 0.0 ? 1.0 / (1.0 + exp(-l)) : exp(l) / (1.0 + exp(l));

			grad[i] = (float) ((s - target[i]) / n);
		}
	}
	return n > 0 ? sum / n : 0.0;
}
