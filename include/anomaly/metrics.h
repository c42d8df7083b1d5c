/*-------------------------------------------------------------------------
 *
 * metrics.h
 *	  Detection quality of scores against labels: AUROC, average
 *	  precision, the best F1 over thresholds, and precision and recall at
 *	  a given threshold.
 *
 * Ties are handled as the standard definitions do: AUROC is the
 * Mann-Whitney statistic with tied scores given their average rank (a tie
 * between an anomaly and a normal row counts one half), and average
 * precision is scikit-learn's average_precision_score, one point of the
 * precision-recall curve per distinct score.  A row is flagged at a
 * threshold t when its score is > t, as anomaly_is_anomaly flags it.
 *
 * IDENTIFICATION
 *	  include/anomaly/metrics.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_METRICS_H
#define ANOMALY_METRICS_H

#include "anomaly/core.h"

typedef struct AnMetrics
{
	size_t		n;				/* rows */
	size_t		n_positive;		/* rows labelled anomalous */
	double		auroc;
	double		auprc;			/* average precision */
	double		f1_best;		/* the best F1 over every threshold */
	double		threshold_best; /* score > threshold_best gives f1_best */
	double		precision;		/* at the given threshold; NaN if no row is flagged */
	double		recall;			/* at the given threshold */
} AnMetrics;

/*
 * The metrics of n finite scores against labels (true = anomaly) at
 * threshold.  Both classes must be present (AN_ERR_INVALID otherwise).
 * Allocates n pairs of scratch through ctx.
 */
extern AnStatus an_metrics_compute(AnContext *ctx, const double *scores,
								   const bool *labels, size_t n, double threshold,
								   AnMetrics *out);

/* bytes of scratch an_metrics_compute needs for n rows */
#define AN_METRICS_BYTES_PER_ROW 16

#endif							/* ANOMALY_METRICS_H */
