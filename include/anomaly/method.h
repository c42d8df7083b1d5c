/*-------------------------------------------------------------------------
 *
 * method.h
 *	  The interface every detection method implements, and the registry.
 *
 * A method is one file in src/core (method_<name>.c) defining a constant
 * AnMethod, plus one line in registry.c.  The generic parts (feature
 * encoding, scaling, the epoch loop with validation and early stopping,
 * thresholds, the model document) are shared; a method supplies only its
 * network, its loss and its score.
 *
 * IDENTIFICATION
 *	  include/anomaly/method.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_METHOD_H
#define ANOMALY_METHOD_H

#include "anomaly/codec.h"
#include "anomaly/nn.h"
#include "anomaly/options.h"

/* the most rows a method's score callback is ever given at once */
#define AN_SCORE_BATCH 256

typedef struct AnMethod
{
	const char *name;

	/*
	 * Epochs when the option is not given; 0 for the generic rule of
	 * an_options_resolve (some thousands of optimiser steps).
	 */
	int			default_epochs;

	/* method-specific options: a struct of options_size bytes */
	size_t		options_size;
	void		(*options_init) (void *mopts);
	/* AN_ERR_NOT_FOUND for a key the method does not know */
	AnStatus	(*set_option) (AnContext *ctx, void *mopts, const char *key,
							   const AnOptionValue *value);

	/*
	 * Training.  create builds a trainable state for inputs of width dim
	 * (opts already resolved); prepare (optional) runs once on the
	 * training rows before the first epoch (centres, pretraining);
	 * train_batch does one optimiser step on n <= opts->batch_size rows and
	 * returns the batch loss; eval_loss (optional; default: mean score) is
	 * the validation loss; epoch_end (optional) runs after each epoch, on all n rows.
	 */
	AnStatus	(*create) (AnContext *ctx, const AnOptions *opts, int dim,
						   AnRng *rng, void **state);
	AnStatus	(*prepare) (AnContext *ctx, void *state, const AnOptions *opts,
							const float *x, size_t n, AnRng *rng);
	double		(*train_batch) (void *state, const float *x, int n, AnRng *rng);
	double		(*eval_loss) (void *state, const float *x, size_t n);
	AnStatus	(*epoch_end) (AnContext *ctx, void *state, const float *x, size_t n);
	void		(*params) (void *state, AnParamList *list);

	/* inference: n <= AN_SCORE_BATCH rows, higher = more anomalous */
	void		(*score) (void *state, const float *x, int n, double *out);

	/* the "state" entry of the model document */
	AnStatus	(*encode) (AnContext *ctx, const void *state, AnPacker *pk);
	AnStatus	(*decode) (AnContext *ctx, const AnObject *obj, int dim, void **state);
	void		(*destroy) (AnContext *ctx, void *state);
} AnMethod;

/*
 * Layer widths (architecture.c).  an_encoder_dims fills in, hidden...,
 * out and an_decoder_dims in, ...hidden (reversed), out; both return the
 * number of layers (dims has one entry more).  an_hidden_acts gives every
 * layer the activation option, except the last, which gets last.
 */
extern int	an_encoder_dims(const AnOptions *opts, int in, int out, int *dims);
extern int	an_decoder_dims(const AnOptions *opts, int in, int out, int *dims);
extern void an_hidden_acts(const AnOptions *opts, int n_layers, AnActivation last,
						   AnActivation *acts);

extern const AnMethod *an_method_lookup(const char *name);

/* comma-separated list of method names, for hints */
extern const char *an_method_names(void);

/* registered methods (one file each) */
extern const AnMethod an_method_autoencoder;
extern const AnMethod an_method_deep_svdd;
extern const AnMethod an_method_vae;
extern const AnMethod an_method_ocnn;

/*
 * Train an autoencoder (the hidden/latent/activation options, the given
 * epochs, progress phase "pretrain") on x and return its encoder, the
 * layers d -> hidden... -> latent, as a new MLP.  The bottleneck uses
 * latent_act; bias false builds every layer without bias (Deep SVDD).
 * Used by methods that start from a pretrained encoder.
 */
extern AnStatus an_autoencoder_pretrain(AnContext *ctx, const AnOptions *opts,
										int epochs, AnActivation latent_act, bool bias,
										const float *x, size_t n, int dim, AnRng *rng,
										bool trainable, int max_batch, AnMlp *encoder);

#endif							/* ANOMALY_METHOD_H */
