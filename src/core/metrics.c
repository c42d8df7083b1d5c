/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  AUROC, average precision and F1 of scores against labels, with ties
 *	  handled by the standard definitions (see metrics.h).
 *
 * One sort of (score, label) pairs, descending, serves every metric: walk
 * the groups of equal scores from the top, and after each group the rows
 * above the next lower score are exactly the ones flagged by a threshold
 * just below the group.  That gives one point of the precision-recall
 * curve per distinct score (average precision), every threshold a
 * deployed model could use (best F1), and, summed over the groups, the
 * Mann-Whitney count: a group's anomalies beat every normal row below it
 * and tie with the normal rows in it.
 *
 * IDENTIFICATION
 *	  src/core/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>

#include "anomaly/metrics.h"

typedef struct ScoredLabel
{
	double		score;
	double		label;			/* 1 or 0; a double keeps the pair 16 bytes */
} ScoredLabel;

/* descending by score */
static int
by_score_desc(const void *a, const void *b)
{
	double		x = ((const ScoredLabel *) a)->score;
	double		y = ((const ScoredLabel *) b)->score;

	return (x < y) - (x > y);
}

AnStatus
an_metrics_compute(AnContext *ctx, const double *scores, const bool *labels,
				   size_t n, double threshold, AnMetrics *out)
{
	ScoredLabel *p;
	double		pos = 0.0,
				neg;
	double		tp = 0.0,
				fp = 0.0;
	double		wins = 0.0;		/* Mann-Whitney count of (anomaly, normal) pairs */
	double		ap = 0.0,
				prev_recall = 0.0;
	double		best_f1 = -1.0,
				best_threshold = NAN;
	double		tp_at = 0.0,
				fp_at = 0.0;

	out->n = n;
	for (size_t i = 0; i < n; i++)
	{
		if (!isfinite(scores[i]))
			return an_error(ctx, AN_ERR_INVALID, "score %zu is not finite", i + 1);
		pos += labels[i] ? 1.0 : 0.0;
	}
	neg = (double) n - pos;
	out->n_positive = (size_t) pos;
	if (pos == 0.0 || neg == 0.0)
		return an_error(ctx, AN_ERR_INVALID,
						"the labels are all %s: the metrics need both anomalies and normal rows",
						pos == 0.0 ? "normal" : "anomalies");

	p = an_alloc_array(ctx, n, sizeof(ScoredLabel));
	if (!p)
		return an_nomem(ctx);
	for (size_t i = 0; i < n; i++)
	{
		p[i].score = scores[i];
		p[i].label = labels[i] ? 1.0 : 0.0;
	}
	qsort(p, n, sizeof(ScoredLabel), by_score_desc);

	for (size_t i = 0; i < n;)
	{
		size_t		j = i;
		double		gtp = 0.0,
					gfp = 0.0;
		double		recall,
					precision,
					f1;

		while (j < n && p[j].score == p[i].score)
		{
			gtp += p[j].label;
			gfp += 1.0 - p[j].label;
			j++;
		}
		/* anomalies of this group beat the normal rows below, tie with its own */
		wins += gtp * (neg - fp - gfp) + 0.5 * gtp * gfp;
		tp += gtp;
		fp += gfp;

		recall = tp / pos;
		precision = tp / (tp + fp);
		ap += (recall - prev_recall) * precision;
		prev_recall = recall;

		/*
		 * Flagging this group and everything above it is the threshold
		 * "score > the next lower score" (or, below the lowest score, any
		 * value under it).
		 */
		f1 = 2.0 * tp / (2.0 * tp + fp + (pos - tp));
		if (f1 > best_f1)
		{
			best_f1 = f1;
			best_threshold = j < n ? p[j].score : nextafter(p[i].score, -INFINITY);
		}
		if (p[i].score > threshold)
		{
			tp_at = tp;
			fp_at = fp;
		}
		i = j;
	}
	an_free(ctx, p);

	out->auroc = wins / (pos * neg);
	out->auprc = ap;
	out->f1_best = best_f1;
	out->threshold_best = best_threshold;
	out->precision = tp_at + fp_at > 0.0 ? tp_at / (tp_at + fp_at) : NAN;
	out->recall = tp_at / pos;
	return AN_OK;
}
