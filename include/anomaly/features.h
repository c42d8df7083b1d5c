/*-------------------------------------------------------------------------
 *
 * features.h
 *	  The feature specification: how source columns become the numeric
 *	  input vector of a model, and how that vector is scaled.
 *
 * A numeric column becomes one dimension, a boolean 0/1, a categorical
 * column one dimension per kept category plus a final "other" slot.  The
 * specification travels with the stored model, so scoring needs nothing
 * else.  Values are encoded into doubles first (the "raw" vector, whose
 * numeric entries are the column values themselves), then scaled into
 * the float32 input of the network.
 *
 * IDENTIFICATION
 *	  include/anomaly/features.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_FEATURES_H
#define ANOMALY_FEATURES_H

#include "anomaly/core.h"

typedef enum AnFeatureKind
{
	AN_FEATURE_NUMERIC = 0,
	AN_FEATURE_BOOLEAN,
	AN_FEATURE_CATEGORICAL
} AnFeatureKind;

typedef struct AnFeature
{
	char	   *name;			/* source column name */
	AnFeatureKind kind;
	int			offset;			/* first dimension of the encoded vector */
	int			width;			/* 1, or n_categories + 1 */
	double		fill;			/* imputed for NULL: the training mean */
	int			n_categories;
	char	  **categories;		/* most frequent first; "other" is implicit */
} AnFeature;

typedef struct AnFeatureSpec
{
	int			n_features;
	AnFeature  *features;
	int			dim;			/* total encoded width */
} AnFeatureSpec;

extern const char *an_feature_kind_name(AnFeatureKind kind);
extern bool an_feature_kind_parse(const char *name, AnFeatureKind *kind);

/* recompute offsets and dim from the widths; fails on absurd sizes */
extern AnStatus an_spec_layout(AnContext *ctx, AnFeatureSpec *spec);
extern void an_spec_free(AnContext *ctx, AnFeatureSpec *spec);

/* slot of a category value within a categorical feature (other = n_categories) */
extern int	an_feature_category_slot(const AnFeature *f, const char *value);

/* name of encoded dimension j ("amount", "merchant=grocery", "merchant=(other)") */
extern char *an_spec_dim_name(AnContext *ctx, const AnFeatureSpec *spec, int j);

/* ---- scaling (scaler.c) ---- */

typedef enum AnScalerKind
{
	AN_SCALER_STANDARD = 0,		/* (x - mean) / std */
	AN_SCALER_ROBUST,			/* (x - median) / IQR */
	AN_SCALER_NONE
} AnScalerKind;

extern const char *an_scaler_name(AnScalerKind kind);
extern bool an_scaler_parse(const char *name, AnScalerKind *kind);

typedef struct AnScaler
{
	AnScalerKind kind;
	int			dim;
	double	   *offset;			/* x' = (x - offset) / scale */
	double	   *scale;
} AnScaler;

/*
 * Fit on raw rows (n x dim doubles).  Only the dimensions with
 * fit_dim[j] true are scaled (numeric features); the others (0/1 and
 * one-hot) keep offset 0 and scale 1.  A zero spread scales by 1.
 */
extern AnStatus an_scaler_fit(AnContext *ctx, AnScaler *scaler, AnScalerKind kind,
							  const double *raw, size_t n, int dim,
							  const bool *fit_dim);
extern AnStatus an_scaler_alloc(AnContext *ctx, AnScaler *scaler, int dim);
extern void an_scaler_free(AnContext *ctx, AnScaler *scaler);

/*
 * Bounds that keep scaling finite (docs/security.md).  A scaled value is
 * clamped to [-AN_MAX_SCALED, AN_MAX_SCALED] (NaN becomes the upper
 * bound), so that an extreme input stays extreme instead of overflowing
 * float32 into Infinity and NaN inside a network.  Offsets and scales
 * beyond these bounds are refused by the decoder and by training.
 */
#define AN_MAX_SCALED		1e6
#define AN_MAX_SCALER_VALUE	1e100
#define AN_MIN_SCALE		1e-12

/* the first dimension whose offset or scale is out of bounds, or -1 */
extern int	an_scaler_bad_dim(const AnScaler *scaler);

/* scale one row of raw doubles into floats, clamped */
extern void an_scaler_apply(const AnScaler *scaler, const double *raw, float *out);

/*
 * Scale n rows in place: the doubles in buf become floats packed at the
 * start of the same buffer (row i's floats never overtake row i's
 * doubles), which halves the peak memory of a training load.
 */
extern float *an_scaler_apply_compact(const AnScaler *scaler, double *buf, size_t n);

#endif							/* ANOMALY_FEATURES_H */
