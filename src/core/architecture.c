/*-------------------------------------------------------------------------
 *
 * architecture.c
 *	  Layer widths of the encoder and decoder networks every method builds
 *	  from the hidden and latent options.
 *
 * IDENTIFICATION
 *	  src/core/architecture.c
 *
 *-------------------------------------------------------------------------
 */
#include "anomaly/method.h"

int
an_encoder_dims(const AnOptions *opts, int in, int out, int *dims)
{
	int			n = 0;

	dims[0] = in;
	for (int i = 0; i < opts->n_hidden; i++)
		dims[++n] = opts->hidden[i];
	dims[++n] = out;
	return n;
}

int
an_decoder_dims(const AnOptions *opts, int in, int out, int *dims)
{
	int			n = 0;

	dims[0] = in;
	for (int i = opts->n_hidden - 1; i >= 0; i--)
		dims[++n] = opts->hidden[i];
	dims[++n] = out;
	return n;
}

void
an_hidden_acts(const AnOptions *opts, int n_layers, AnActivation last, AnActivation *acts)
{
	for (int l = 0; l < n_layers; l++)
		acts[l] = l == n_layers - 1 ? last : opts->activation;
}
