/*-------------------------------------------------------------------------
 *
 * options.h
 *	  Training options: the common hyperparameters of every method, their
 *	  validation, and the defaults derived from the data's shape.
 *
 * The host turns its own option syntax (jsonb in PostgreSQL) into calls of
 * an_options_set() with an AnOptionValue.  Common keys are handled here;
 * any other key is offered to the method, and a key neither knows is an
 * error naming it.  Every message names the option.
 *
 * IDENTIFICATION
 *	  include/anomaly/options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_OPTIONS_H
#define ANOMALY_OPTIONS_H

#include "anomaly/core.h"
#include "anomaly/features.h"
#include "anomaly/nn.h"

struct AnMethod;

typedef enum AnOptionKind
{
	AN_OPTION_NUMBER,
	AN_OPTION_STRING,
	AN_OPTION_BOOL,
	AN_OPTION_ARRAY,			/* of numbers */
	AN_OPTION_NULL,
	AN_OPTION_OTHER				/* an object, or an array of non-numbers */
} AnOptionKind;

typedef struct AnOptionValue
{
	AnOptionKind kind;
	double		number;
	const char *string;
	bool		boolean;
	int			n_items;
	const double *items;
} AnOptionValue;

#define AN_MAX_HIDDEN 8

typedef struct AnOptions
{
	int			n_hidden;		/* 0 = derive from the input width */
	bool		hidden_set;		/* given by the caller, not derived */
	int			hidden[AN_MAX_HIDDEN];
	int			wide_hidden_max;	/* 0, or the most units the derived width has for
									 * 100 or more inputs (a method's default) */
	int			latent;			/* 0 = derive */
	AnActivation activation;
	bool		activation_set; /* given by the caller, not a method's default */
	int			epochs;			/* 0 = derive from the row count */
	int			batch_size;		/* 0 = derive */
	double		learning_rate;
	double		weight_decay;	/* < 0 = the method's default */
	bool		seed_set;
	uint64_t	seed;
	double		validation_fraction;
	int			early_stopping_patience;	/* 0 = no early stopping */
	double		contamination;
	bool		contamination_auto; /* "auto": the threshold from the scores' shape */
	int64_t		max_rows;
	AnScalerKind scaler;
	int			max_categories;

	const struct AnMethod *method;
	void	   *method_options; /* the method's own struct */
} AnOptions;

extern AnStatus an_options_init(AnContext *ctx, AnOptions *opts,
								const struct AnMethod *method);
extern void an_options_free(AnContext *ctx, AnOptions *opts);
extern AnStatus an_options_set(AnContext *ctx, AnOptions *opts,
							   const char *key, const AnOptionValue *value);

/* fill the derived defaults once the input width and row count are known */
extern void an_options_resolve(AnOptions *opts, int dim, size_t n_rows);

/* validation helpers, shared with the methods' own option parsers */
extern AnStatus an_option_int(AnContext *ctx, const char *key, const AnOptionValue *v,
							  int64_t min, int64_t max, int64_t *out);
extern AnStatus an_option_real(AnContext *ctx, const char *key, const AnOptionValue *v,
							   double min, double max, bool min_open, double *out);
extern AnStatus an_option_bool(AnContext *ctx, const char *key, const AnOptionValue *v,
							   bool *out);
extern AnStatus an_option_choice(AnContext *ctx, const char *key, const AnOptionValue *v,
								 const char *const *choices, int *out);

#endif							/* ANOMALY_OPTIONS_H */
