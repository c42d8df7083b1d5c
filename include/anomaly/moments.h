/*-------------------------------------------------------------------------
 *
 * moments.h
 *	  The bounding box, mean and covariance of a set of rows, and a loss
 *	  that pulls a batch of generated rows towards the last two.  The
 *	  box's clamp and its entries in a model document, for the GANs.
 *
 * an_covariance serves PCA (the decomposition of the training
 * covariance) and the GANs (the target of their generators' moment
 * matching, moments.c).
 *
 * IDENTIFICATION
 *	  include/anomaly/moments.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_MOMENTS_H
#define ANOMALY_MOMENTS_H

#include "anomaly/codec.h"

/* per dimension the least (lo) and greatest (hi) value of the n rows x */
extern void an_bounding_box(const float *x, size_t n, int dim, float *lo, float *hi);

/*
 * The n rows x clamped into the box [lo, hi] per dimension, into out (a
 * NaN stays NaN), and per row the squared Euclidean distance from the row
 * to the box into sq (NaN for a row with a NaN).  The GANs score a row
 * with their discriminator where it was trained, inside the training
 * rows' box, and add a term growing with the distance outside it.
 */
extern void an_box_clamp(const float *lo, const float *hi, const float *x, int n, int dim,
						 float *out, double *sq);

/*
 * The "lo" and "hi" entries of a model document's state: dim floats each,
 * allocated through ctx into *lo and *hi (the caller frees them, also on
 * failure), lo <= hi in every dimension, else AN_ERR_CORRUPT.
 */
extern AnStatus an_get_box(AnContext *ctx, const AnObject *obj, int dim, float **lo,
						   float **hi);

/* training rows per sgemm when accumulating a covariance */
#define AN_COV_BLOCK 256

/*
 * The mean of the n rows x of width dim, and their covariance (divided by
 * n - 1, as numpy's and scikit-learn's) into cov, dim x dim, accumulated
 * in double from single-precision sgemm products of blocks of centred
 * rows, with an interrupt check per block.  block is AN_COV_BLOCK x dim
 * floats of scratch and prod dim x dim floats.
 */
extern AnStatus an_covariance(AnContext *ctx, const float *x, size_t n, int dim,
							  float *mean, double *cov, float *block, float *prod);

/*
 * The target moments of a generator, and the workspace of its loss for
 * batches of up to max_rows rows.
 */
typedef struct AnMoments
{
	int			dim;
	int			max_rows;
	float	   *mean;			/* dim: the target mean */
	float	   *cov;			/* dim x dim: the target covariance */
	float	   *centred;		/* max_rows x dim: a batch, centred */
	float	   *diff;			/* dim x dim: the batch's covariance minus cov */
	double	   *batch_mean;		/* dim */
} AnMoments;

extern AnStatus an_moments_create(AnContext *ctx, AnMoments *mm, int dim, int max_rows);
extern void an_moments_free(AnContext *ctx, AnMoments *mm);

/* the targets: the mean and covariance of the n rows x */
extern AnStatus an_moments_fit(AnContext *ctx, AnMoments *mm, const float *x, size_t n);

/*
 * The moment-matching loss of n <= max_rows rows y:
 *
 *	 ||mean_y - mean||^2 / dim + ||C_y - cov||_F^2 / dim^2
 *
 * (C_y the batch's covariance, divided by n), returned; when grad is not
 * NULL, weight times its gradient in y is added to grad (n x dim).
 */
extern double an_moments_loss(AnMoments *mm, const float *y, int n, double weight,
							  float *grad);

#endif							/* ANOMALY_MOMENTS_H */
