/*-------------------------------------------------------------------------
 *
 * test_nn.c
 *	  Unit tests of the network building blocks against hand-computed
 *	  values: dense layer, activations, MLP plumbing, losses, Adam and
 *	  parameter lists.  (Finite-difference checks: test_gradcheck.c.)
 *
 * IDENTIFICATION
 *	  test/unit/test_nn.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/nn.h"
#include "unit.h"

/* ---- dense layer ---- */

/*
 * W (out 2 x in 3) = [[1, 2, 3], [-1, 0.5, 2]], b = [0.5, -1],
 * x = [[1, 0, -1], [2, 1, 0.5]]:
 *	 x W^T = [[-2, -3], [5.5, -0.5]], plus b = [[-1.5, -4], [6, -1.5]].
 */
static const float hand_w[6] = {1, 2, 3, -1, 0.5f, 2};
static const float hand_b[2] = {0.5f, -1};
static const float hand_x[6] = {1, 0, -1, 2, 1, 0.5f};

UNIT_TEST(dense_forward_hand_computed)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnDense		layer;
	float		y[4];
	static const float with_bias[4] = {-1.5f, -4, 6, -1.5f};
	static const float without_bias[4] = {-2, -3, 5.5f, -0.5f};

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_dense_create(&ctx, &layer, 3, 2, true, false), AN_OK);
	REQUIRE(layer.w && layer.b);
	CHECK(layer.in == 3 && layer.out == 2);
	CHECK(layer.gw == NULL && layer.gb == NULL);
	memcpy(layer.w, hand_w, sizeof(hand_w));
	memcpy(layer.b, hand_b, sizeof(hand_b));
	for (int i = 0; i < 4; i++)
		y[i] = NAN;
	an_dense_forward(&layer, hand_x, 2, y);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(y[i], with_bias[i], 1e-6);
	an_dense_free(&ctx, &layer);
	CHECK(layer.w == NULL && layer.b == NULL);

	/* without bias; the output buffer's old contents must not leak in */
	CHECK_STATUS(an_dense_create(&ctx, &layer, 3, 2, false, true), AN_OK);
	REQUIRE(layer.w && layer.gw);
	CHECK(layer.b == NULL && layer.gb == NULL);
	memcpy(layer.w, hand_w, sizeof(hand_w));
	for (int i = 0; i < 4; i++)
		y[i] = NAN;
	an_dense_forward(&layer, hand_x, 2, y);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(y[i], without_bias[i], 1e-6);
	an_dense_free(&ctx, &layer);
	CHECK_NO_LEAKS(&counter);
}

/*
 * Same layer, dy = [[1, 2], [3, -1]]:
 *	 gw = dy^T x = [[7, 3, 0.5], [0, -1, -2.5]], gb = [4, 1],
 *	 dx = dy W = [[-1, 3, 7], [4, 5.5, 7]].
 */
UNIT_TEST(dense_backward_hand_computed)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnDense		layer;
	static const float dy[4] = {1, 2, 3, -1};
	static const float gw[6] = {7, 3, 0.5f, 0, -1, -2.5f};
	static const float gb[2] = {4, 1};
	static const float dx_expected[6] = {-1, 3, 7, 4, 5.5f, 7};
	float		dx[6];

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_dense_create(&ctx, &layer, 3, 2, true, true), AN_OK);
	REQUIRE(layer.gw && layer.gb);
	memcpy(layer.w, hand_w, sizeof(hand_w));
	memcpy(layer.b, hand_b, sizeof(hand_b));

	/* stale gradients must be overwritten, not accumulated */
	for (int i = 0; i < 6; i++)
		layer.gw[i] = 100.0f;
	layer.gb[0] = layer.gb[1] = 100.0f;
	for (int i = 0; i < 6; i++)
		dx[i] = NAN;

	an_dense_backward(&layer, hand_x, 2, dy, dx);
	for (int i = 0; i < 6; i++)
		CHECK_NEAR(layer.gw[i], gw[i], 1e-6);
	for (int i = 0; i < 2; i++)
		CHECK_NEAR(layer.gb[i], gb[i], 1e-6);
	for (int i = 0; i < 6; i++)
		CHECK_NEAR(dx[i], dx_expected[i], 1e-6);

	/* a second pass gives the same, and dx may be NULL */
	an_dense_backward(&layer, hand_x, 2, dy, NULL);
	for (int i = 0; i < 6; i++)
		CHECK_NEAR(layer.gw[i], gw[i], 1e-6);
	for (int i = 0; i < 2; i++)
		CHECK_NEAR(layer.gb[i], gb[i], 1e-6);

	an_dense_free(&ctx, &layer);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(dense_init_pytorch_bounds)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnDense		a,
				b;
	AnRng		rng;
	double		bound = 1.0 / sqrt(16.0);
	float		wmin = 1,
				wmax = -1;
	bool		differs = false;

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_dense_create(&ctx, &a, 16, 32, true, false), AN_OK);
	CHECK_STATUS(an_dense_create(&ctx, &b, 16, 32, true, false), AN_OK);
	an_rng_seed(&rng, 7);
	an_dense_init(&a, &rng);
	an_rng_seed(&rng, 7);
	an_dense_init(&b, &rng);
	CHECK(memcmp(a.w, b.w, 16 * 32 * sizeof(float)) == 0);
	CHECK(memcmp(a.b, b.b, 32 * sizeof(float)) == 0);
	for (int i = 0; i < 16 * 32; i++)
	{
		CHECK(fabs(a.w[i]) <= bound);
		wmin = fminf(wmin, a.w[i]);
		wmax = fmaxf(wmax, a.w[i]);
	}
	for (int i = 0; i < 32; i++)
		CHECK(fabs(a.b[i]) <= bound);
	/* 512 uniform draws fill most of the range */
	CHECK(wmin < -0.9 * bound && wmax > 0.9 * bound);

	an_rng_seed(&rng, 8);
	an_dense_init(&b, &rng);
	for (int i = 0; i < 16 * 32; i++)
		differs |= a.w[i] != b.w[i];
	CHECK(differs);
	an_dense_free(&ctx, &a);
	an_dense_free(&ctx, &b);
	CHECK_NO_LEAKS(&counter);
}

/* ---- activations ---- */

UNIT_TEST(activation_forward_values)
{
	static const float x[5] = {-2, -0.5f, 0, 0.5f, 2};
	static const struct
	{
		AnActivation act;
		float		y[5];
	}			cases[] = {
		{AN_ACT_IDENTITY, {-2, -0.5f, 0, 0.5f, 2}},
		{AN_ACT_RELU, {0, 0, 0, 0.5f, 2}},
		{AN_ACT_LEAKY_RELU, {-0.02f, -0.005f, 0, 0.5f, 2}},
		/* 1 / (1 + e^-x) */
		{AN_ACT_SIGMOID, {0.11920292202211755f, 0.3775406687981454f, 0.5f,
		0.6224593312018546f, 0.8807970779778823f}},
		{AN_ACT_TANH, {-0.9640275800758169f, -0.46211715726000974f, 0,
		0.46211715726000974f, 0.9640275800758169f}},
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		float		y[5];

		memcpy(y, x, sizeof(x));
		an_activation_forward(cases[c].act, y, 5);
		for (int i = 0; i < 5; i++)
			CHECK_NEAR(y[i], cases[c].y[i], 1e-6);
	}
}

UNIT_TEST(activation_backward_at_kinks)
{
	/* ReLU' = 0 at exactly 0 (PyTorch); leaky ReLU uses its slope there */
	float		y[3] = {0, -0.01f, 1};
	float		d[3] = {2, 2, 2};

	an_activation_backward(AN_ACT_RELU, y, d, 3);
	CHECK(d[0] == 0.0f);
	CHECK(d[1] == 0.0f);
	CHECK(d[2] == 2.0f);

	d[0] = d[1] = d[2] = 2;
	an_activation_backward(AN_ACT_LEAKY_RELU, y, d, 3);
	CHECK_NEAR(d[0], 0.02, 1e-7);
	CHECK_NEAR(d[1], 0.02, 1e-7);
	CHECK(d[2] == 2.0f);

	/* identity leaves delta alone */
	d[0] = 3;
	an_activation_backward(AN_ACT_IDENTITY, y, d, 1);
	CHECK(d[0] == 3.0f);

	/* sigmoid' = y (1 - y), tanh' = 1 - y^2, from the output */
	y[0] = 0.25f;
	d[0] = 2;
	an_activation_backward(AN_ACT_SIGMOID, y, d, 1);
	CHECK_NEAR(d[0], 2 * 0.25 * 0.75, 1e-7);
	d[0] = 2;
	an_activation_backward(AN_ACT_TANH, y, d, 1);
	CHECK_NEAR(d[0], 2 * (1 - 0.0625), 1e-7);
}

UNIT_TEST(activation_names)
{
	static const char *const names[] = {"identity", "relu", "leaky_relu",
	"sigmoid", "tanh"};
	AnActivation act;

	for (int i = 0; i < 5; i++)
	{
		CHECK_STR(an_activation_name((AnActivation) i), names[i]);
		act = (AnActivation) -1;
		CHECK(an_activation_parse(names[i], &act));
		CHECK(act == (AnActivation) i);
	}
	CHECK(!an_activation_parse("softmax", &act));
	CHECK(!an_activation_parse("", &act));
	CHECK(!an_activation_parse("ReLU", &act));
	CHECK_STR(an_activation_name((AnActivation) 99), "unknown");
}

/* ---- MLP plumbing ---- */

UNIT_TEST(mlp_create_rejects_bad_shapes)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	int			dims[AN_MAX_LAYERS + 2];
	AnActivation acts[AN_MAX_LAYERS + 1];

	unit_context_counting(&ctx, &counter);
	for (int i = 0; i < AN_MAX_LAYERS + 2; i++)
		dims[i] = 4;
	for (int i = 0; i < AN_MAX_LAYERS + 1; i++)
		acts[i] = AN_ACT_RELU;

	CHECK_STATUS(an_mlp_create(&ctx, &mlp, 0, dims, acts, true, true, 8), AN_ERR_INVALID);
	CHECK_STATUS(an_mlp_create(&ctx, &mlp, AN_MAX_LAYERS + 1, dims, acts, true, true, 8),
				 AN_ERR_INVALID);
	CHECK_STATUS(an_mlp_create(&ctx, &mlp, 2, dims, acts, true, true, 0), AN_ERR_INVALID);
	dims[1] = 0;
	CHECK_STATUS(an_mlp_create(&ctx, &mlp, 2, dims, acts, true, true, 8), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "width");
	dims[1] = (1 << 20) + 1;
	CHECK_STATUS(an_mlp_create(&ctx, &mlp, 2, dims, acts, true, true, 8), AN_ERR_INVALID);
	dims[1] = 4;

	/* the largest network is accepted */
	CHECK_STATUS(an_mlp_create(&ctx, &mlp, AN_MAX_LAYERS, dims, acts, false, false, 1),
				 AN_OK);
	CHECK(mlp.n_layers == AN_MAX_LAYERS);
	an_mlp_free(&ctx, &mlp);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(mlp_create_out_of_memory_leaks_nothing)
{
	static const int dims[4] = {5, 7, 3, 5};
	static const AnActivation acts[3] = {AN_ACT_TANH, AN_ACT_TANH, AN_ACT_IDENTITY};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	long		needed;

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_mlp_create(&ctx, &mlp, 3, dims, acts, true, true, 16), AN_OK);
	needed = counter.n_allocs;
	an_mlp_free(&ctx, &mlp);
	CHECK_NO_LEAKS(&counter);
	/* 3 layers x (w, b, gw, gb, out) + 2 delta buffers */
	CHECK(needed == 17);

	for (long k = 1; k <= needed; k++)
	{
		counter.n_allocs = 0;
		counter.fail_at = k;
		CHECK_STATUS(an_mlp_create(&ctx, &mlp, 3, dims, acts, true, true, 16),
					 AN_ERR_NOMEM);
		CHECK_NO_LEAKS(&counter);
	}
}

UNIT_TEST(mlp_layout_and_params)
{
	static const int dims[4] = {5, 7, 3, 5};
	static const AnActivation acts[3] = {AN_ACT_RELU, AN_ACT_TANH, AN_ACT_IDENTITY};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		mlp;
	AnParamList list;

	unit_context_counting(&ctx, &counter);
	REQUIRE(an_mlp_create(&ctx, &mlp, 3, dims, acts, true, true, 16) == AN_OK);
	CHECK(an_mlp_out_dim(&mlp) == 5);
	CHECK(mlp.max_batch == 16);
	for (int l = 0; l < 3; l++)
	{
		CHECK(mlp.layers[l].in == dims[l] && mlp.layers[l].out == dims[l + 1]);
		CHECK(mlp.acts[l] == acts[l]);
	}

	memset(&list, 0, sizeof(list));
	an_mlp_params(&mlp, &list);
	REQUIRE(list.n == 6);
	for (int l = 0; l < 3; l++)
	{
		CHECK(list.items[2 * l].value == mlp.layers[l].w);
		CHECK(list.items[2 * l].grad == mlp.layers[l].gw);
		CHECK(list.items[2 * l].size == (size_t) dims[l] * dims[l + 1]);
		CHECK(list.items[2 * l + 1].value == mlp.layers[l].b);
		CHECK(list.items[2 * l + 1].grad == mlp.layers[l].gb);
		CHECK(list.items[2 * l + 1].size == (size_t) dims[l + 1]);
	}
	CHECK(an_params_total(&list) == 35 + 7 + 21 + 3 + 15 + 5);
	an_mlp_free(&ctx, &mlp);

	/* without bias: weights only; inference-only: no gradients */
	REQUIRE(an_mlp_create(&ctx, &mlp, 3, dims, acts, false, false, 4) == AN_OK);
	memset(&list, 0, sizeof(list));
	an_mlp_params(&mlp, &list);
	CHECK(list.n == 3);
	CHECK(an_params_total(&list) == 35 + 21 + 15);
	for (int l = 0; l < 3; l++)
		CHECK(mlp.layers[l].b == NULL && mlp.layers[l].gw == NULL);
	CHECK(mlp.delta[0] == NULL && mlp.delta[1] == NULL);
	an_mlp_free(&ctx, &mlp);
	CHECK_NO_LEAKS(&counter);
}

/* two layers, hand-computed: relu(x W1^T + b1) W2^T + b2 */
UNIT_TEST(mlp_forward_hand_computed)
{
	static const int dims[3] = {3, 2, 1};
	static const AnActivation acts[2] = {AN_ACT_RELU, AN_ACT_IDENTITY};
	static const float w2[2] = {2, -3};
	static const float b2[1] = {0.25f};
	AnContext	ctx;
	AnMlp		mlp;
	const float *y;

	unit_context_malloc(&ctx);
	REQUIRE(an_mlp_create(&ctx, &mlp, 2, dims, acts, true, false, 2) == AN_OK);
	memcpy(mlp.layers[0].w, hand_w, sizeof(hand_w));
	memcpy(mlp.layers[0].b, hand_b, sizeof(hand_b));
	memcpy(mlp.layers[1].w, w2, sizeof(w2));
	memcpy(mlp.layers[1].b, b2, sizeof(b2));

	/*
	 * hidden = relu([[-1.5, -4], [6, -1.5]]) = [[0, 0], [6, 0]]; y = [0.25,
	 * 12.25]
	 */
	y = an_mlp_forward(&mlp, hand_x, 2);
	CHECK(y == mlp.outs[1]);
	CHECK_NEAR(mlp.outs[0][0], 0, 0);
	CHECK_NEAR(mlp.outs[0][2], 6, 1e-6);
	CHECK_NEAR(y[0], 0.25, 1e-6);
	CHECK_NEAR(y[1], 12.25, 1e-6);
	an_mlp_free(&ctx, &mlp);
}

/*
 * an_mlp_copy_weights: a trained network into an inference-only one gives
 * the same forward pass bit for bit; a prefix of layers goes into a
 * network that continues differently, whose other layers stay as they
 * were; a network without biases copies its weights alone.
 */
UNIT_TEST(mlp_copy_weights)
{
	static const int dims[4] = {4, 6, 3, 4};
	static const int enc_dims[3] = {4, 6, 3};
	static const int deeper[4] = {4, 6, 3, 2};
	static const AnActivation acts[3] = {AN_ACT_LEAKY_RELU, AN_ACT_TANH, AN_ACT_IDENTITY};
	static const float x[8] = {0.5f, -1, 2, 0.25f, -0.75f, 1.5f, 0, -2};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnMlp		src,
				dst;
	AnRng		rng;
	float		y[8];

	unit_context_counting(&ctx, &counter);
	an_rng_seed(&rng, 11);
	REQUIRE(an_mlp_create(&ctx, &src, 3, dims, acts, true, true, 2) == AN_OK);
	an_mlp_init(&src, &rng);
	memcpy(y, an_mlp_forward(&src, x, 2), sizeof(y));

	/* everything, trainable into inference-only */
	REQUIRE(an_mlp_create(&ctx, &dst, 3, dims, acts, true, false, 2) == AN_OK);
	an_mlp_copy_weights(&dst, &src, 3);
	CHECK(memcmp(an_mlp_forward(&dst, x, 2), y, sizeof(y)) == 0);
	an_mlp_free(&ctx, &dst);

	/* the first two layers into an encoder, and into a deeper network */
	REQUIRE(an_mlp_create(&ctx, &dst, 2, enc_dims, acts, true, false, 2) == AN_OK);
	an_mlp_copy_weights(&dst, &src, 2);
	for (int l = 0; l < 2; l++)
	{
		CHECK(memcmp(dst.layers[l].w, src.layers[l].w,
					 sizeof(float) * dims[l] * dims[l + 1]) == 0);
		CHECK(memcmp(dst.layers[l].b, src.layers[l].b, sizeof(float) * dims[l + 1]) == 0);
	}
	an_mlp_free(&ctx, &dst);
	REQUIRE(an_mlp_create(&ctx, &dst, 3, deeper, acts, true, true, 2) == AN_OK);
	for (int i = 0; i < 3 * 2; i++)
		dst.layers[2].w[i] = 7.0f;
	dst.layers[2].b[0] = dst.layers[2].b[1] = 7.0f;
	an_mlp_copy_weights(&dst, &src, 2);
	CHECK(memcmp(dst.layers[1].w, src.layers[1].w, sizeof(float) * 6 * 3) == 0);
	CHECK(memcmp(dst.layers[1].b, src.layers[1].b, sizeof(float) * 3) == 0);
	for (int i = 0; i < 3 * 2; i++)
		CHECK(dst.layers[2].w[i] == 7.0f);
	CHECK(dst.layers[2].b[0] == 7.0f && dst.layers[2].b[1] == 7.0f);
	an_mlp_free(&ctx, &dst);
	an_mlp_free(&ctx, &src);

	/* without biases */
	REQUIRE(an_mlp_create(&ctx, &src, 3, dims, acts, false, true, 2) == AN_OK);
	an_mlp_init(&src, &rng);
	memcpy(y, an_mlp_forward(&src, x, 2), sizeof(y));
	REQUIRE(an_mlp_create(&ctx, &dst, 3, dims, acts, false, false, 2) == AN_OK);
	an_mlp_copy_weights(&dst, &src, 3);
	CHECK(memcmp(an_mlp_forward(&dst, x, 2), y, sizeof(y)) == 0);
	an_mlp_free(&ctx, &dst);
	an_mlp_free(&ctx, &src);
	CHECK_NO_LEAKS(&counter);
}

/* ---- losses ---- */

/*
 * y = [[1, 2], [3, 4]], t = [[0, 2], [5, 3]]: diff = [1, 0, -2, 1],
 * MSE = 6 / 4 = 1.5, grad = 2/4 diff = [0.5, 0, -1, 0.5], row MSE = [0.5,
 * 2.5].
 */
UNIT_TEST(mse_hand_computed)
{
	static const float y[4] = {1, 2, 3, 4};
	static const float t[4] = {0, 2, 5, 3};
	static const float g_expected[4] = {0.5f, 0, -1, 0.5f};
	float		g[4];
	double		rows[2];

	CHECK_NEAR(an_mse(y, t, 2, 2, g), 1.5, 1e-12);
	for (int i = 0; i < 4; i++)
		CHECK_NEAR(g[i], g_expected[i], 1e-7);
	CHECK_NEAR(an_mse(y, t, 2, 2, NULL), 1.5, 1e-12);
	CHECK_NEAR(an_mse(y, y, 2, 2, NULL), 0.0, 0);
	/* the same data as one row of four */
	CHECK_NEAR(an_mse(y, t, 1, 4, NULL), 1.5, 1e-12);

	an_row_mse(y, t, 2, 2, rows);
	CHECK_NEAR(rows[0], 0.5, 1e-12);
	CHECK_NEAR(rows[1], 2.5, 1e-12);
	an_row_mse(y, t, 1, 4, rows);
	CHECK_NEAR(rows[0], 1.5, 1e-12);
}

/* ---- Adam ---- */

/*
 * Reference values from torch.optim.Adam (lr 0.1, betas 0.9/0.999, eps
 * 1e-8), written out in double precision: parameters [1, -2, 0.5, 0] as
 * two tensors of 3 and 1, gradients [0.5, -1, 2, 0.1] then [-0.25, 0.5, 1,
 * 0.3].
 *
 * The tolerance is float32 rounding (2e-7 relative, 1e-8 absolute): it
 * catches 1 - beta computed from float32-rounded betas, which made the
 * first steps about 6.4e-6 relatively larger than torch's.
 */
static void
adam_case(double weight_decay, const double step1[4], const double step2[4])
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnParamList list;
	AnAdam		adam;
	float		a[3] = {1, -2, 0.5f};
	float		b[1] = {0};
	float		ga[3] = {0.5f, -1, 2};
	float		gb[1] = {0.1f};

	unit_context_counting(&ctx, &counter);
	memset(&list, 0, sizeof(list));
	an_params_add(&list, a, ga, 3);
	an_params_add(&list, b, gb, 1);
	REQUIRE(an_adam_create(&ctx, &adam, &list, 0.1, weight_decay) == AN_OK);
	CHECK(adam.beta1 == 0.9 && adam.beta2 == 0.999 && adam.eps == 1e-8);
	CHECK(adam.t == 0);

	an_adam_step(&adam);
	CHECK(adam.t == 1);
	for (int i = 0; i < 3; i++)
		CHECK_CLOSE(a[i], step1[i], 2e-7, 1e-8);
	CHECK_CLOSE(b[0], step1[3], 2e-7, 1e-8);

	ga[0] = -0.25f;
	ga[1] = 0.5f;
	ga[2] = 1;
	gb[0] = 0.3f;
	an_adam_step(&adam);
	CHECK(adam.t == 2);
	for (int i = 0; i < 3; i++)
		CHECK_CLOSE(a[i], step2[i], 2e-7, 1e-8);
	CHECK_CLOSE(b[0], step2[3], 2e-7, 1e-8);

	an_adam_free(&ctx, &adam);
	CHECK(adam.m == NULL && adam.v == NULL);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(adam_matches_torch)
{
	static const double step1[4] = {0.900000002, -1.900000001, 0.4000000005,
	-0.09999999000000102};
	static const double step2[4] = {0.8733662987078463, -1.873366297370903,
	0.30678203720851044, -0.19177809779441013};

	adam_case(0.0, step1, step2);
}

/*
 * Parameters long enough for the vector loops (16 lanes, and the AVX-512
 * version on a processor that has it) and their scalar tail: every step
 * must give the bits of the scalar expression, each product and sum
 * rounded on its own (a fused multiply-add would change them).
 */
UNIT_TEST(adam_vector_paths_match_scalar)
{
	enum
	{
		NA = 37, NB = 16, STEPS = 5
	};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnParamList list;
	AnAdam		adam;
	float		val[NA + NB],
				grad[NA + NB],
				ref[NA + NB],
				m[NA + NB] = {0},
				v[NA + NB] = {0};
	const double wd = 0.01;

	unit_context_counting(&ctx, &counter);
	for (int i = 0; i < NA + NB; i++)
		val[i] = ref[i] = (float) sin(1.0 + i) * 0.7f;
	memset(&list, 0, sizeof(list));
	an_params_add(&list, val, grad, NA);
	an_params_add(&list, val + NA, grad + NA, NB);
	REQUIRE(an_adam_create(&ctx, &adam, &list, 0.01, wd) == AN_OK);
	for (int t = 1; t <= STEPS; t++)
	{
		float		b1 = 0.9f,
					b2 = 0.999f,
					omb1 = (float) (1.0 - 0.9),
					omb2 = (float) (1.0 - 0.999),
					fwd = (float) wd,
					eps = 1e-8f,
					step = (float) (0.01 / (1.0 - pow(0.9, t))),
					rbc2 = (float) (1.0 / sqrt(1.0 - pow(0.999, t)));
		bool		same = true;

		for (int i = 0; i < NA + NB; i++)
			grad[i] = (float) cos(0.3 * i * t) * (i % 3 ? 1.0f : 1e-3f);
		an_adam_step(&adam);
		for (int i = 0; i < NA + NB; i++)
		{
			volatile float g = grad[i] + fwd * ref[i];
			volatile float p1 = b1 * m[i];
			volatile float p2 = omb1 * g;
			volatile float q1 = b2 * v[i];
			volatile float q2 = omb2 * g;
			volatile float q3 = q2 * g;
			volatile float num = step * (m[i] = p1 + p2);
			volatile float den = sqrtf(v[i] = q1 + q3) * rbc2;

			ref[i] -= num / (den + eps);
			same &= memcmp(&ref[i], &val[i], sizeof(float)) == 0 &&
				memcmp(&m[i], &adam.m[i], sizeof(float)) == 0 &&
				memcmp(&v[i], &adam.v[i], sizeof(float)) == 0;
		}
		CHECK(same);
	}
	an_adam_free(&ctx, &adam);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(adam_matches_torch_weight_decay)
{
	static const double step1[4] = {0.9000000016666666, -1.9000000008333333,
	0.4000000004878049, -0.09999999000000102};
	static const double step2[4] = {0.8544413674617625, -1.8537472646427609,
	0.306570104544592, -0.1921859193427763};

	adam_case(0.1, step1, step2);
}

/* ---- parameter lists ---- */

UNIT_TEST(params_save_restore_finite)
{
	AnParamList list;
	float		a[3] = {1, -2, 3};
	float		b[2] = {0.5f, 4};
	float		ga[3],
				gb[2];
	float		saved[5];
	float		dummy[1] = {1};

	memset(&list, 0, sizeof(list));
	an_params_add(&list, a, ga, 3);
	an_params_add(&list, NULL, NULL, 4);	/* ignored: no tensor */
	an_params_add(&list, dummy, NULL, 0);	/* ignored: empty */
	an_params_add(&list, b, gb, 2);
	REQUIRE(list.n == 2);
	CHECK(an_params_total(&list) == 5);
	CHECK_NEAR(an_params_sq_norm(&list), 1 + 4 + 9 + 0.25 + 16, 1e-12);

	an_params_save(&list, saved);
	CHECK(saved[0] == 1 && saved[2] == 3 && saved[3] == 0.5f && saved[4] == 4);
	a[1] = 10;
	b[1] = -7;
	an_params_restore(&list, saved);
	CHECK(a[1] == -2);
	CHECK(b[1] == 4);
	CHECK(a[0] == 1 && a[2] == 3 && b[0] == 0.5f);

	CHECK(an_params_finite(&list));
	b[1] = NAN;
	CHECK(!an_params_finite(&list));
	b[1] = -INFINITY;
	CHECK(!an_params_finite(&list));
	b[1] = 4;
	a[0] = INFINITY;
	CHECK(!an_params_finite(&list));
	a[0] = 1;
	CHECK(an_params_finite(&list));
}

UNIT_TEST(params_list_is_bounded)
{
	AnParamList list;
	float		v[AN_MAX_PARAMS + 5];

	memset(&list, 0, sizeof(list));
	for (int i = 0; i < AN_MAX_PARAMS + 5; i++)
	{
		v[i] = (float) i;
		an_params_add(&list, &v[i], NULL, 1);
	}
	CHECK(list.n == AN_MAX_PARAMS);
	CHECK(an_params_total(&list) == AN_MAX_PARAMS);
	CHECK(list.items[AN_MAX_PARAMS - 1].value == &v[AN_MAX_PARAMS - 1]);
}
