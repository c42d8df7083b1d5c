/*-------------------------------------------------------------------------
 *
 * fixture.h
 *	  A synthetic training set and an autoencoder trained on it, built the
 *	  way a host builds them, shared by the model and document tests.
 *
 * Rows have five correlated numeric columns (two latent gaussians, mixed
 * offsets and scales, a little noise), a boolean and a categorical column
 * derived from the same latents: 5 + 1 + 3 = 9 encoded dimensions.
 *
 * IDENTIFICATION
 *	  test/unit/fixture.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_FIXTURE_H
#define ANOMALY_FIXTURE_H

#include "anomaly/model.h"

#define FIX_DIM			9		/* encoded width */
#define FIX_NUMERIC		5		/* the first five dimensions */
#define FIX_MAX_EPOCHS	200

/* raw encoded rows (n x FIX_DIM doubles, malloc'd): normal data */
extern double *fixture_rows(uint64_t seed, size_t n);

/* raw rows far off the correlation structure of fixture_rows */
extern double *fixture_outliers(uint64_t seed, size_t n);

/*
 * Score n fixture outliers (seed 7) and n fresh normal rows (seed 8) with
 * model; count how many of each are above its threshold.
 */
extern void fixture_count_flagged(AnModel *model, int n, int *outliers_flagged,
								  int *normal_flagged);

/*
 * Set model->spec and model->scaler from the raw rows, as a host does
 * (allocations through ctx), and return the scaled rows (malloc'd).
 */
extern AnStatus fixture_prepare(AnContext *ctx, AnModel *model, const double *raw,
								size_t n, AnScalerKind scaler, float **x);

/* autoencoder options: one network, hidden [16], latent 3, the given epochs and seed */
extern AnStatus fixture_options(AnContext *ctx, AnOptions *opts, int epochs,
								uint64_t seed, size_t n);

/*
 * Quick options for any method, not resolved: the seed, and where the
 * method takes network options hidden [16], latent 3, the given epochs,
 * batches of 32, learning rate 0.01.
 */
extern AnStatus fixture_quick_options(AnContext *ctx, AnOptions *opts,
									  const AnMethod *method, uint64_t seed, int epochs);

/*
 * Everything at once: rows, spec, scaler, options and an_model_fit.
 * *x receives the scaled rows (malloc'd) if x is not NULL.
 */
extern AnStatus fixture_fit(AnContext *ctx, AnModel *model, size_t n, int epochs,
							uint64_t seed, float **x);

/*
 * A method's state encoded alone and unpacked, to read its fields: the
 * object is valid until fixture_state_free.  NULL if encoding fails or
 * does not unpack to exactly one object.
 */
typedef struct FixtureState
{
	AnContext  *ctx;
	AnBuffer	buf;
	msgpack_unpacked msg;
	bool		unpacked;
} FixtureState;

extern const AnObject *fixture_state_object(AnContext *ctx, const AnMethod *method,
											const void *state, FixtureState *doc);
extern void fixture_state_free(FixtureState *doc);

/*
 * The reverse: a hand-packed state document in buf (freed here through its
 * own context, whatever happens) unpacked and decoded by method for inputs
 * of width dim, allocating through ctx.  For the decoders' checks on
 * documents no encoder would write; packing with a context other than ctx
 * keeps the packer's allocations out of ctx's leak count.  A buffer that
 * does not unpack is a fault of the test: reported, and AN_ERR_CORRUPT.
 */
extern AnStatus fixture_decode_packed(AnContext *ctx, const AnMethod *method,
									  AnBuffer *buf, int dim, void **state);

/*
 * Whether n_gen generated rows of width 2 have the mean (each entry within
 * mean_tol) and population covariance (each entry within cov_tol) of the
 * n data rows: the GANs' stability tests.  Prints both.
 */
extern bool fixture_moments_match(const float *data, int n, const float *gen, int n_gen,
								  double mean_tol, double cov_tol);

/* the shared trained model: 2000 rows, seed 42, built on first use */
typedef struct FixtureModel
{
	AnContext	ctx;
	AnModel		model;
	AnOptions	opts;
	AnStatus	status;			/* of an_model_fit */
	size_t		n;
	double	   *raw;
	float	   *x;
	int			n_reports;
	AnEpochReport reports[FIX_MAX_EPOCHS];
} FixtureModel;

extern FixtureModel *fixture_trained(void);

/* options of a method for the given epochs, seed and row count */
typedef AnStatus (*FixtureOptionsFn) (AnContext *ctx, AnOptions *opts, int epochs,
									  uint64_t seed, size_t n);

/*
 * A model trained as the shared one is, with the options make gives: its
 * status (a failure is reported, naming what) and epoch reports recorded.
 * fixture_trained is this with fixture_options; free with
 * fixture_model_free.
 */
extern FixtureModel *fixture_model_train(FixtureOptionsFn make, const char *what);
extern void fixture_model_free(FixtureModel *fm);

/* fm->ctx: malloc'd memory, epoch reports recorded in fm */
extern void fixture_model_context(FixtureModel *fm);

/* an activation in double precision, for the reference networks of the tests */
extern double fixture_activation(AnActivation act, double x);

#endif							/* ANOMALY_FIXTURE_H */
