/*-------------------------------------------------------------------------
 *
 * pretrain.h
 *	  Autoencoder pretraining of an encoder, for the methods that start
 *	  from one (Deep SVDD, OC-NN).
 *
 * IDENTIFICATION
 *	  include/anomaly/pretrain.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_PRETRAIN_H
#define ANOMALY_PRETRAIN_H

#include "anomaly/nn.h"
#include "anomaly/options.h"

/*
 * Train an autoencoder (the hidden/latent/activation options, the given
 * epochs, progress phase "pretrain") on x and return its encoder, the
 * layers d -> hidden... -> latent, as a new MLP.  The bottleneck uses
 * latent_act; bias false builds every layer without bias (Deep SVDD).
 */
extern AnStatus an_autoencoder_pretrain(AnContext *ctx, const AnOptions *opts,
										int epochs, AnActivation latent_act, bool bias,
										const float *x, size_t n, int dim, AnRng *rng,
										bool trainable, int max_batch, AnMlp *encoder);

#endif							/* ANOMALY_PRETRAIN_H */
