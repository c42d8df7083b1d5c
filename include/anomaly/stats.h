/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  Order statistics of score and feature samples: sorting, quantiles,
 *	  medians and robust spreads.
 *
 * IDENTIFICATION
 *	  include/anomaly/stats.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_STATS_H
#define ANOMALY_STATS_H

#include "anomaly/core.h"

extern void an_sort_doubles(double *v, size_t n);

/* linear interpolation between order statistics (numpy's default) */
extern double an_quantile_sorted(const double *sorted, size_t n, double q);

/*
 * The threshold of contamination => 'auto' from n >= 1 sorted training
 * scores: a high point of their distribution found from its shape, not
 * from an assumed share of anomalies (see stats.c).
 */
#define AN_AUTO_THRESHOLD_K 5.0

extern AnStatus an_threshold_auto(AnContext *ctx, const double *sorted, size_t n,
								  double *threshold);

#endif							/* ANOMALY_STATS_H */
