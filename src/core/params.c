/*-------------------------------------------------------------------------
 *
 * params.c
 *	  Lists of trainable parameter tensors: what the optimiser updates and
 *	  what early stopping saves and restores.
 *
 * IDENTIFICATION
 *	  src/core/params.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/nn.h"

void
an_params_add(AnParamList *list, float *value, float *grad, size_t size)
{
	/* AN_MAX_PARAMS bounds every network the methods build */
	if (list->n >= AN_MAX_PARAMS || value == NULL || size == 0)
		return;
	list->items[list->n].value = value;
	list->items[list->n].grad = grad;
	list->items[list->n].size = size;
	list->n++;
}

size_t
an_params_total(const AnParamList *list)
{
	size_t		total = 0;

	for (int i = 0; i < list->n; i++)
		total += list->items[i].size;
	return total;
}

void
an_params_save(const AnParamList *list, float *dst)
{
	for (int i = 0; i < list->n; i++)
	{
		memcpy(dst, list->items[i].value, list->items[i].size * sizeof(float));
		dst += list->items[i].size;
	}
}

void
an_params_restore(const AnParamList *list, const float *src)
{
	for (int i = 0; i < list->n; i++)
	{
		memcpy(list->items[i].value, src, list->items[i].size * sizeof(float));
		src += list->items[i].size;
	}
}

bool
an_params_finite(const AnParamList *list)
{
	for (int i = 0; i < list->n; i++)
		for (size_t j = 0; j < list->items[i].size; j++)
			if (!isfinite(list->items[i].value[j]))
				return false;
	return true;
}

double
an_params_sq_norm(const AnParamList *list)
{
	double		sum = 0.0;

	for (int i = 0; i < list->n; i++)
		for (size_t j = 0; j < list->items[i].size; j++)
			sum += (double) list->items[i].value[j] * list->items[i].value[j];
	return sum;
}
