/*-------------------------------------------------------------------------
 *
 * adam.c
 *	  The Adam optimiser (Kingma and Ba 2015), with torch.optim.Adam's
 *	  defaults and its L2 weight decay (added to the gradient).
 *
 * IDENTIFICATION
 *	  src/core/adam.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/nn.h"

AnStatus
an_adam_create(AnContext *ctx, AnAdam *adam, const AnParamList *params,
			   double lr, double weight_decay)
{
	size_t		total = an_params_total(params);

	memset(adam, 0, sizeof(*adam));
	adam->params = *params;
	adam->lr = lr;
	adam->beta1 = 0.9;
	adam->beta2 = 0.999;
	adam->eps = 1e-8;
	adam->weight_decay = weight_decay;
	adam->m = an_alloc_array(ctx, total, sizeof(float));
	adam->v = an_alloc_array(ctx, total, sizeof(float));
	if (!adam->m || !adam->v)
	{
		an_adam_free(ctx, adam);
		return an_nomem(ctx);
	}
	return AN_OK;
}

void
an_adam_step(AnAdam *adam)
{
	size_t		k = 0;
	double		bc1,
				bc2;
	float		step,
				b1 = (float) adam->beta1,
				b2 = (float) adam->beta2,
				omb1 = (float) (1.0 - adam->beta1),	/* not 1 - (float) beta: */
				omb2 = (float) (1.0 - adam->beta2),	/* that rounds 0.001 badly */
				wd = (float) adam->weight_decay,
				eps = (float) adam->eps,
				rbc2;

	adam->t++;
	bc1 = 1.0 - pow(adam->beta1, (double) adam->t);
	bc2 = 1.0 - pow(adam->beta2, (double) adam->t);
	step = (float) (adam->lr / bc1);
	rbc2 = (float) (1.0 / sqrt(bc2));

	for (int p = 0; p < adam->params.n; p++)
	{
		AnParam    *param = &adam->params.items[p];

		for (size_t i = 0; i < param->size; i++, k++)
		{
			float		g = param->grad[i] + wd * param->value[i];

			adam->m[k] = b1 * adam->m[k] + omb1 * g;
			adam->v[k] = b2 * adam->v[k] + omb2 * g * g;
			param->value[i] -= step * adam->m[k] / (sqrtf(adam->v[k]) * rbc2 + eps);
		}
	}
}

void
an_adam_free(AnContext *ctx, AnAdam *adam)
{
	an_free(ctx, adam->m);
	an_free(ctx, adam->v);
	adam->m = adam->v = NULL;
}
