/*-------------------------------------------------------------------------
 *
 * method.h
 *	  The interface every detection method implements, and the registry.
 *
 * A method is one file in src/core (method_<name>.c) defining a constant
 * AnMethod named an_method_<name>, plus one line in registry.c.  The
 * generic parts (feature encoding, scaling, thresholds, the model document
 * and, for the methods trained by gradient steps, the epoch loop with
 * validation and early stopping) are shared.  A method learns in one of
 * two ways:
 *
 *	 by mini-batch gradient steps (the neural networks): it supplies
 *	 create, train_batch and params, and optionally prepare, eval_loss and
 *	 epoch_end; the common network options (hidden, latent, activation,
 *	 epochs, batch_size, learning_rate, weight_decay, validation_fraction,
 *	 early_stopping_patience) apply to it;
 *
 *	 all at once (a forest, a nearest-neighbour bank, a decomposition, an
 *	 ensemble): it supplies fit, which sees the whole training set; the
 *	 network options are refused unless network_options says the method
 *	 uses them (an ensemble with a neural member).
 *
 * Either way it supplies score, encode, decode and destroy, and
 * optionally explain.
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

/*
 * The most rows the score callback of a decoded model is given at once: a
 * method's decode sizes its scoring workspace for this many rows.  SQL
 * scores one row per call, so a small block keeps a decoded model's
 * workspace proportional to its widths rather than 256 times them (see
 * docs/security.md).
 */
#define AN_DECODE_BATCH 16

typedef struct AnMethod
{
	const char *name;

	/*
	 * Optional: the method's own defaults of the common options, set after
	 * the generic ones and before the caller's options (Deep SVDD's epochs,
	 * say).  A common option left at 0 is derived by an_options_resolve.
	 */
	void		(*common_defaults) (AnOptions *opts);

	/* method-specific options: a struct of options_size bytes */
	size_t		options_size;
	void		(*options_init) (void *mopts);
	/* optional: fill the method's data-dependent defaults (see resolve) */
	void		(*options_resolve) (void *mopts, int dim, size_t n_rows);
	/* AN_ERR_NOT_FOUND for a key the method does not know */
	AnStatus	(*set_option) (AnContext *ctx, void *mopts, const char *key,
							   const AnOptionValue *value);

	/*
	 * Training all at once: build the state from the n training rows x of
	 * width dim (opts resolved).  When set, the gradient callbacks below
	 * are not used.  It must call an_check_interrupts often enough that a
	 * cancel is honoured within milliseconds, and leave nothing allocated
	 * when it fails.
	 */
	AnStatus	(*fit) (AnContext *ctx, const AnOptions *opts, const float *x,
						size_t n, int dim, AnRng *rng, void **state);
	/* with fit: the common network options still apply (ensembles) */
	bool		network_options;

	/*
	 * Optional: the options that size the training's memory, as the budget
	 * error names them (e.g. "\"n_trees\" or \"sample_size\"").  NULL:
	 * "batch_size", "hidden" or "max_rows" for gradient training, "max_rows"
	 * for fit (an_method_sizing_options).
	 */
	const char *sizing_options;

	/*
	 * Training by gradient steps.  create builds a trainable state for inputs of width dim
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

	/*
	 * Optional: once the epoch loop has trained the state, a last step on
	 * the same training rows, given the loop's best loss (a method that
	 * trains several networks replaces one whose training failed).
	 */
	AnStatus	(*finish) (AnContext *ctx, void *state, const AnOptions *opts,
						   const float *x, size_t n, double loop_loss);

	/*
	 * Optional: once the state is trained, adjust the epochs and loss the
	 * model reports, given those of the epoch loop's run (a method that
	 * trains several networks reports what sums them up).
	 */
	void		(*train_summary) (void *state, int *epochs_run, double *loss);

	/*
	 * inference: n <= AN_SCORE_BATCH rows (AN_DECODE_BATCH on a decoded
	 * state), higher = more anomalous; a non-finite result is reported as
	 * +Infinity by an_model_score_*
	 */
	void		(*score) (void *state, const float *x, int n, double *out);

	/*
	 * Optional: true when a row's score does not depend on the rows scored
	 * with it (blocks of two rows or more), so that the training rows'
	 * scores for the threshold may be taken in blocks of AN_SCORE_BATCH
	 * rather than in the decoded model's AN_DECODE_BATCH: the same bits.
	 */
	bool		(*rows_independent) (void *state);

	/*
	 * Optional: explain the score of one scaled row x of width dim.
	 * contrib[j] receives encoded dimension j's part of the score and *rest
	 * the part no dimension carries, so that the contributions plus rest
	 * make the score (up to rounding, or to the quadrature error of
	 * integrated gradients; docs/reference.md says what each method
	 * computes).  Scratch goes through ctx and is freed before returning.
	 * Without it, a model of the method cannot explain its scores.
	 */
	AnStatus	(*explain) (AnContext *ctx, void *state, const float *x, int dim,
							double *contrib, double *rest);

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
/* what to lower when training exceeds its memory budget, for messages */
extern const char *an_method_sizing_options(const AnMethod *method);

extern int	an_encoder_dims(const AnOptions *opts, int in, int out, int *dims);
extern int	an_decoder_dims(const AnOptions *opts, int in, int out, int *dims);
extern void an_hidden_acts(const AnOptions *opts, int n_layers, AnActivation last,
						   AnActivation *acts);

/* the registry (registry.c): NULL for an unknown name */
extern const AnMethod *an_method_lookup(const char *name);

/* the i-th registered method, NULL past the last */
extern const AnMethod *an_method_at(int i);

/* comma-separated list of method names, for hints */
extern const char *an_method_names(void);

/* does the method learn by gradient steps (no fit callback)? */
static inline bool
an_method_is_gradient(const AnMethod *method)
{
	return method->fit == NULL;
}

#endif							/* ANOMALY_METHOD_H */
