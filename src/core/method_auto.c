/*-------------------------------------------------------------------------
 *
 * method_auto.c
 *	  The default detector: an ensemble of diverse registered methods, each
 *	  member's score standardised on its own training-score distribution,
 *	  combined into one score.
 *
 * No single method wins on tabular data: an isolation forest misses
 * anomalies between clusters that a nearest-neighbour distance finds, a
 * reconstruction error misses what a density view sees, and each fails
 * badly somewhere another is fine.  An ensemble of members that fail in
 * different places is good nearly everywhere (Aggarwal and Sathe,
 * "Theoretical foundations and algorithms for outlier ensembles", 2015).
 *
 * Members' raw scores live on unrelated scales (a path-length ratio, a
 * distance, a mean squared error), so each is standardised robustly on the
 * scores it gives the training rows: z = (s - median) / spread, with the
 * spread the interquartile range over 1.349 (the standard deviation of a
 * normal distribution), falling back to the mean absolute deviation and
 * then to 1 when most training scores tie.  Robust statistics matter: the
 * training rows hold the anomalies too, and a mean and standard deviation
 * would let them set the scale.  Members of one method (several seeds of
 * an autoencoder) are one detector: their z are averaged, which takes most
 * of the seed's say away.  The detectors are then combined by their
 * maximum (option combine "max", the default) or their mean ("mean"): a row
 * is as anomalous as the detector that finds it most anomalous, so a
 * detector that sees nothing (an isolation forest on rows between
 * clusters) does not dilute one that does.
 *
 * The default members, an isolation forest, PCA and three autoencoders,
 * were chosen on every shared table (60/40 split, 3 seeds; docs/
 * benchmarks.md): mean AUROC 0.841 against 0.797 for the best single
 * method, and a worst seed 0.016 below the mean (0.849 and 0.015 since
 * the autoencoders default to leaky ReLU).  A nearest-neighbour
 * member added 0.0002 there for a training and scoring cost tens of times
 * the others', so it is left out; ECOD, OC-NN and the VAE made the
 * ensemble worse; the mean instead of the maximum lost 0.007.
 *
 * Members are trained one after another on the same scaled rows, with
 * their own defaults (the autoencoders' leaky ReLU among them) and a seed
 * derived from the model's, so that repeated members differ.  The network
 * options, when given, go to the neural members.
 *
 * IDENTIFICATION
 *	  src/core/method_auto.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/method.h"
#include "anomaly/stats.h"
#include "anomaly/trainer.h"

#define AUTO_MAX_MEMBERS	16
#define AUTO_NAME_LEN		32

/* the default members; see docs/benchmarks.md for the evidence */
#define AUTO_DEFAULT_MEMBERS "iforest,pca,autoencoder,autoencoder,autoencoder"

typedef enum AutoCombine
{
	AUTO_COMBINE_MEAN,
	AUTO_COMBINE_MAX
} AutoCombine;

static const char *const combine_names[] = {"mean", "max", NULL};

typedef struct AutoOptions
{
	int			n_members;
	char		members[AUTO_MAX_MEMBERS][AUTO_NAME_LEN];
	AutoCombine combine;
} AutoOptions;

typedef struct AutoMember
{
	const AnMethod *method;
	void	   *state;
	double		center;			/* median of the training scores */
	double		scale;			/* robust spread of the training scores */
	double		log_offset;		/* > 0: standardise log(score + log_offset) */
	int			group;			/* first member of the same method */
} AutoMember;

typedef struct Auto
{
	int			n_members;
	AutoMember	members[AUTO_MAX_MEMBERS];
	AutoCombine combine;
} Auto;

/* ---- options ---- */

/*
 * Parse a comma-separated list of method names into o; every name must be
 * a registered method other than this one.
 */
static AnStatus
parse_members(AnContext *ctx, const char *key, const char *list, AutoOptions *o)
{
	AutoOptions parsed;
	const char *p = list;

	memset(&parsed, 0, sizeof(parsed));
	while (*p)
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		char		name[AUTO_NAME_LEN];
		const AnMethod *m;

		while (len > 0 && *p == ' ')
			p++, len--;
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0 || len >= AUTO_NAME_LEN)
			return an_error(ctx, AN_ERR_INVALID,
							"option \"%s\" must be a comma-separated list of method names", key);
		memcpy(name, p, len);
		name[len] = '\0';
		m = an_method_lookup(name);
		if (!m || strcmp(m->name, "auto") == 0)
			return an_error(ctx, AN_ERR_INVALID,
							"option \"%s\": \"%s\" is not a method an ensemble can hold",
							key, name);
		if (parsed.n_members == AUTO_MAX_MEMBERS)
			return an_error(ctx, AN_ERR_INVALID,
							"option \"%s\" may list at most %d members", key, AUTO_MAX_MEMBERS);
		strcpy(parsed.members[parsed.n_members++], name);
		p += len;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
	}
	if (parsed.n_members == 0)
		return an_error(ctx, AN_ERR_INVALID, "option \"%s\" must name at least one method", key);
	parsed.combine = o->combine;
	*o = parsed;
	return AN_OK;
}

static void
auto_options_init(void *mopts)
{
	AutoOptions *o = mopts;
	AnContext	ctx;

	an_context_init_malloc(&ctx);
	memset(o, 0, sizeof(*o));
	o->combine = AUTO_COMBINE_MAX;
	/* the default list names registered methods only: it parses */
	if (parse_members(&ctx, "members", AUTO_DEFAULT_MEMBERS, o) != AN_OK)
		o->n_members = 0;
}

static AnStatus
auto_set_option(AnContext *ctx, void *mopts, const char *key, const AnOptionValue *v)
{
	AutoOptions *o = mopts;

	if (strcmp(key, "members") == 0)
	{
		if (v->kind != AN_OPTION_STRING)
			return an_error(ctx, AN_ERR_INVALID,
							"option \"%s\" must be a comma-separated list of method names", key);
		return parse_members(ctx, key, v->string, o);
	}
	if (strcmp(key, "combine") == 0)
	{
		int			choice;

		AN_TRY(an_option_choice(ctx, key, v, combine_names, &choice));
		o->combine = (AutoCombine) choice;
		return AN_OK;
	}
	return AN_ERR_NOT_FOUND;
}

/* each member's group: the index of the first member of its method */
static void
assign_groups(Auto *a)
{
	for (int i = 0; i < a->n_members; i++)
	{
		a->members[i].group = i;
		for (int j = 0; j < i; j++)
		{
			if (a->members[j].method == a->members[i].method)
			{
				a->members[i].group = j;
				break;
			}
		}
	}
}

/* ---- training ---- */

static void
auto_destroy(AnContext *ctx, void *state)
{
	Auto	   *a = state;

	for (int i = 0; i < a->n_members; i++)
		if (a->members[i].state)
			a->members[i].method->destroy(ctx, a->members[i].state);
	an_free(ctx, a);
}

/*
 * The member's options: its own defaults, the model's seed (offset per
 * member), contamination and data options, and the network options of the
 * ensemble for a neural member.
 */
static AnStatus
member_options(AnContext *ctx, const AnOptions *opts, const AnMethod *m, int index,
			   int dim, size_t n, AnOptions *mo)
{
	AN_TRY(an_options_init(ctx, mo, m));
	/*
	 * An autoencoder member is one network (its own default averages
	 * several): the ensemble is already a mean over members, and one
	 * network keeps auto's training and scoring cost.
	 */
	if (m->set_option)
	{
		AnOptionValue one = {.kind = AN_OPTION_NUMBER,.number = 1};
		AnStatus	st = m->set_option(ctx, mo->method_options, "networks", &one);

		if (st != AN_OK && st != AN_ERR_NOT_FOUND)
			return st;
	}
	mo->seed = opts->seed + (uint64_t) index * UINT64_C(0x9E3779B97F4A7C15);
	mo->seed_set = true;
	mo->contamination = opts->contamination;
	mo->max_rows = opts->max_rows;
	mo->scaler = opts->scaler;
	mo->max_categories = opts->max_categories;
	if (an_method_is_gradient(m))
	{
		/*
		 * The caller's widths, or else each member's own derived width:
		 * the autoencoder's is at most 64 from 100 inputs on (its
		 * common_defaults), the generic rule's 2d up to 256 otherwise.
		 */
		if (opts->hidden_set)
		{
			memcpy(mo->hidden, opts->hidden, sizeof(mo->hidden));
			mo->n_hidden = opts->n_hidden;
			mo->hidden_set = true;
		}
		mo->latent = opts->latent;
		/* unless given, each member keeps its method's own (leaky ReLU for the autoencoder) */
		if (opts->activation_set)
			mo->activation = opts->activation;
		mo->batch_size = opts->batch_size;
		mo->learning_rate = opts->learning_rate;
		mo->validation_fraction = opts->validation_fraction;
		mo->early_stopping_patience = opts->early_stopping_patience;
		if (opts->weight_decay >= 0)
			mo->weight_decay = opts->weight_decay;
		/* a method's own epoch default (Deep SVDD's) beats the generic rule */
		if (mo->epochs == 0)
			mo->epochs = opts->epochs;
	}
	an_options_resolve(mo, dim, n);
	return AN_OK;
}

/* a member's score on the scale it is standardised on */
static inline double
member_value(const AutoMember *mb, double score)
{
	return mb->log_offset > 0.0 ? log(fmax(score, 0.0) + mb->log_offset) : score;
}

/*
 * Median and robust spread of a member's scores of the training rows.  A
 * member whose training scores are all >= 0 (a distance, an error, a
 * path-length ratio) is standardised on their logarithm: such scores are
 * heavy-tailed, and on their own scale the member with the heaviest tail
 * would own the top of the combined ranking (the maximum) whether or not
 * it is right there.  The offset, a hundredth of the median, keeps a score
 * of 0 finite.  Measured: the same AUROC, AUPRC 0.456 against 0.420.
 */
static AnStatus
standardise_member(AnContext *ctx, AutoMember *mb, const float *x, size_t n, int dim)
{
	double	   *s = an_alloc_array(ctx, n, sizeof(double));
	double		spread,
				mad = 0.0,
				offset;

	if (!s)
		return an_nomem(ctx);
	for (size_t i = 0; i < n; i += AN_SCORE_BATCH)
	{
		int			m = (int) (n - i < AN_SCORE_BATCH ? n - i : AN_SCORE_BATCH);

		mb->method->score(mb->state, x + i * dim, m, s + i);
	}
	for (size_t i = 0; i < n; i++)
	{
		if (!isfinite(s[i]))
		{
			an_free(ctx, s);
			return an_error(ctx, AN_ERR_NUMERIC,
							"ensemble member \"%s\" gave a training row a non-finite score",
							mb->method->name);
		}
	}
	an_sort_doubles(s, n);
	offset = 0.01 * an_quantile_sorted(s, n, 0.5);
	mb->log_offset = 0.0;
	if (s[0] >= 0.0 && offset > 0.0 && isfinite(log(offset)))
	{
		mb->log_offset = offset;
		for (size_t i = 0; i < n; i++)
			s[i] = member_value(mb, s[i]);
	}
	mb->center = an_quantile_sorted(s, n, 0.5);
	spread = (an_quantile_sorted(s, n, 0.75) - an_quantile_sorted(s, n, 0.25)) / 1.349;
	if (!(spread > 1e-12 * fmax(1.0, fabs(mb->center))))
	{
		for (size_t i = 0; i < n; i++)
			mad += fabs(s[i] - mb->center);
		spread = mad / (double) n * 1.2533;	/* sd of a normal over its mean abs. dev. */
	}
	if (!(spread > 1e-12 * fmax(1.0, fabs(mb->center))))
		spread = 1.0;
	mb->scale = spread;
	an_free(ctx, s);
	return AN_OK;
}

static AnStatus
auto_fit(AnContext *ctx, const AnOptions *opts, const float *x, size_t n, int dim,
		 AnRng *rng, void **state)
{
	const AutoOptions *o = opts->method_options;
	Auto	   *a;
	AnStatus	st = AN_OK;

	(void) rng;
	if (o->n_members == 0)
		return an_error(ctx, AN_ERR_INVALID, "the ensemble has no members");
	a = an_alloc0(ctx, sizeof(Auto));
	if (!a)
		return an_nomem(ctx);
	a->combine = o->combine;
	for (int i = 0; i < o->n_members && st == AN_OK; i++)
	{
		AutoMember *mb = &a->members[i];
		AnOptions	mo;
		AnRng		mrng;
		AnTrainResult result;

		if (an_check_interrupts(ctx))
		{
			st = an_error(ctx, AN_ERR_INTERRUPTED, "training was interrupted");
			break;
		}
		mb->method = an_method_lookup(o->members[i]);
		if (!mb->method)
		{
			st = an_error(ctx, AN_ERR_INVALID, "unknown ensemble member \"%s\"", o->members[i]);
			break;
		}
		memset(&mo, 0, sizeof(mo));
		st = member_options(ctx, opts, mb->method, i, dim, n, &mo);
		if (st == AN_OK)
		{
			an_rng_seed(&mrng, mo.seed);
			st = an_method_train(ctx, &mo, x, n, dim, &mrng, &mb->state, &result);
		}
		an_options_free(ctx, &mo);
		if (st == AN_OK)
		{
			a->n_members = i + 1;
			st = standardise_member(ctx, mb, x, n, dim);
		}
	}
	if (st != AN_OK)
	{
		auto_destroy(ctx, a);
		return st;
	}
	assign_groups(a);
	*state = a;
	return AN_OK;
}

/* ---- scoring ---- */

/*
 * Members of one method (several seeds of an autoencoder, say) are one
 * detector: their z are averaged first, which damps the seed's say; the
 * detectors are then combined by the rule.  Members of a method are
 * contiguous or not, it does not matter: group is the index of the first
 * member of the same method.
 */
static void
auto_score(void *state, const float *x, int n, double *out)
{
	Auto	   *a = state;
	double		s[AN_SCORE_BATCH];
	double		group_sum[AUTO_MAX_MEMBERS][AN_SCORE_BATCH];
	int			group_size[AUTO_MAX_MEMBERS] = {0};
	int			n_groups = 0;

	for (int i = 0; i < a->n_members; i++)
	{
		AutoMember *mb = &a->members[i];
		int			g = mb->group;

		mb->method->score(mb->state, x, n, s);
		if (group_size[g]++ == 0)
		{
			n_groups++;
			for (int k = 0; k < n; k++)
				group_sum[g][k] = 0.0;
		}
		for (int k = 0; k < n; k++)
			group_sum[g][k] += (member_value(mb, s[k]) - mb->center) / mb->scale;
	}
	for (int k = 0; k < n; k++)
		out[k] = a->combine == AUTO_COMBINE_MAX ? -INFINITY : 0.0;
	for (int g = 0; g < a->n_members; g++)
	{
		if (group_size[g] == 0)
			continue;
		for (int k = 0; k < n; k++)
		{
			double		z = group_sum[g][k] / group_size[g];

			if (a->combine == AUTO_COMBINE_MAX)
				out[k] = fmax(out[k], z);
			else
				out[k] += z / n_groups;
		}
	}
}


/* ---- document ---- */

static AnStatus
auto_encode(AnContext *ctx, const void *state, AnPacker *pk)
{
	const Auto *a = state;

	msgpack_pack_map(pk, 2);
	an_pack_key_str(pk, "combine", combine_names[a->combine]);
	an_pack_str(pk, "members");
	msgpack_pack_array(pk, a->n_members);
	for (int i = 0; i < a->n_members; i++)
	{
		const AutoMember *mb = &a->members[i];

		msgpack_pack_map(pk, 5);
		an_pack_key_str(pk, "method", mb->method->name);
		an_pack_key_real(pk, "log_offset", mb->log_offset);
		an_pack_key_real(pk, "center", mb->center);
		an_pack_key_real(pk, "scale", mb->scale);
		an_pack_str(pk, "state");
		AN_TRY(mb->method->encode(ctx, mb->state, pk));
	}
	return AN_OK;
}

static AnStatus
decode_member(AnContext *ctx, const AnObject *mo, int dim, AutoMember *mb)
{
	const AnObject *name = an_map_get(mo, "method");
	const AnObject *st;
	char		buf[AUTO_NAME_LEN];

	if (mo->type != MSGPACK_OBJECT_MAP || !name || name->type != MSGPACK_OBJECT_STR ||
		name->via.str.size >= sizeof(buf))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: an ensemble member has no method");
	memcpy(buf, name->via.str.ptr, name->via.str.size);
	buf[name->via.str.size] = '\0';
	mb->method = an_method_lookup(buf);
	/* an ensemble inside an ensemble could nest without bound */
	if (!mb->method || strcmp(buf, "auto") == 0)
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: unknown ensemble member \"%s\"", buf);
	AN_TRY(an_get_real(ctx, mo, "log_offset", &mb->log_offset));
	if (!(mb->log_offset >= 0.0) || !isfinite(mb->log_offset))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: an ensemble member's log offset is negative");
	AN_TRY(an_get_real(ctx, mo, "center", &mb->center));
	AN_TRY(an_get_real(ctx, mo, "scale", &mb->scale));
	if (!(mb->scale > 0.0) || !isfinite(mb->scale) || !isfinite(mb->center))
		return an_error(ctx, AN_ERR_CORRUPT,
						"corrupt model document: an ensemble member's scale is not positive");
	AN_TRY(an_get_map(ctx, mo, "state", &st));
	return mb->method->decode(ctx, st, dim, &mb->state);
}

static AnStatus
auto_decode(AnContext *ctx, const AnObject *obj, int dim, void **state)
{
	Auto	   *a = an_alloc0(ctx, sizeof(Auto));
	const AnObject *members;
	const AnObject *combine;
	AnStatus	st = AN_OK;

	if (!a)
		return an_nomem(ctx);
	combine = an_map_get(obj, "combine");
	if (combine && an_object_str_eq(combine, "max"))
		a->combine = AUTO_COMBINE_MAX;
	else if (!combine || !an_object_str_eq(combine, "mean"))
		st = an_error(ctx, AN_ERR_CORRUPT,
					  "corrupt model document: unknown ensemble combination");
	if (st == AN_OK)
		st = an_get_array(ctx, obj, "members", &members);
	if (st == AN_OK && (members->via.array.size < 1 ||
						members->via.array.size > AUTO_MAX_MEMBERS))
		st = an_error(ctx, AN_ERR_CORRUPT,
					  "corrupt model document: an ensemble of %u members",
					  members->via.array.size);
	for (uint32_t i = 0; st == AN_OK && i < members->via.array.size; i++)
	{
		st = decode_member(ctx, &members->via.array.ptr[i], dim, &a->members[i]);
		if (a->members[i].state)
			a->n_members = (int) i + 1;
	}
	if (st != AN_OK)
	{
		auto_destroy(ctx, a);
		return st;
	}
	assign_groups(a);
	*state = a;
	return AN_OK;
}

static AnStatus auto_explain(AnContext *ctx, void *state, const float *x, int dim,
							 double *contrib, double *rest);

const AnMethod an_method_auto = {
	.name = "auto",
	.options_size = sizeof(AutoOptions),
	.options_init = auto_options_init,
	.set_option = auto_set_option,
	.fit = auto_fit,
	.network_options = true,
	.sizing_options = "\"members\", \"batch_size\" or \"hidden\"",
	.score = auto_score,
	.explain = auto_explain,
	.encode = auto_encode,
	.decode = auto_decode,
	.destroy = auto_destroy,
};

/* ---- explanations ---- */

/*
 * The ensemble's score is the z of its top detector (combine "max") or the
 * mean z of its detectors ("mean"); a z is a monotone function of the
 * members' scores, which have no common additive form.  So a detector's
 * explanation is the shares of its members' own contributions (each
 * member's contributions over their sum, averaged over the members of the
 * detector), and the ensemble's is those shares times the z that counts:
 * the top detector's z for "max", each detector's z over their number for
 * "mean".  The contributions add up to the ensemble's score; a member
 * whose contributions sum to zero (a row at the training centre) gives no
 * shares, and its part of the score is the rest.
 */
static AnStatus
auto_explain(AnContext *ctx, void *state, const float *x, int dim, double *contrib,
			 double *rest)
{
	Auto	   *a = state;
	double		z[AUTO_MAX_MEMBERS] = {0};
	int			size[AUTO_MAX_MEMBERS] = {0};
	int			n_groups = 0,
				top = -1;
	double		score;
	double	   *member = an_alloc_array(ctx, dim, sizeof(double));
	AnStatus	st = AN_OK;

	if (!member)
		return an_nomem(ctx);
	for (int i = 0; i < a->n_members; i++)
	{
		AutoMember *mb = &a->members[i];
		double		s;

		mb->method->score(mb->state, x, 1, &s);
		if (size[mb->group]++ == 0)
			n_groups++;
		z[mb->group] += (member_value(mb, s) - mb->center) / mb->scale;
	}
	for (int g = 0; g < a->n_members; g++)
	{
		if (size[g] == 0)
			continue;
		z[g] /= size[g];
		if (top < 0 || z[g] > z[top])
			top = g;
	}
	auto_score(state, x, 1, &score);

	for (int j = 0; j < dim; j++)
		contrib[j] = 0.0;
	*rest = score;
	for (int i = 0; i < a->n_members && st == AN_OK; i++)
	{
		AutoMember *mb = &a->members[i];
		int			g = mb->group;
		double		weight = a->combine == AUTO_COMBINE_MAX
			? (g == top ? z[g] : 0.0) : z[g] / n_groups;
		double		member_rest,
					sum = 0.0;

		if (weight == 0.0)
			continue;
		if (!mb->method->explain)
		{
			st = an_error(ctx, AN_ERR_INVALID, "method %s cannot explain its scores",
						  mb->method->name);
			break;
		}
		st = mb->method->explain(ctx, mb->state, x, dim, member, &member_rest);
		for (int j = 0; st == AN_OK && j < dim; j++)
			sum += member[j];
		if (st != AN_OK || !(fabs(sum) > 0.0) || !isfinite(sum))
			continue;
		/* this member's shares, for its part of its detector's weight */
		for (int j = 0; j < dim; j++)
			contrib[j] += weight / size[g] * member[j] / sum;
		*rest -= weight / size[g];
	}
	an_free(ctx, member);
	return st;
}
