/*-------------------------------------------------------------------------
 *
 * test_ocnn.c
 *	  Unit tests of the one-class neural network (method_ocnn.c): its
 *	  options, its stored layout, gradients of its whole training objective
 *	  against finite differences and a double-precision re-implementation,
 *	  the nu-quantile step for r, training, detection, a decoder that
 *	  refuses damaged state without leaking, and interrupts.  The round
 *	  trip, whole damaged documents, allocation failures and seeds run in
 *	  test_methods.c, with and without pretraining and RBF centres.
 *
 * The method's state is private to its file, so the tests reach it the
 * way the trainer does: through the AnMethod callbacks (create, prepare,
 * train_batch, eval_loss, epoch_end, params, score, encode, decode).  The
 * parameter list is V (units x in), w (units) and r (one float).
 *
 * IDENTIFICATION
 *	  test/unit/test_ocnn.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "unit.h"

/* ---- helpers ---- */

/*
 * Small OC-NN options: encoder FIX_DIM -> 8 -> 3 pretrained for 3 epochs,
 * the given centres, 6 hidden units, nu 0.1, batches of 32, learning rate
 * 0.01.
 */
static AnStatus
oc_options(AnContext *ctx, AnOptions *opts, int epochs, uint64_t seed, size_t n,
		   bool pretrain, int centers)
{
	static const double hidden[1] = {8};
	AnOptionValue v = {.kind = AN_OPTION_ARRAY, .items = hidden, .n_items = 1};

	AN_TRY(an_options_init(ctx, opts, an_method_lookup("ocnn")));
	AN_TRY(an_options_set(ctx, opts, "hidden", &v));
	AN_TRY(unit_set_num(ctx, opts, "latent", 3));
	AN_TRY(unit_set_num(ctx, opts, "epochs", epochs));
	AN_TRY(unit_set_num(ctx, opts, "batch_size", 32));
	AN_TRY(unit_set_num(ctx, opts, "learning_rate", 0.01));
	AN_TRY(unit_set_num(ctx, opts, "seed", (double) seed));
	AN_TRY(unit_set_num(ctx, opts, "units", 6));
	AN_TRY(unit_set_num(ctx, opts, "pretrain_epochs", 3));
	AN_TRY(unit_set_num(ctx, opts, "rbf_centers", centers));
	AN_TRY(unit_set_num(ctx, opts, "nu", 0.1));
	AN_TRY(unit_set_bool(ctx, opts, "pretrain", pretrain));
	an_options_resolve(opts, FIX_DIM, n);
	return AN_OK;
}

/* fixture rows, spec, scaler and an_model_fit with the given options */
static AnStatus
oc_fit(AnContext *ctx, AnModel *model, const AnOptions *opts, uint64_t data_seed,
	   size_t n, float **x)
{
	double	   *raw = fixture_rows(data_seed, n);
	float	   *scaled = NULL;
	AnStatus	st;

	st = fixture_prepare(ctx, model, raw, n, AN_SCALER_STANDARD, &scaled);
	if (st == AN_OK)
		st = an_model_fit(ctx, model, opts, scaled, n);
	free(raw);
	if (x)
		*x = scaled;
	else
		free(scaled);
	return st;
}

static double
sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* ---- registry and options ---- */

UNIT_TEST(ocnn_registered)
{
	CHECK(an_method_lookup("ocnn") == an_method_lookup("ocnn"));
	CHECK_CONTAINS(an_method_names(), "ocnn");
	CHECK(an_method_lookup("ocnn")->options_size > 0);
	CHECK(an_method_lookup("ocnn")->prepare && an_method_lookup("ocnn")->epoch_end && an_method_lookup("ocnn")->eval_loss);
}

UNIT_TEST(ocnn_options_validation)
{
	AnContext	ctx;
	AnOptions	opts;

	unit_context_malloc(&ctx);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("ocnn")) == AN_OK);
	REQUIRE(opts.method_options != NULL);

	CHECK_ACCEPTED(&ctx, &opts, "nu", unit_num(1));
	CHECK_ACCEPTED(&ctx, &opts, "nu", unit_num(1e-6));
	CHECK_ACCEPTED(&ctx, &opts, "nu", unit_num(0.25));
	CHECK_ACCEPTED(&ctx, &opts, "units", unit_num(1));
	CHECK_ACCEPTED(&ctx, &opts, "units", unit_num(65536));
	CHECK_ACCEPTED(&ctx, &opts, "pretrain", unit_bool(false));
	CHECK_ACCEPTED(&ctx, &opts, "pretrain", unit_bool(true));
	CHECK_ACCEPTED(&ctx, &opts, "pretrain_epochs", unit_num(1));
	CHECK_ACCEPTED(&ctx, &opts, "pretrain_epochs", unit_num(100000));
	CHECK_ACCEPTED(&ctx, &opts, "rbf_centers", unit_num(0));
	CHECK_ACCEPTED(&ctx, &opts, "rbf_centers", unit_num(4096));
	CHECK_ACCEPTED(&ctx, &opts, "rbf_gamma", unit_num(0.5));
	CHECK_ACCEPTED(&ctx, &opts, "rbf_gamma", unit_num(1e6));
	/* and the common options still work */
	CHECK_ACCEPTED(&ctx, &opts, "weight_decay", unit_num(0.3));
	CHECK(opts.weight_decay == 0.3);

	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(0));
	CHECK_CONTAINS(ctx.errmsg, "(0, 1]");
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(-0.1));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(1.5));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_num(NAN));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_str("0.1"));
	CHECK_REJECTED(&ctx, &opts, "nu", unit_bool(true));
	CHECK_REJECTED(&ctx, &opts, "units", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "units", unit_num(2.5));
	CHECK_REJECTED(&ctx, &opts, "units", unit_num(65537));
	CHECK_REJECTED(&ctx, &opts, "units", unit_str("8"));
	CHECK_REJECTED(&ctx, &opts, "pretrain", unit_num(1));
	CHECK_REJECTED(&ctx, &opts, "pretrain", unit_str("true"));
	CHECK_CONTAINS(ctx.errmsg, "boolean");
	CHECK_REJECTED(&ctx, &opts, "pretrain_epochs", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "pretrain_epochs", unit_num(100001));
	CHECK_REJECTED(&ctx, &opts, "rbf_centers", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "rbf_centers", unit_num(4097));
	CHECK_REJECTED(&ctx, &opts, "rbf_centers", unit_num(2.5));
	CHECK_REJECTED(&ctx, &opts, "rbf_gamma", unit_num(0));
	CHECK_REJECTED(&ctx, &opts, "rbf_gamma", unit_num(-1));
	CHECK_REJECTED(&ctx, &opts, "rbf_gamma", unit_num(1e7));
	CHECK_REJECTED(&ctx, &opts, "rbf_gamma", unit_num(INFINITY));

	/* a key neither the core nor the method knows */
	CHECK_REJECTED(&ctx, &opts, "nus", unit_num(0.1));
	CHECK_CONTAINS(ctx.errmsg, "method \"ocnn\"");
	/* the autoencoder does not take the OC-NN's options */
	{
		AnOptions	ae;

		REQUIRE(an_options_init(&ctx, &ae, an_method_lookup("autoencoder")) == AN_OK);
		CHECK_REJECTED(&ctx, &ae, "nu", unit_num(0.1));
		an_options_free(&ctx, &ae);
	}
	an_options_free(&ctx, &opts);
}

/* without its L2 term the objective has no minimum */
UNIT_TEST(ocnn_rejects_zero_weight_decay)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	AnModel		model;

	unit_context_counting(&ctx, &counter);
	REQUIRE(oc_options(&ctx, &opts, 1, 3, 100, true, 4) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "weight_decay", 0) == AN_OK);
	CHECK_STATUS(oc_fit(&ctx, &model, &opts, 3, 100, NULL), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "\"weight_decay\"");
	CHECK_CONTAINS(ctx.errmsg, "positive");
	an_model_free(&ctx, &model);
	/* any positive value is fine */
	REQUIRE(unit_set_num(&ctx, &opts, "weight_decay", 1e-4) == AN_OK);
	CHECK_STATUS(oc_fit(&ctx, &model, &opts, 3, 100, NULL), AN_OK);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
}

/* ---- the stored layout ---- */

/* widths of a stored network; returns the number of layers */
static int
stored_widths(AnContext *ctx, const AnObject *state, const char *key, int *dims,
			  const char **acts, bool *bias)
{
	const AnObject *net;
	const AnObject *layers;
	int			n;

	if (an_get_map(ctx, state, key, &net) != AN_OK ||
		an_get_array(ctx, net, "layers", &layers) != AN_OK)
		return -1;
	n = (int) layers->via.array.size;
	*bias = false;
	for (int l = 0; l < n && l < 4; l++)
	{
		const AnObject *layer = &layers->via.array.ptr[l];
		int64_t		in = -1,
					out = -1;

		an_get_int(ctx, layer, "in", 0, 1 << 20, &in);
		an_get_int(ctx, layer, "out", 0, 1 << 20, &out);
		dims[l] = (int) in;
		dims[l + 1] = (int) out;
		acts[l] = an_object_str_eq(an_map_get(layer, "activation"), "sigmoid") ? "sigmoid"
			: an_object_str_eq(an_map_get(layer, "activation"), "identity") ? "identity"
			: an_object_str_eq(an_map_get(layer, "activation"), "relu") ? "relu" : "other";
		*bias |= an_map_get(layer, "bias") != NULL;
	}
	return n;
}

/* the defaults: pretrained, 64 centres, 32 units, nu 0.5 */
UNIT_TEST(ocnn_default_layout)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	AnModel		model;
	FixtureState doc;
	const AnObject *st;
	int			dims[5];
	const char *acts[4];
	bool		bias;
	bool		pretrained = false;
	int64_t		centers = -1;
	double		nu = 0,
				gamma = 0;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("ocnn")) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "epochs", 1) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "seed", 4) == AN_OK);
	an_options_resolve(&opts, FIX_DIM, 300);
	REQUIRE(oc_fit(&ctx, &model, &opts, 4, 300, NULL) == AN_OK);
	st = fixture_state_object(&ctx, model.method, model.state, &doc);
	REQUIRE(st != NULL);

	CHECK(an_get_bool(&ctx, st, "pretrained", &pretrained) == AN_OK && pretrained);
	CHECK(an_get_int(&ctx, st, "rbf_centers", 0, 10000, &centers) == AN_OK && centers == 64);
	CHECK(an_get_real(&ctx, st, "nu", &nu) == AN_OK && nu == 0.5);
	CHECK(an_get_real(&ctx, st, "rbf_gamma", &gamma) == AN_OK && gamma > 0);
	/* the default autoencoder: 9 -> 32 -> 8 (latent half of 16) */
	CHECK(stored_widths(&ctx, st, "encoder", dims, acts, &bias) == 2);
	CHECK(dims[0] == FIX_DIM && dims[1] == 32 && dims[2] == 8);
	CHECK(strcmp(acts[0], "relu") == 0 && strcmp(acts[1], "identity") == 0 && bias);
	/* 64 similarities -> 32 sigmoid units -> 1, without bias */
	CHECK(stored_widths(&ctx, st, "network", dims, acts, &bias) == 2);
	CHECK(dims[0] == 64 && dims[1] == 32 && dims[2] == 1);
	CHECK(strcmp(acts[0], "sigmoid") == 0 && strcmp(acts[1], "identity") == 0 && !bias);
	CHECK(an_map_get(st, "rbf_points") && an_map_get(st, "rbf_points")->via.bin.size == 64 * 8 * 4);
	CHECK(st->via.map.size == 8);

	fixture_state_free(&doc);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
}

/*
 * The centres are codes of distinct training rows, gamma is three over the
 * total variance of the codes, and the options shape the network.
 */
static void
check_layout(bool pretrain, int centers, size_t n)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnOptions	opts;
	AnModel		model;
	FixtureState doc;
	const AnObject *st;
	float	   *x = NULL;
	AnMlp		enc;
	int			dims[5];
	const char *acts[4];
	bool		bias;
	int			k = pretrain ? 3 : FIX_DIM;
	int			in = centers > 0 ? centers : k;
	float	   *codes;
	int64_t		m = -1;
	double		nu = 0;

	unit_context_counting(&ctx, &counter);
	REQUIRE(oc_options(&ctx, &opts, 2, 8, n, pretrain, centers) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "nu", 0.2) == AN_OK);
	REQUIRE(oc_fit(&ctx, &model, &opts, 8, n, &x) == AN_OK);
	st = fixture_state_object(&ctx, model.method, model.state, &doc);
	REQUIRE(st != NULL);

	CHECK(an_get_real(&ctx, st, "nu", &nu) == AN_OK && nu == 0.2);
	CHECK(an_get_int(&ctx, st, "rbf_centers", 0, 10000, &m) == AN_OK && m == centers);
	CHECK(stored_widths(&ctx, st, "network", dims, acts, &bias) == 2);
	CHECK(dims[0] == in && dims[1] == 6 && dims[2] == 1 && !bias);
	CHECK(st->via.map.size == (uint32_t) (5 + (pretrain ? 1 : 0) + (centers > 0 ? 2 : 0)));
	CHECK((an_map_get(st, "encoder") != NULL) == pretrain);
	CHECK((an_map_get(st, "rbf_points") != NULL) == (centers > 0));

	/* the codes of every training row */
	codes = malloc(n * k * sizeof(float));
	if (pretrain)
	{
		/*
		 * trainable, as in training: a decoded (inference) network scores one
		 * row through rowkernel.c, whose sums run in another order
		 */
		REQUIRE(an_get_mlp(&ctx, st, "encoder", FIX_DIM, true, 1, &enc) == AN_OK);
		CHECK(enc.dims[0] == FIX_DIM && enc.dims[1] == 8 && enc.dims[2] == 3);
		for (size_t i = 0; i < n; i++)
			memcpy(codes + i * k, an_mlp_forward(&enc, x + i * FIX_DIM, 1), k * sizeof(float));
		an_mlp_free(&ctx, &enc);
	}
	else
		memcpy(codes, x, n * k * sizeof(float));

	if (centers > 0)
	{
		float	   *pts = malloc((size_t) centers * k * sizeof(float));
		int		   *row_of = malloc(centers * sizeof(int));
		double		mean[FIX_DIM] = {0},
					sq[FIX_DIM] = {0},
					total = 0,
					gamma = 0;
		int			unmatched = 0,
					repeated = 0;

		REQUIRE(an_get_floats(&ctx, st, "rbf_points", pts, (size_t) centers * k) == AN_OK);
		for (int c = 0; c < centers; c++)
		{
			row_of[c] = -1;
			for (size_t i = 0; i < n && row_of[c] < 0; i++)
				if (memcmp(pts + (size_t) c * k, codes + i * k, k * sizeof(float)) == 0)
					row_of[c] = (int) i;
			unmatched += row_of[c] < 0;
			for (int p = 0; p < c; p++)
				repeated += row_of[p] == row_of[c];
		}
		CHECK(unmatched == 0);
		/* distinct rows when there are enough of them */
		if (n >= (size_t) centers)
			CHECK(repeated == 0);
		else
			CHECK(repeated > 0);

		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < k; j++)
			{
				mean[j] += codes[i * k + j];
				sq[j] += (double) codes[i * k + j] * codes[i * k + j];
			}
		for (int j = 0; j < k; j++)
			total += sq[j] / n - (mean[j] / n) * (mean[j] / n);
		CHECK(an_get_real(&ctx, st, "rbf_gamma", &gamma) == AN_OK);
		CHECK_CLOSE(gamma, 3.0 / total, 1e-4, 0);
		free(pts);
		free(row_of);
	}
	free(codes);
	free(x);
	fixture_state_free(&doc);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(ocnn_layout_and_feature_map)
{
	check_layout(true, 12, 200);
	check_layout(false, 12, 200);
	check_layout(true, 0, 200);
	check_layout(false, 0, 200);
	/* fewer rows than centres: drawn with replacement */
	check_layout(true, 40, 25);
}

/* ---- gradients of the whole objective ---- */

/* the OC-NN state on n fixture rows, after create and prepare */
typedef struct OcProbe
{
	AnContext	ctx;
	UnitAlloc	counter;
	AnOptions	opts;
	AnRng		rng;
	AnModel		holder;			/* spec and scaler only */
	float	   *x;
	size_t		n;
	void	   *state;
	AnParamList params;
} OcProbe;

static bool
probe_init(OcProbe *p, bool pretrain, int centers, double weight_decay, size_t n,
		   uint64_t seed)
{
	double	   *raw = fixture_rows(seed, n);

	memset(p, 0, sizeof(*p));
	unit_context_counting(&p->ctx, &p->counter);
	p->n = n;
	if (fixture_prepare(&p->ctx, &p->holder, raw, n, AN_SCALER_STANDARD, &p->x) != AN_OK ||
		oc_options(&p->ctx, &p->opts, 5, seed, n, pretrain, centers) != AN_OK ||
		(weight_decay >= 0 &&
		 unit_set_num(&p->ctx, &p->opts, "weight_decay", weight_decay) != AN_OK))
	{
		free(raw);
		return false;
	}
	free(raw);
	an_rng_seed(&p->rng, seed);
	if (an_method_lookup("ocnn")->create(&p->ctx, &p->opts, FIX_DIM, &p->rng, &p->state) != AN_OK ||
		an_method_lookup("ocnn")->prepare(&p->ctx, p->state, &p->opts, p->x, n, &p->rng) != AN_OK)
		return false;
	an_method_lookup("ocnn")->params(p->state, &p->params);
	return p->params.n == 3;
}

static void
probe_free(OcProbe *p)
{
	if (p->state)
		an_method_lookup("ocnn")->destroy(&p->ctx, p->state);
	an_model_free(&p->ctx, &p->holder);
	an_options_free(&p->ctx, &p->opts);
	free(p->x);
	CHECK_NO_LEAKS(&p->counter);
}

/* the network's inputs for rows x, rebuilt from the stored state */
static double *
reference_features(OcProbe *p, const float *x, int n, int *width)
{
	FixtureState doc;
	const AnObject *st = fixture_state_object(&p->ctx, an_method_lookup("ocnn"), p->state,
											 &doc);
	bool		pretrained = false;
	int64_t		m = 0;
	int			k = FIX_DIM;
	float	   *codes = malloc((size_t) n * FIX_DIM * sizeof(float));
	double	   *g;

	if (!st)
		return NULL;
	an_get_bool(&p->ctx, st, "pretrained", &pretrained);
	an_get_int(&p->ctx, st, "rbf_centers", 0, 10000, &m);
	if (pretrained)
	{
		AnMlp		enc;

		if (an_get_mlp(&p->ctx, st, "encoder", FIX_DIM, false, n, &enc) != AN_OK)
			return NULL;
		k = an_mlp_out_dim(&enc);
		/* a frozen encoder: its float outputs are the constants of the check */
		memcpy(codes, an_mlp_forward(&enc, x, n), (size_t) n * k * sizeof(float));
		an_mlp_free(&p->ctx, &enc);
	}
	else
		memcpy(codes, x, (size_t) n * k * sizeof(float));

	if (m > 0)
	{
		float	   *pts = malloc((size_t) m * k * sizeof(float));
		double		gamma = 0;

		an_get_floats(&p->ctx, st, "rbf_points", pts, (size_t) m * k);
		an_get_real(&p->ctx, st, "rbf_gamma", &gamma);
		g = malloc((size_t) n * m * sizeof(double));
		for (int i = 0; i < n; i++)
			for (int c = 0; c < m; c++)
			{
				double		d2 = 0;

				for (int j = 0; j < k; j++)
				{
					double		t = (double) codes[i * k + j] - pts[c * k + j];

					d2 += t * t;
				}
				g[i * m + c] = exp(-gamma * d2);
			}
		*width = (int) m;
		free(pts);
	}
	else
	{
		g = malloc((size_t) n * k * sizeof(double));
		for (int i = 0; i < n * k; i++)
			g[i] = codes[i];
		*width = k;
	}
	free(codes);
	fixture_state_free(&doc);
	return g;
}

/*
 * The paper's objective in double precision: lambda/2 (||V||^2 + ||w||^2)
 * + 1/(nu n) sum max(0, r - w . sigmoid(V g_i)) - r; *active counts the
 * rows inside the hinge (a hash of which ones, to detect kinks).
 */
static double
reference_objective(const double *V, const double *w, double r, const double *g,
					int n, int in, int units, double nu, double lambda, uint64_t *active)
{
	double		reg = 0,
				hinge = 0;
	uint64_t	h = UINT64_C(1469598103934665603);

	for (int i = 0; i < units * in; i++)
		reg += V[i] * V[i];
	for (int u = 0; u < units; u++)
		reg += w[u] * w[u];
	for (int i = 0; i < n; i++)
	{
		double		y = 0;

		for (int u = 0; u < units; u++)
		{
			double		a = 0;

			for (int j = 0; j < in; j++)
				a += V[u * in + j] * g[i * in + j];
			y += w[u] * sigmoid(a);
		}
		if (r - y > 0)
			hinge += r - y;
		h = (h ^ (uint64_t) (r - y > 0)) * UINT64_C(1099511628211);
	}
	if (active)
		*active = h;
	return 0.5 * lambda * reg + hinge / (nu * n) - r;
}

/* which rows are inside the hinge, from the scores r - yhat */
static uint64_t
active_hash(OcProbe *p, const float *x, int n)
{
	double		s[64];
	uint64_t	h = UINT64_C(1469598103934665603);

	an_method_lookup("ocnn")->score(p->state, x, n, s);
	for (int i = 0; i < n; i++)
		h = (h ^ (uint64_t) (s[i] > 0)) * UINT64_C(1099511628211);
	return h;
}

static void
ocnn_gradcheck(bool pretrain, int centers, double weight_decay, uint64_t seed)
{
	enum
	{
		N = 24
	};
	OcProbe		p;
	AnParam    *V,
			   *w,
			   *r;
	const float *xb;
	double		scores[N],
				sorted[N];
	double		lambda = weight_decay >= 0 ? weight_decay : 1.0;
	double		nu = 0.1;
	float	   *p0,
			   *grad;
	size_t		total;
	double		loss_eval,
				loss_train;
	int			in,
				units,
				width = 0;
	double	   *g,
			   *Vd,
			   *wd;
	int			compared = 0,
				skipped = 0,
				bad_float = 0,
				bad_ref = 0;
	double		max_grad = 0,
				diff2 = 0,
				sum2 = 0;

	REQUIRE(probe_init(&p, pretrain, centers, weight_decay, 200, seed));
	V = &p.params.items[0];
	w = &p.params.items[1];
	r = &p.params.items[2];
	units = (int) w->size;
	/* w starts at the optimum along the shared direction, 1 / (2 lambda) */
	for (int u = 0; u < units; u++)
		CHECK(w->value[u] == (float) (0.5 / lambda));
	in = (int) (V->size / units);
	CHECK(units == 6 && r->size == 1);
	CHECK(in == (centers > 0 ? centers : pretrain ? 3 : FIX_DIM));
	xb = p.x;

	/*
	 * Put r in the widest gap between two outputs in the middle half, so
	 * that many rows are inside the hinge and none sits near its kink.
	 */
	an_method_lookup("ocnn")->score(p.state, xb, N, scores);
	for (int i = 0; i < N; i++)
		sorted[i] = *r->value - scores[i];
	an_sort_doubles(sorted, N);
	{
		int			gap = N / 4;

		for (int i = N / 4; i < 3 * N / 4; i++)
			if (sorted[i + 1] - sorted[i] > sorted[gap + 1] - sorted[gap])
				gap = i;
		*r->value = (float) (0.5 * (sorted[gap] + sorted[gap + 1]));
		CHECK(sorted[gap + 1] - sorted[gap] > 1e-6);
	}

	total = an_params_total(&p.params);
	p0 = malloc(total * sizeof(float));
	grad = malloc((V->size + w->size) * sizeof(float));
	an_params_save(&p.params, p0);

	/* the step's loss is the objective before the step, its gradients ours */
	loss_eval = an_method_lookup("ocnn")->eval_loss(p.state, xb, N);
	loss_train = an_method_lookup("ocnn")->train_batch(p.state, xb, N, &p.rng);
	CHECK(isfinite(loss_eval));
	CHECK_CLOSE(loss_train, loss_eval, 1e-12, 1e-12);
	memcpy(grad, V->grad, V->size * sizeof(float));
	memcpy(grad + V->size, w->grad, w->size * sizeof(float));
	CHECK(*r->grad == 0.0f);
	/* the step moved the weights but not r */
	CHECK(memcmp(V->value, p0, V->size * sizeof(float)) != 0);
	CHECK(*r->value == p0[V->size + w->size]);
	an_params_restore(&p.params, p0);

	/* the same objective re-implemented in double */
	g = reference_features(&p, xb, N, &width);
	REQUIRE(g != NULL && width == in);
	Vd = malloc(V->size * sizeof(double));
	wd = malloc(w->size * sizeof(double));
	for (size_t i = 0; i < V->size; i++)
		Vd[i] = V->value[i];
	for (size_t i = 0; i < w->size; i++)
		wd[i] = w->value[i];
	CHECK_CLOSE(reference_objective(Vd, wd, *r->value, g, N, in, units, nu, lambda, NULL),
				loss_eval, 1e-5, 1e-6);

	for (size_t e = 0; e < V->size + w->size; e++)
	{
		bool		is_v = e < V->size;
		float	   *pf = is_v ? &V->value[e] : &w->value[e - V->size];
		double	   *pd = is_v ? &Vd[e] : &wd[e - V->size];
		double		analytic = grad[e];
		float		f0 = *pf,
					fp = (float) (f0 + 1e-3),
					fm = (float) (f0 - 1e-3);
		double		d0 = *pd,
					lp,
					lm,
					num;
		uint64_t	hp,
					hm;

		/* float32 central differences of the method's own eval_loss */
		*pf = fp;
		lp = an_method_lookup("ocnn")->eval_loss(p.state, xb, N);
		hp = active_hash(&p, xb, N);
		*pf = fm;
		lm = an_method_lookup("ocnn")->eval_loss(p.state, xb, N);
		hm = active_hash(&p, xb, N);
		*pf = f0;
		if (hp != hm)
			skipped++;
		else
		{
			num = (lp - lm) / ((double) fp - (double) fm);
			if (!unit_close(analytic, num, 1e-2, 1e-3) && bad_float++ < 3)
				unit_fail(__FILE__, __LINE__, "float gradient entry %zu: analytic %.8g, numeric %.8g",
						  e, analytic, num);
		}

		/* double central differences of the reference */
		*pd = d0 + 1e-6;
		lp = reference_objective(Vd, wd, *r->value, g, N, in, units, nu, lambda, &hp);
		*pd = d0 - 1e-6;
		lm = reference_objective(Vd, wd, *r->value, g, N, in, units, nu, lambda, &hm);
		*pd = d0;
		if (hp != hm)
		{
			skipped++;
			continue;
		}
		num = (lp - lm) / 2e-6;
		compared++;
		max_grad = fmax(max_grad, fabs(num));
		diff2 += (analytic - num) * (analytic - num);
		sum2 += analytic * analytic + num * num;
		if (!unit_close(analytic, num, 1e-3, 1e-5) && bad_ref++ < 3)
			unit_fail(__FILE__, __LINE__, "gradient entry %zu: analytic %.8g, reference %.8g",
					  e, analytic, num);
	}
	CHECK(bad_float == 0 && bad_ref == 0);
	CHECK(compared >= (int) (V->size + w->size) - 2);
	if (skipped > 4)
		unit_fail(__FILE__, __LINE__, "pretrain %d centers %d: %d entries skipped, %d compared", pretrain, centers, skipped, compared);
	/* the hinge is active: gradients beyond the L2 term, and not all zero */
	CHECK(max_grad > 1e-2);
	CHECK(sqrt(diff2 / sum2) < 1e-4);

	/* the L2 term alone when no row is inside the hinge */
	*r->value = (float) (sorted[0] - 1.0);
	an_params_save(&p.params, p0);
	loss_train = an_method_lookup("ocnn")->train_batch(p.state, xb, N, &p.rng);
	CHECK_CLOSE(loss_train, reference_objective(Vd, wd, *r->value, g, N, in, units, nu,
												lambda, NULL), 1e-5, 1e-6);
	for (size_t i = 0; i < V->size; i++)
		CHECK_CLOSE(V->grad[i], lambda * p0[i], 1e-6, 1e-7);
	an_params_restore(&p.params, p0);

	free(g);
	free(Vd);
	free(wd);
	free(p0);
	free(grad);
	probe_free(&p);
}

UNIT_TEST(ocnn_gradcheck_pretrained_rbf)
{
	ocnn_gradcheck(true, 12, -1, 31);
}

UNIT_TEST(ocnn_gradcheck_raw_features)
{
	/* the paper's plain features, with another lambda */
	ocnn_gradcheck(false, 0, 0.3, 32);
	ocnn_gradcheck(true, 0, -1, 33);
	ocnn_gradcheck(false, 8, 2.0, 34);
}

/* ---- r ---- */

UNIT_TEST(ocnn_r_is_the_nu_quantile)
{
	OcProbe		p;
	AnParam    *r;
	double	   *scores;
	double	   *y;
	double		r0,
				best;
	static const double deltas[] = {-0.5, -0.01, -1e-3, 1e-3, 0.01, 0.5};

	REQUIRE(probe_init(&p, true, 12, -1, 300, 41));
	r = &p.params.items[2];
	scores = malloc(p.n * sizeof(double));
	y = malloc(p.n * sizeof(double));

	/* a few steps move the network away from the r prepare fitted */
	for (int i = 0; i < 5; i++)
		an_method_lookup("ocnn")->train_batch(p.state, p.x + i * 32 * FIX_DIM, 32, &p.rng);
	REQUIRE(an_method_lookup("ocnn")->epoch_end(&p.ctx, p.state, p.x, p.n) == AN_OK);
	r0 = *r->value;
	for (size_t i = 0; i < p.n; i += AN_SCORE_BATCH)
		an_method_lookup("ocnn")->score(p.state, p.x + i * FIX_DIM,
							 (int) (p.n - i < AN_SCORE_BATCH ? p.n - i : AN_SCORE_BATCH),
							 scores + i);
	for (size_t i = 0; i < p.n; i++)
		y[i] = r0 - scores[i];
	an_sort_doubles(y, p.n);
	/* numpy's linear quantile at nu = 0.1 of 300 outputs: 29.9 */
	CHECK_CLOSE(r0, y[29] + 0.9 * (y[30] - y[29]), 1e-6, 1e-7);
	{
		int			above = 0;

		for (size_t i = 0; i < p.n; i++)
			above += scores[i] > 0;
		CHECK(above == 30);
	}

	/* and it minimises the objective in r */
	best = an_method_lookup("ocnn")->eval_loss(p.state, p.x, p.n);
	for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++)
	{
		*r->value = (float) (r0 + deltas[d]);
		CHECK(an_method_lookup("ocnn")->eval_loss(p.state, p.x, p.n) >= best - 1e-9);
	}
	*r->value = (float) r0;
	free(scores);
	free(y);
	probe_free(&p);
}

/* ---- training ---- */

typedef struct Reports
{
	UnitAlloc	counter;		/* first: the allocator's arg */
	int			n;
	int			n_pretrain;
	AnEpochReport r[64];
} Reports;

static void
record(void *arg, const AnEpochReport *report)
{
	Reports    *log = arg;

	if (strcmp(report->phase, "pretrain") == 0)
	{
		if (log->n == 0)
			log->n_pretrain++;
		return;
	}
	if (log->n < 64)
		log->r[log->n++] = *report;
}

UNIT_TEST(ocnn_training_reduces_loss)
{
	AnContext	ctx;
	Reports		log = {{0}};
	AnOptions	opts;
	AnModel		model;
	double		best = INFINITY;

	unit_context_counting(&ctx, &log.counter);
	ctx.arg = &log;
	ctx.progress = record;
	REQUIRE(oc_options(&ctx, &opts, 30, 5, 1000, true, 16) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "early_stopping_patience", 0) == AN_OK);
	/* the default learning rate and nu: less noise than the tests' 0.01 */
	REQUIRE(unit_set_num(&ctx, &opts, "learning_rate", 0.001) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "nu", 0.5) == AN_OK);
	REQUIRE(oc_fit(&ctx, &model, &opts, 5, 1000, NULL) == AN_OK);
	/* pretraining first, under its own phase name */
	CHECK(log.n_pretrain == 3);
	REQUIRE(log.n == 30);
	for (int i = 0; i < log.n; i++)
	{
		CHECK(isfinite(log.r[i].train_loss) && isfinite(log.r[i].val_loss));
		if (log.r[i].val_loss < best)
			best = log.r[i].val_loss;
	}
	/*
	 * The objective falls from where the first epoch started, and below
	 * -units / 8, the least a constant output can reach (V = 0, w = 1/2:
	 * 1/2 ||w||^2 - sum(w) / 2): the network does use the features.
	 */
	CHECK(log.r[log.n - 1].train_loss < log.r[0].train_loss - 0.1);
	CHECK(best < -6.0 / 8.0 - 5e-3);
	CHECK(log.r[log.n - 1].val_loss < -6.0 / 8.0);
	CHECK(model.loss == best);
	CHECK(model.epochs_run == 30);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&log.counter);
}

/*
 * Early stopping restores the best epoch's weights, and r must come back
 * with them: the stored r is the nu-quantile of the restored network's
 * outputs over all rows, as epoch_end set it after that epoch.
 */
UNIT_TEST(ocnn_best_epoch_keeps_its_r)
{
	AnContext	ctx;
	Reports		log = {{0}};
	AnOptions	opts;
	AnModel		model;
	float	   *x = NULL;
	double	   *s = malloc(600 * sizeof(double));
	FixtureState doc;
	const AnObject *st;
	double		r = NAN;

	unit_context_counting(&ctx, &log.counter);
	ctx.arg = &log;
	ctx.progress = record;
	REQUIRE(oc_options(&ctx, &opts, 60, 12, 600, true, 12) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "early_stopping_patience", 3) == AN_OK);
	REQUIRE(oc_fit(&ctx, &model, &opts, 12, 600, &x) == AN_OK);
	/* it stopped early, so the last epoch is not the one kept */
	REQUIRE(log.n > 3 && log.n < 60);
	CHECK(!log.r[log.n - 1].improved);

	st = fixture_state_object(&ctx, model.method, model.state, &doc);
	REQUIRE(st != NULL);
	CHECK(an_get_real(&ctx, st, "r", &r) == AN_OK);
	an_model_score_scaled(&model, x, 600, s);
	for (int i = 0; i < 600; i++)
		s[i] = r - s[i];
	an_sort_doubles(s, 600);
	/* 0.1 * 599 = 59.9 */
	CHECK_CLOSE(r, s[59] + 0.9 * (s[60] - s[59]), 1e-6, 1e-7);
	fixture_state_free(&doc);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&log.counter);
	free(x);
	free(s);
}

/* ---- detection ---- */

static void
detection(bool pretrain, int centers, int min_flagged)
{
	enum
	{
		N_OUT = 50
	};
	AnContext	ctx;
	AnOptions	opts;
	AnModel		model;
	int			flagged,
				normal_flagged;

	unit_context_malloc(&ctx);
	REQUIRE(oc_options(&ctx, &opts, 40, 42, 2000, pretrain, centers) == AN_OK);
	REQUIRE(unit_set_num(&ctx, &opts, "units", 16) == AN_OK);
	REQUIRE(oc_fit(&ctx, &model, &opts, 42, 2000, NULL) == AN_OK);
	fixture_count_flagged(&model, N_OUT, &flagged, &normal_flagged);
	if (flagged < min_flagged || normal_flagged > 4)
		unit_fail(__FILE__, __LINE__, "pretrain %d centers %d: %d of %d outliers and %d normal rows flagged",
				  pretrain, centers, flagged, N_OUT, normal_flagged);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
}

/*
 * The fixture's outliers leave the rows' correlation structure.  On the
 * scaled rows the OC-NN finds nearly all of them; through a pretrained
 * encoder fewer, since an encoder trained on normal rows maps rows off
 * their manifold back onto it (a limit of every method on encoder
 * features), but still far more than the 1% a blind score would flag.
 */
UNIT_TEST(ocnn_outliers_score_above_threshold)
{
	detection(false, 64, 45);
	detection(true, 64, 10);
}

/* ---- a decoder that refuses damaged state ---- */

typedef enum Edit
{
	EDIT_REMOVE,
	EDIT_INT,
	EDIT_REAL,
	EDIT_BOOL,
	EDIT_STR,
	EDIT_FLOATS,				/* a bin of n floats */
	EDIT_MLP,					/* a network */
	EDIT_ADD_NIL				/* add the key (with nil) if it is absent */
} Edit;

typedef struct Patch
{
	const char *key;
	Edit		edit;
	double		number;
	const char *string;
	const float *floats;
	size_t		n_floats;
	const AnMlp *mlp;
} Patch;

/* state with the patch applied to key (removed, replaced, or added) */
static void
pack_patched(AnPacker *pk, const AnObject *st, const Patch *patch)
{
	uint32_t	n = st->via.map.size;
	bool		present = an_map_get(st, patch->key) != NULL;

	if (patch->edit == EDIT_REMOVE)
		n -= present ? 1 : 0;
	else if (!present)
		n++;
	msgpack_pack_map(pk, n);
	for (uint32_t i = 0; i < st->via.map.size; i++)
	{
		const AnObject *k = &st->via.map.ptr[i].key;

		if (an_object_str_eq(k, patch->key))
			continue;
		msgpack_pack_object(pk, *k);
		msgpack_pack_object(pk, st->via.map.ptr[i].val);
	}
	switch (patch->edit)
	{
		case EDIT_REMOVE:
			break;
		case EDIT_INT:
			an_pack_key_int(pk, patch->key, (int64_t) patch->number);
			break;
		case EDIT_REAL:
			an_pack_key_real(pk, patch->key, patch->number);
			break;
		case EDIT_BOOL:
			an_pack_key_bool(pk, patch->key, patch->number != 0);
			break;
		case EDIT_STR:
			an_pack_key_str(pk, patch->key, patch->string);
			break;
		case EDIT_FLOATS:
			an_pack_key_floats(pk, patch->key, patch->floats, patch->n_floats);
			break;
		case EDIT_MLP:
			an_pack_key_mlp(pk, patch->key, patch->mlp);
			break;
		case EDIT_ADD_NIL:
			an_pack_str(pk, patch->key);
			msgpack_pack_nil(pk);
			break;
	}
}

/* decode the patched state: CORRUPT, a message containing want, no leak */
static void
expect_refused(const AnObject *st, int dim, Patch patch, const char *want, int line)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnBuffer	buf;
	AnPacker	pk;
	msgpack_unpacked msg;
	size_t		off = 0;
	void	   *state = NULL;
	AnStatus	s;

	unit_context_malloc(&ctx);
	an_buffer_init(&buf, &ctx);
	an_packer_init(&pk, &buf);
	pack_patched(&pk, st, &patch);
	msgpack_unpacked_init(&msg);
	if (msgpack_unpack_next(&msg, buf.data, buf.len, &off) != MSGPACK_UNPACK_SUCCESS)
		unit_fail(__FILE__, line, "could not build the patched state");
	else
	{
		unit_context_counting(&ctx, &counter);
		s = an_method_lookup("ocnn")->decode(&ctx, &msg.data, dim, &state);
		if (s != AN_ERR_CORRUPT)
		{
			unit_fail(__FILE__, line, "patched \"%s\": status %d, not AN_ERR_CORRUPT",
					  patch.key, s);
			if (s == AN_OK)
				an_method_lookup("ocnn")->destroy(&ctx, state);
		}
		else if (!strstr(ctx.errmsg, want))
			unit_fail(__FILE__, line, "patched \"%s\": message \"%s\" lacks \"%s\"",
					  patch.key, ctx.errmsg, want);
		if (counter.outstanding != 0 || counter.bad_frees != 0)
			unit_fail(__FILE__, line, "patched \"%s\": %ld allocations leaked",
					  patch.key, counter.outstanding);
	}
	msgpack_unpacked_destroy(&msg);
	free(buf.data);
}

#define REFUSED(st, dim, want, ...) \
	expect_refused((st), (dim), (Patch) {__VA_ARGS__}, (want), __LINE__)

/* a network of the given shape with small finite weights */
static void
make_net(AnContext *ctx, AnMlp *mlp, int n_layers, const int *dims,
		 const AnActivation *acts, bool bias)
{
	AnRng		rng;

	an_rng_seed(&rng, 1);
	if (an_mlp_create(ctx, mlp, n_layers, dims, acts, bias, false, 1) == AN_OK)
		an_mlp_init(mlp, &rng);
}

UNIT_TEST(ocnn_decode_rejects_damaged_state)
{
	AnContext	ctx;
	AnOptions	opts;
	AnModel		model;
	FixtureState doc;
	const AnObject *st;
	float		points[12 * 3];
	AnMlp		net;
	static const AnActivation good_acts[3] = {AN_ACT_SIGMOID, AN_ACT_IDENTITY, AN_ACT_IDENTITY};
	static const AnActivation tanh_acts[2] = {AN_ACT_TANH, AN_ACT_IDENTITY};

	unit_context_malloc(&ctx);
	REQUIRE(oc_options(&ctx, &opts, 2, 71, 200, true, 12) == AN_OK);
	REQUIRE(oc_fit(&ctx, &model, &opts, 71, 200, NULL) == AN_OK);
	st = fixture_state_object(&ctx, model.method, model.state, &doc);
	REQUIRE(st != NULL);

	/* the state as it is decodes, and a changed key must not */
	{
		void	   *state = NULL;

		CHECK_STATUS(an_method_lookup("ocnn")->decode(&ctx, st, FIX_DIM, &state), AN_OK);
		if (state)
			an_method_lookup("ocnn")->destroy(&ctx, state);
	}

	/* every field missing */
	REFUSED(st, FIX_DIM, "\"pretrained\"", "pretrained", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"encoder\"", "encoder", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"rbf_centers\"", "rbf_centers", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"rbf_points\"", "rbf_points", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"rbf_gamma\"", "rbf_gamma", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"network\"", "network", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"r\"", "r", EDIT_REMOVE);
	REFUSED(st, FIX_DIM, "\"nu\"", "nu", EDIT_REMOVE);

	/* wrong types and values */
	REFUSED(st, FIX_DIM, "\"pretrained\"", "pretrained", EDIT_INT, 1);
	REFUSED(st, FIX_DIM, "\"encoder\"", "pretrained", EDIT_BOOL, 0);
	REFUSED(st, FIX_DIM, "\"rbf_centers\"", "rbf_centers", EDIT_INT, -1);
	REFUSED(st, FIX_DIM, "\"rbf_centers\"", "rbf_centers", EDIT_INT, 4097);
	REFUSED(st, FIX_DIM, "\"rbf_centers\"", "rbf_centers", EDIT_STR, 0, "12");
	/* a count the points do not match, and points without a count */
	REFUSED(st, FIX_DIM, "\"rbf_points\"", "rbf_centers", EDIT_INT, 11);
	REFUSED(st, FIX_DIM, "\"rbf_points\"", "rbf_centers", EDIT_INT, 4000);
	REFUSED(st, FIX_DIM, "\"rbf_centers\" is 0", "rbf_centers", EDIT_INT, 0);
	REFUSED(st, FIX_DIM, "\"rbf_gamma\"", "rbf_gamma", EDIT_REAL, 0);
	REFUSED(st, FIX_DIM, "\"rbf_gamma\"", "rbf_gamma", EDIT_REAL, -1);
	REFUSED(st, FIX_DIM, "\"rbf_gamma\"", "rbf_gamma", EDIT_REAL, NAN);
	REFUSED(st, FIX_DIM, "\"rbf_gamma\"", "rbf_gamma", EDIT_REAL, 1e7);
	REFUSED(st, FIX_DIM, "\"r\"", "r", EDIT_REAL, NAN);
	REFUSED(st, FIX_DIM, "\"r\"", "r", EDIT_REAL, INFINITY);
	REFUSED(st, FIX_DIM, "\"r\"", "r", EDIT_REAL, 1e39);
	REFUSED(st, FIX_DIM, "\"r\"", "r", EDIT_STR, 0, "1");
	REFUSED(st, FIX_DIM, "\"nu\"", "nu", EDIT_REAL, 0);
	REFUSED(st, FIX_DIM, "\"nu\"", "nu", EDIT_REAL, 1.5);
	REFUSED(st, FIX_DIM, "\"nu\"", "nu", EDIT_REAL, NAN);

	/* points of the wrong size or not finite */
	REQUIRE(an_get_floats(&ctx, st, "rbf_points", points, 12 * 3) == AN_OK);
	REFUSED(st, FIX_DIM, "\"rbf_points\"", "rbf_points", EDIT_FLOATS, 0, NULL, points, 12 * 3 - 1);
	REFUSED(st, FIX_DIM, "\"rbf_points\"", "rbf_points", EDIT_STR, 0, "x");
	points[7] = NAN;
	REFUSED(st, FIX_DIM, "non-finite", "rbf_points", EDIT_FLOATS, 0, NULL, points, 12 * 3);
	points[7] = 0;

	/* the encoder must take the row width */
	REFUSED(st, FIX_DIM + 1, "input width", "pretrained", EDIT_BOOL, 1);

	/* networks of the wrong shape */
	{
		static const int wrong_in[3] = {11, 6, 1};
		static const int two_out[3] = {12, 6, 2};
		static const int three[4] = {12, 6, 6, 1};
		static const int good[3] = {12, 6, 1};

		make_net(&ctx, &net, 2, wrong_in, good_acts, false);
		REFUSED(st, FIX_DIM, "input width", "network", EDIT_MLP, .mlp = &net);
		an_mlp_free(&ctx, &net);
		make_net(&ctx, &net, 2, two_out, good_acts, false);
		REFUSED(st, FIX_DIM, "\"network\"", "network", EDIT_MLP, .mlp = &net);
		an_mlp_free(&ctx, &net);
		make_net(&ctx, &net, 3, three, good_acts, false);
		REFUSED(st, FIX_DIM, "\"network\"", "network", EDIT_MLP, .mlp = &net);
		an_mlp_free(&ctx, &net);
		make_net(&ctx, &net, 2, good, good_acts, true);
		REFUSED(st, FIX_DIM, "without bias", "network", EDIT_MLP, .mlp = &net);
		an_mlp_free(&ctx, &net);
		make_net(&ctx, &net, 2, good, tanh_acts, false);
		REFUSED(st, FIX_DIM, "sigmoid", "network", EDIT_MLP, .mlp = &net);
		an_mlp_free(&ctx, &net);
		/* the right shape decodes; a NaN weight does not */
		make_net(&ctx, &net, 2, good, good_acts, false);
		{
			AnBuffer	buf;
			AnPacker	pk;
			msgpack_unpacked m2;
			size_t		off = 0;
			void	   *state = NULL;
			Patch		patch = {.key = "network", .edit = EDIT_MLP, .mlp = &net};

			an_buffer_init(&buf, &ctx);
			an_packer_init(&pk, &buf);
			pack_patched(&pk, st, &patch);
			msgpack_unpacked_init(&m2);
			REQUIRE(msgpack_unpack_next(&m2, buf.data, buf.len, &off) == MSGPACK_UNPACK_SUCCESS);
			CHECK_STATUS(an_method_lookup("ocnn")->decode(&ctx, &m2.data, FIX_DIM, &state), AN_OK);
			if (state)
				an_method_lookup("ocnn")->destroy(&ctx, state);
			msgpack_unpacked_destroy(&m2);
			an_free(&ctx, buf.data);
		}
		net.layers[1].w[3] = NAN;
		REFUSED(st, FIX_DIM, "non-finite", "network", EDIT_MLP, .mlp = &net);
		an_mlp_free(&ctx, &net);
	}

	fixture_state_free(&doc);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
}

/* without pretraining or centres, those fields may not appear */
UNIT_TEST(ocnn_decode_rejects_stray_fields)
{
	AnContext	ctx;
	AnOptions	opts;
	AnModel		model;
	FixtureState doc;
	const AnObject *st;

	unit_context_malloc(&ctx);
	REQUIRE(oc_options(&ctx, &opts, 2, 72, 200, false, 0) == AN_OK);
	REQUIRE(oc_fit(&ctx, &model, &opts, 72, 200, NULL) == AN_OK);
	st = fixture_state_object(&ctx, model.method, model.state, &doc);
	REQUIRE(st != NULL);
	REFUSED(st, FIX_DIM, "\"encoder\" is present", "encoder", EDIT_ADD_NIL);
	REFUSED(st, FIX_DIM, "\"rbf_centers\" is 0", "rbf_points", EDIT_ADD_NIL);
	REFUSED(st, FIX_DIM, "\"rbf_centers\" is 0", "rbf_gamma", EDIT_ADD_NIL);
	/* the raw features' width is the row width */
	REFUSED(st, FIX_DIM + 2, "input width", "pretrained", EDIT_BOOL, 0);
	/* pretrained without an encoder */
	REFUSED(st, FIX_DIM, "\"encoder\"", "pretrained", EDIT_BOOL, 1);
	fixture_state_free(&doc);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
}

/* interrupted in pretraining or in the OC-NN phase: an error, no leak */
static bool
stop_at(void *arg)
{
	long	   *calls = (long *) ((UnitAlloc *) arg + 1);

	return ++calls[0] >= calls[1];
}

UNIT_TEST(ocnn_interrupt_leaks_nothing)
{
	static const long stops[] = {2, 20};

	for (size_t s = 0; s < 2; s++)
	{
		struct
		{
			UnitAlloc	counter;
			long		calls[2];
		}			arg = {{0}, {0, stops[s]}};
		AnContext	ctx;
		AnOptions	opts;
		AnModel		model;

		unit_context_counting(&ctx, &arg.counter);
		ctx.arg = &arg;
		ctx.interrupted = stop_at;
		/* 3 pretraining epochs of 3 batches (90 rows), then the OC-NN */
		REQUIRE(oc_options(&ctx, &opts, 10, 93, 100, true, 6) == AN_OK);
		CHECK_STATUS(oc_fit(&ctx, &model, &opts, 93, 100, NULL), AN_ERR_INTERRUPTED);
		CHECK(arg.calls[0] == stops[s]);
		an_model_free(&ctx, &model);
		an_options_free(&ctx, &opts);
		CHECK_NO_LEAKS(&arg.counter);
	}
}
