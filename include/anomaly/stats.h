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

#endif							/* ANOMALY_STATS_H */
