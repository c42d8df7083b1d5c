/*-------------------------------------------------------------------------
 *
 * activation.c
 *	  Element-wise activation functions and their derivatives.
 *
 * Derivatives are expressed through the activation's output y, so the
 * back-propagation only keeps post-activation buffers.  For ReLU the
 * derivative at exactly zero is taken as 0, as PyTorch does.
 *
 * IDENTIFICATION
 *	  src/core/activation.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <string.h>

#include "anomaly/nn.h"
#include "anomaly/simd.h"


static const char *const activation_names[] = {
	[AN_ACT_IDENTITY] = "identity",
	[AN_ACT_RELU] = "relu",
	[AN_ACT_LEAKY_RELU] = "leaky_relu",
	[AN_ACT_SIGMOID] = "sigmoid",
	[AN_ACT_TANH] = "tanh",
};

const char *
an_activation_name(AnActivation act)
{
	return an_name_of(activation_names, AN_LENGTHOF(activation_names), (int) act);
}

bool
an_activation_parse(const char *name, AnActivation *act)
{
	int			i = an_name_index(activation_names, AN_LENGTHOF(activation_names), name);

	if (i < 0)
		return false;
	*act = (AnActivation) i;
	return true;
}

/*
 * x = (x > 0 ? x : slope * x), 0 for slope 0, by whole vectors (GCC leaves
 * the scalar loop unvectorized at -O2); the same bits as element by element.
 */
static inline void
relu_forward(float slope, float *x, size_t n)
{
	size_t		i = 0;

	for (; i + AN_LANES <= n; i += AN_LANES)
	{
		an_v16		v = an_v16_load(x + i);

		an_v16_store(x + i, an_v16_select(v > (an_v16) {0}, v,
										  slope == 0.0f ? (an_v16) {0} : slope * v));
	}
	for (; i < n; i++)
		x[i] = x[i] > 0.0f ? x[i] : (slope == 0.0f ? 0.0f : slope * x[i]);
}

/* vectorised for the CPU at hand: this runs once per layer per scored row */
__attribute__((target_clones("avx512f", "avx2", "default")))
void
an_activation_forward(AnActivation act, float *x, size_t n)
{
	switch (act)
	{
		case AN_ACT_IDENTITY:
			break;
		case AN_ACT_RELU:
		case AN_ACT_LEAKY_RELU:
			relu_forward(act == AN_ACT_LEAKY_RELU ? AN_LEAKY_SLOPE : 0.0f, x, n);
			break;
		case AN_ACT_SIGMOID:
			for (size_t i = 0; i < n; i++)
				x[i] = 1.0f / (1.0f + expf(-x[i]));
			break;
		case AN_ACT_TANH:
			for (size_t i = 0; i < n; i++)
				x[i] = tanhf(x[i]);
			break;
	}
}

/*
 * delta *= (y > 0 ? 1 : slope), as a select on whole vectors rather than a
 * branch per element: the sign of a ReLU's output is a coin toss that the
 * branch predictor loses, and GCC does not vectorize the branch at -O2 (it
 * took half as long as the training's sgemms).  slope 0 gives +0.0, as
 * the scalar form does.
 */
static inline void
relu_backward(float slope, const float *y, float *delta, size_t n)
{
	size_t		i = 0;

	for (; i + AN_LANES <= n; i += AN_LANES)
	{
		an_v16		d = an_v16_load(delta + i);

		an_v16_store(delta + i, an_v16_select(an_v16_load(y + i) > (an_v16) {0}, d,
											  slope == 0.0f ? (an_v16) {0} : d * slope));
	}
	for (; i < n; i++)
		delta[i] = y[i] > 0.0f ? delta[i] : (slope == 0.0f ? 0.0f : delta[i] * slope);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void
an_activation_backward(AnActivation act, const float *y, float *delta, size_t n)
{
	switch (act)
	{
		case AN_ACT_IDENTITY:
			break;
		case AN_ACT_RELU:
		case AN_ACT_LEAKY_RELU:
			relu_backward(act == AN_ACT_LEAKY_RELU ? AN_LEAKY_SLOPE : 0.0f, y, delta, n);
			break;
		case AN_ACT_SIGMOID:
			for (size_t i = 0; i < n; i++)
				delta[i] *= y[i] * (1.0f - y[i]);
			break;
		case AN_ACT_TANH:
			for (size_t i = 0; i < n; i++)
				delta[i] *= 1.0f - y[i] * y[i];
			break;
	}
}
