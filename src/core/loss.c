/*-------------------------------------------------------------------------
 *
 * loss.c
 *	  Reconstruction losses.
 *
 * IDENTIFICATION
 *	  src/core/loss.c
 *
 *-------------------------------------------------------------------------
 */
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
