/*-------------------------------------------------------------------------
 *
 * test_data.c
 *	  Unit tests of the input side: feature layout and naming, scalers,
 *	  quantiles.
 *
 * Expected values are worked out by hand in the comments; quantiles follow
 * numpy.quantile's default (linear) method.
 *
 * IDENTIFICATION
 *	  test/unit/test_data.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "anomaly/model.h"
#include "unit.h"

/* ---- quantiles ---- */

UNIT_TEST(quantile_matches_numpy)
{
	/* sorted [1, 2, 3, 4, 5, 100]: position q * 5 between order statistics */
	static const double v[6] = {1, 2, 3, 4, 5, 100};
	static const struct
	{
		double		q;
		double		expected;	/* numpy.quantile(v, q) */
	}			cases[] = {
		{0.0, 1.0},
		{0.1, 1.5},
		{0.25, 2.25},
		{0.5, 3.5},
		{0.75, 4.75},
		{0.9, 52.5},
		{0.99, 95.25},
		{1.0, 100.0},
		{-0.5, 1.0},			/* clamped */
		{1.5, 100.0},
	};
	double		one = 42;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_NEAR(an_quantile_sorted(v, 6, cases[i].q), cases[i].expected, 1e-12);

	CHECK(an_quantile_sorted(&one, 1, 0.3) == 42);
	CHECK(isnan(an_quantile_sorted(v, 0, 0.5)));
	/* two points: straight interpolation */
	CHECK_NEAR(an_quantile_sorted(v + 4, 2, 0.2), 5 + 0.2 * 95, 1e-12);
}

UNIT_TEST(sort_doubles)
{
	double		v[7] = {3, -1, 2.5, 1e300, -1e300, 0, 2.5};
	static const double sorted[7] = {-1e300, -1, 0, 2.5, 2.5, 3, 1e300};

	an_sort_doubles(v, 7);
	for (int i = 0; i < 7; i++)
		CHECK(v[i] == sorted[i]);
	an_sort_doubles(v, 0);
}

/* ---- scalers ---- */

/*
 * Two numeric columns and one 0/1 column, five rows:
 *	 column 0 = [1, 2, 3, 4, 10]: mean 4, population variance (9 + 4 + 1 +
 *	 0 + 36) / 5 = 10; sorted, median 3, q1 2, q3 4.
 *	 column 1 = 7 everywhere: constant, scale 1.
 *	 column 2 = [0, 1, 1, 0, 1]: not fitted (offset 0, scale 1).
 */
static const double scaler_rows[15] = {
	10, 7, 0,
	2, 7, 1,
	4, 7, 1,
	1, 7, 0,
	3, 7, 1,
};
static const bool scaler_fit_dim[3] = {true, true, false};

UNIT_TEST(scaler_standard)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnScaler	s;
	float		out[3];

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_scaler_fit(&ctx, &s, AN_SCALER_STANDARD, scaler_rows, 5, 3,
							   scaler_fit_dim), AN_OK);
	CHECK(s.kind == AN_SCALER_STANDARD && s.dim == 3);
	CHECK_NEAR(s.offset[0], 4.0, 1e-12);
	CHECK_NEAR(s.scale[0], sqrt(10.0), 1e-12);
	CHECK_NEAR(s.offset[1], 7.0, 1e-12);
	CHECK(s.scale[1] == 1.0);
	CHECK(s.offset[2] == 0.0 && s.scale[2] == 1.0);

	an_scaler_apply(&s, scaler_rows, out);
	CHECK_NEAR(out[0], 6 / sqrt(10.0), 1e-6);
	CHECK(out[1] == 0.0f);
	CHECK(out[2] == 0.0f);
	an_scaler_apply(&s, scaler_rows + 3, out);
	CHECK_NEAR(out[0], -2 / sqrt(10.0), 1e-6);
	CHECK(out[2] == 1.0f);
	an_scaler_free(&ctx, &s);
	CHECK(s.offset == NULL && s.scale == NULL);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(scaler_standard_large_offset)
{
	/* epoch seconds: a spread of 1 on top of 1.7e9 must survive */
	AnContext	ctx;
	AnScaler	s;
	double		rows[4] = {1.7e9 + 1, 1.7e9 + 2, 1.7e9 + 3, 1.7e9 + 4};
	float		out[1];

	unit_context_malloc(&ctx);
	REQUIRE(an_scaler_fit(&ctx, &s, AN_SCALER_STANDARD, rows, 4, 1, NULL) == AN_OK);
	CHECK_NEAR(s.offset[0], 1.7e9 + 2.5, 1e-6);
	CHECK_NEAR(s.scale[0], sqrt(1.25), 1e-9);
	an_scaler_apply(&s, rows, out);
	CHECK_NEAR(out[0], -1.5 / sqrt(1.25), 1e-6);
	an_scaler_free(&ctx, &s);
}

UNIT_TEST(scaler_robust)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnScaler	s;
	/* [1, 2, 3, 4, 5, 100] shuffled: median 3.5, q1 2.25, q3 4.75, IQR 2.5 */
	double		rows[6] = {5, 100, 1, 4, 2, 3};
	float		out[1];

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_scaler_fit(&ctx, &s, AN_SCALER_ROBUST, scaler_rows, 5, 3,
							   scaler_fit_dim), AN_OK);
	CHECK(s.kind == AN_SCALER_ROBUST);
	CHECK_NEAR(s.offset[0], 3.0, 1e-12);
	CHECK_NEAR(s.scale[0], 2.0, 1e-12);
	CHECK_NEAR(s.offset[1], 7.0, 1e-12);
	CHECK(s.scale[1] == 1.0);
	CHECK(s.offset[2] == 0.0 && s.scale[2] == 1.0);
	an_scaler_free(&ctx, &s);

	CHECK_STATUS(an_scaler_fit(&ctx, &s, AN_SCALER_ROBUST, rows, 6, 1, NULL), AN_OK);
	CHECK_NEAR(s.offset[0], 3.5, 1e-12);
	CHECK_NEAR(s.scale[0], 2.5, 1e-12);
	/* the input is not reordered */
	CHECK(rows[0] == 5 && rows[1] == 100);
	an_scaler_apply(&s, rows + 1, out);
	CHECK_NEAR(out[0], (100 - 3.5) / 2.5, 1e-5);
	an_scaler_free(&ctx, &s);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(scaler_none_and_empty)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnScaler	s;
	float		out[3];

	unit_context_counting(&ctx, &counter);
	CHECK_STATUS(an_scaler_fit(&ctx, &s, AN_SCALER_NONE, scaler_rows, 5, 3, NULL), AN_OK);
	CHECK(s.kind == AN_SCALER_NONE);
	for (int j = 0; j < 3; j++)
		CHECK(s.offset[j] == 0.0 && s.scale[j] == 1.0);
	an_scaler_apply(&s, scaler_rows, out);
	CHECK(out[0] == 10.0f && out[1] == 7.0f && out[2] == 0.0f);
	an_scaler_free(&ctx, &s);

	/* no rows: the identity, not a division by zero */
	CHECK_STATUS(an_scaler_fit(&ctx, &s, AN_SCALER_STANDARD, NULL, 0, 3, NULL), AN_OK);
	for (int j = 0; j < 3; j++)
		CHECK(s.offset[j] == 0.0 && s.scale[j] == 1.0);
	an_scaler_free(&ctx, &s);

	/* out of memory on the robust scaler's column buffer */
	counter.n_allocs = 0;
	counter.fail_at = 3;
	CHECK_STATUS(an_scaler_fit(&ctx, &s, AN_SCALER_ROBUST, scaler_rows, 5, 3, NULL),
				 AN_ERR_NOMEM);
	CHECK(counter.n_failed == 1);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(scaler_names)
{
	static const char *const names[] = {"standard", "robust", "none"};
	AnScalerKind kind;

	for (int i = 0; i < 3; i++)
	{
		CHECK_STR(an_scaler_name((AnScalerKind) i), names[i]);
		kind = (AnScalerKind) -1;
		CHECK(an_scaler_parse(names[i], &kind));
		CHECK(kind == (AnScalerKind) i);
	}
	CHECK(!an_scaler_parse("minmax", &kind));
	CHECK_STR(an_scaler_name((AnScalerKind) 7), "unknown");
}

UNIT_TEST(scaler_apply_compact_matches_apply)
{
	enum
	{
		N = 37, D = 5
	};
	AnContext	ctx;
	AnScaler	s;
	AnRng		rng;
	double	   *raw = malloc(N * D * sizeof(double));
	double	   *buf = malloc(N * D * sizeof(double));
	float		expected[D];
	float	   *packed;
	int			mismatches = 0;

	unit_context_malloc(&ctx);
	an_rng_seed(&rng, 5);
	for (int i = 0; i < N * D; i++)
		raw[i] = 1000.0 * an_rng_normal(&rng) + (i % D) * 1e6;
	memcpy(buf, raw, N * D * sizeof(double));
	REQUIRE(an_scaler_fit(&ctx, &s, AN_SCALER_STANDARD, raw, N, D, NULL) == AN_OK);

	packed = an_scaler_apply_compact(&s, buf, N);
	CHECK((void *) packed == (void *) buf);
	for (int i = 0; i < N; i++)
	{
		an_scaler_apply(&s, raw + (size_t) i * D, expected);
		if (memcmp(expected, packed + (size_t) i * D, sizeof(expected)) != 0)
			mismatches++;
	}
	CHECK(mismatches == 0);
	/* and the values are standardised */
	CHECK(fabs(packed[0]) < 5 && fabs(packed[N * D - 1]) < 5);
	an_scaler_free(&ctx, &s);
	free(raw);
	free(buf);
}

/* ---- feature specification ---- */

/*
 * amount (numeric), weekend (boolean), merchant (categorical: grocery,
 * fuel, travel + other), hour (numeric): offsets 0, 1, 2, 6; widths 1, 1,
 * 4, 1; dim 7.
 */
static char *merchant_categories[] = {"grocery", "fuel", "travel"};

static void
make_spec(AnFeatureSpec *spec, AnFeature *features)
{
	memset(features, 0, 4 * sizeof(AnFeature));
	features[0].name = "amount";
	features[0].kind = AN_FEATURE_NUMERIC;
	features[1].name = "weekend";
	features[1].kind = AN_FEATURE_BOOLEAN;
	features[2].name = "merchant";
	features[2].kind = AN_FEATURE_CATEGORICAL;
	features[2].n_categories = 3;
	features[2].categories = merchant_categories;
	features[3].name = "hour";
	features[3].kind = AN_FEATURE_NUMERIC;
	spec->n_features = 4;
	spec->features = features;
	spec->dim = -1;
}

UNIT_TEST(spec_layout)
{
	AnContext	ctx;
	AnFeatureSpec spec;
	AnFeature	features[4];
	static const int offsets[4] = {0, 1, 2, 6};
	static const int widths[4] = {1, 1, 4, 1};

	unit_context_malloc(&ctx);
	make_spec(&spec, features);
	/* stale layout values are recomputed */
	features[1].width = 9;
	features[3].offset = 99;
	CHECK_STATUS(an_spec_layout(&ctx, &spec), AN_OK);
	CHECK(spec.dim == 7);
	for (int i = 0; i < 4; i++)
	{
		CHECK(features[i].offset == offsets[i]);
		CHECK(features[i].width == widths[i]);
	}

	/* a categorical feature without kept categories is just "other" */
	features[2].n_categories = 0;
	CHECK_STATUS(an_spec_layout(&ctx, &spec), AN_OK);
	CHECK(spec.dim == 4 && features[2].width == 1 && features[3].offset == 3);

	/* absurd sizes and empty specs are refused */
	features[2].n_categories = 1 << 20;
	CHECK_STATUS(an_spec_layout(&ctx, &spec), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "too many");
	spec.n_features = 0;
	CHECK_STATUS(an_spec_layout(&ctx, &spec), AN_ERR_INVALID);
	CHECK_CONTAINS(ctx.errmsg, "at least one feature");
}

UNIT_TEST(feature_category_slot)
{
	AnFeatureSpec spec;
	AnFeature	features[4];

	make_spec(&spec, features);
	CHECK(an_feature_category_slot(&features[2], "grocery") == 0);
	CHECK(an_feature_category_slot(&features[2], "fuel") == 1);
	CHECK(an_feature_category_slot(&features[2], "travel") == 2);
	/* anything else is the "other" slot */
	CHECK(an_feature_category_slot(&features[2], "casino") == 3);
	CHECK(an_feature_category_slot(&features[2], "") == 3);
	CHECK(an_feature_category_slot(&features[2], "Grocery") == 3);
	CHECK(an_feature_category_slot(&features[2], "grocery ") == 3);
}

UNIT_TEST(spec_dim_names)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnFeatureSpec spec;
	AnFeature	features[4];
	static const char *const expected[7] = {
		"amount", "weekend", "merchant=grocery", "merchant=fuel",
		"merchant=travel", "merchant=(other)", "hour"
	};

	unit_context_counting(&ctx, &counter);
	make_spec(&spec, features);
	REQUIRE(an_spec_layout(&ctx, &spec) == AN_OK);
	for (int j = 0; j < 7; j++)
	{
		char	   *name = an_spec_dim_name(&ctx, &spec, j);

		CHECK_STR(name, expected[j]);
		an_free(&ctx, name);
	}
	CHECK(an_spec_dim_name(&ctx, &spec, 7) == NULL);
	CHECK(an_spec_dim_name(&ctx, &spec, -1) == NULL);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(spec_free_releases_everything)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	AnFeatureSpec spec;
	AnFeature  *f;

	unit_context_counting(&ctx, &counter);
	spec.n_features = 2;
	spec.features = an_alloc_array(&ctx, 2, sizeof(AnFeature));
	REQUIRE(spec.features);
	f = spec.features;
	f[0].name = an_strdup(&ctx, "amount");
	f[0].kind = AN_FEATURE_NUMERIC;
	f[1].name = an_strdup(&ctx, "merchant");
	f[1].kind = AN_FEATURE_CATEGORICAL;
	f[1].n_categories = 2;
	f[1].categories = an_alloc_array(&ctx, 2, sizeof(char *));
	REQUIRE(f[1].categories);
	f[1].categories[0] = an_strdup(&ctx, "a");
	f[1].categories[1] = an_strdup(&ctx, "b");
	REQUIRE(an_spec_layout(&ctx, &spec) == AN_OK);
	CHECK(spec.dim == 4);
	CHECK(counter.outstanding == 6);

	an_spec_free(&ctx, &spec);
	CHECK(spec.features == NULL && spec.n_features == 0 && spec.dim == 0);
	CHECK_NO_LEAKS(&counter);
	/* freeing twice is harmless */
	an_spec_free(&ctx, &spec);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(feature_kind_names)
{
	static const char *const names[] = {"numeric", "boolean", "categorical"};
	AnFeatureKind kind;

	for (int i = 0; i < 3; i++)
	{
		CHECK_STR(an_feature_kind_name((AnFeatureKind) i), names[i]);
		kind = (AnFeatureKind) -1;
		CHECK(an_feature_kind_parse(names[i], &kind));
		CHECK(kind == (AnFeatureKind) i);
	}
	CHECK(!an_feature_kind_parse("text", &kind));
	CHECK_STR(an_feature_kind_name((AnFeatureKind) 3), "unknown");
}
