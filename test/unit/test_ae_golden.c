/*-------------------------------------------------------------------------
 *
 * test_ae_golden.c
 *	  A document of one autoencoder network written before the "networks"
 *	  option existed still decodes and scores as it did, and the same
 *	  options with networks => 1 still train into the same bytes.
 *
 * The document and the scores were produced by the core of commit 3fda3a6
 * (the parent of the change that added "networks") from the rows and
 * options below; regenerate them only for an intended format change.
 * They are sgemm's bits: the tests turn the AVX-512 products of
 * smallgemm.c off for the bit-for-bit checks, and check the scores of
 * those products within float32 rounding.
 *
 * IDENTIFICATION
 *	  test/unit/test_ae_golden.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anomaly/blas.h"
#include "anomaly/method.h"
#include "anomaly/model.h"
#include "unit.h"

#define GOLDEN_ROWS 200
#define GOLDEN_DIM 3

/*
 * A model of one network written by 0.2.0 before "networks" existed (commit
 * 3fda3a6): its document and its scores of rows 0 to 11 of golden_rows.
 * The code of now must decode it and score as it did, and train the same
 * options with networks => 1 into the same bytes.
 */
static const char golden_hex[] =
	"8aa6666f726d6174ad616e6f6d616c792d6d6f64656cae666f726d61745f76657273696f"
	"6e01a66d6574686f64ab6175746f656e636f646572a866656174757265739384a46e616d"
	"65a26630a46b696e64a76e756d65726963a466696c6ccb0000000000000000aa63617465"
	"676f726965739084a46e616d65a26631a46b696e64a76e756d65726963a466696c6ccb00"
	"00000000000000aa63617465676f726965739084a46e616d65a26632a46b696e64a76e75"
	"6d65726963a466696c6ccb0000000000000000aa63617465676f7269657390a67363616c"
	"657283a46b696e64a87374616e64617264a66f666673657493cb3fdcb4ae51495ba0cb3f"
	"db94c31500bcd0cb3fd8d2afd2df2b50a57363616c6593cb3ff44846e1eacd99cb3ffc65"
	"378590c4eacb4002f2afe97933dda5737461746581a76e6574776f726b81a66c61796572"
	"739485a2696e03a36f757404aa61637469766174696f6eaa6c65616b795f72656c75a677"
	"6569676874c430af327f3e41ad73bef847d13e8584113fe981153f02bcdf3e323504bf37"
	"a3e1be6cb8c1bdebbec4be95a2833dd258913ea462696173c41020acfc3e5c18ea3eb948"
	"95bd3571a83d85a2696e04a36f757402aa61637469766174696f6eaa6c65616b795f7265"
	"6c75a6776569676874c4204bcb81be09aa52bd92bfa7bef688bdbeeb0fa1be913e0a3e91"
	"c23d3ee90e4ebea462696173c4086061863e8240b5be85a2696e02a36f757404aa616374"
	"69766174696f6eaa6c65616b795f72656c75a6776569676874c4200e8f2abf304e143e7e"
	"fcf3be669852bcc7a019bfd424febed896e13e4ee62a3fa462696173c410ce79133fbdb1"
	"f4bdc71b63be1903913e85a2696e04a36f757403aa61637469766174696f6ea86964656e"
	"74697479a6776569676874c430b9c8ce3e05adff3e2c68ce3e76d999bec8bc2f3d27e29c"
	"bea48a3a3ea78befbe377b7d3e2666a93e0bb38f3ef6af373ea462696173c40cb9dadb3d"
	"83d4a53e23556dbea97468726573686f6c64cb4011cdf4168ea420ad636f6e74616d696e"
	"6174696f6ecb3f847ae147ae147baf73636f72655f7175616e74696c6573dc0065cb3fb9"
	"9fd5341e9200cb3fb9bb15c1c5d66ccb3fb9e243fda5a110cb3fba335a11e9cfb9cb3fba"
	"77f7ae203ea0cb3fbac829a55f4660cb3fc21fa4a9d98197cb3fc2aa0641539393cb3fc3"
	"36c8499b1a99cb3fc40f238c92689bcb3fc4b202924c4b4fcb3fc5c148794a14a4cb3fc6"
	"544a5f5c9702cb3fc6eb60a5f461f4cb3fc7d5e0b99bfdcbcb3fc876d1035879b3cb3fd3"
	"ff79df7bd7d7cb3fd4c7e3c4ff6af9cb3fd51353d10a2767cb3fd5637019b4a218cb3fd5"
	"b22b23f0bbf8cb3fd5f76aa3249998cb3fd630c936c11ad2cb3fd66de00dbdcee1cb3fd6"
	"d8bd240c797dcb3fd750d17fe6f76ecb3fe0a87177812adccb3fe0dfc885968d99cb3fe1"
	"325249dbc1d6cb3fe168d431b8bbe8cb3fe19efb4fcf0495cb3fe2c93ef64812a8cb3fe3"
	"28a3dd43ab2ccb3fe3a924f8d6329ccb3fe419f61185c3f1cb3fe47b580e593d67cb3fe4"
	"f34eef9da6d9cb3fe5fb01aa909786cb3fe61c7cea550f3fcb3fe63c206b9cfcc6cb3fe6"
	"73d33c489f74cb3fe6a69a6a0edd68cb3fe6cfc901bce3d3cb3fea1178a299ef2ecb3fea"
	"39ad76ad59fbcb3fea4e8adea7e1f7cb3fea6aaeb27038d2cb3fea9b5cc82e7443cb3fec"
	"70ef2438bb71cb3fed6f821af9eb20cb3fed87b2c1e132c1cb3feda7f0a028005acb3fed"
	"bec3d52ce52ccb3fedd8ac4adb7e42cb3fedf836caa62735cb3fee54bb7c86f6e3cb3fee"
	"e8f6f01ce180cb3fef4b13270e02adcb3ff040c3f569c208cb3ff086325f35fe85cb3ff0"
	"98fb920e2051cb3ff0b57b128ca061cb3ff0c8a0f27834b6cb3ff0ec120b000491cb3ff2"
	"a23242d12f2fcb3ff2bef09eda442bcb3ff2d4bd2faea001cb3ff2ee31f12422cccb3ff3"
	"089031c56749cb3ff33683cfee885bcb3ff3a5a1b77f0eaacb3ff3da7002446fc1cb3ff3"
	"f3657ba15a1ecb3ff4139f3e7d5ea9cb3ff44ba04432aa96cb3ff4e2bf2db6d588cb3ff4"
	"f8a07de47715cb3ff5133bc2cd6a8fcb3ff5262c7e3142bccb3ff53ac88445d9eecb3ff6"
	"45afbf5d3f65cb3ff652fb688b3149cb3ff6657c7df97f7ecb3ff670d34e7d766fcb3ff6"
	"7af1356a37f5cb3ff67fe0cc030455cb3ff68634b9a365d5cb3ff68ed1b9f32a98cb3ff6"
	"997450baaf7bcb3ff6a01d61b57727cb3ff6f373a702b839cb3ffb29507c15156ccb4002"
	"3f4e0b4987eccb400379bc82a3b2a7cb40077210aec76926cb400a22039db620c9cb400c"
	"896b4498a216cb40103b168e7ae7b0cb4011a4fc510af312cb4011cdf4168ea420cb4012"
	"513eaa123169a8747261696e696e6784a4726f7773ccc8a665706f63687303a46c6f7373"
	"cb3ff8258a414f74e6a47365656407";

static const double golden_scores[12] = {
	0x1.1768b89307362p+2,
	0x1.75f5c9d154a88p-2,
	0x1.8830a6df43fcdp-3,
	0x1.aca41afcde337p-4,
	0x1.1a6416b2e04f8p-3,
	0x1.3c4a5273a3537p-2,
	0x1.2a84cd5cf6b03p-1,
	0x1.c2b2c49b4dcc1p+0,
	0x1.385cf9510c445p+0,
	0x1.64452a13aa67dp+0,
	0x1.6a5e364b7bf9fp+0,
	0x1.5496911afd068p+0
};

static void
golden_rows(double *raw)
{
	for (int i = 0; i < GOLDEN_ROWS; i++)
		for (int j = 0; j < GOLDEN_DIM; j++)
			raw[i * GOLDEN_DIM + j] = sin(i * 0.37 + j) * (j + 1) + (i % 7 == 0 ? 3.0 : 0.0);
}

static size_t
golden_bytes(unsigned char *out)
{
	size_t		n = strlen(golden_hex) / 2;

	for (size_t i = 0; i < n; i++)
	{
		char		byte[3] = {golden_hex[2 * i], golden_hex[2 * i + 1], 0};

		out[i] = (unsigned char) strtoul(byte, NULL, 16);
	}
	return n;
}

UNIT_TEST(ae_golden_document_scores_as_before)
{
	AnContext	ctx;
	UnitAlloc	counter = {0};
	unsigned char doc[sizeof(golden_hex) / 2];
	size_t		len = golden_bytes(doc);
	double		raw[GOLDEN_ROWS * GOLDEN_DIM];
	double		scores[12];
	AnModel		model;

	unit_context_counting(&ctx, &counter);
	golden_rows(raw);
	REQUIRE(an_model_decode(&ctx, (const char *) doc, len, &model) == AN_OK);
	an_small_sgemm_enable(false);
	an_model_score_raw(&model, raw, 12, scores);
	an_small_sgemm_enable(true);
	for (int i = 0; i < 12; i++)
		CHECK(scores[i] == golden_scores[i]);
	an_model_score_raw(&model, raw, 12, scores);
	for (int i = 0; i < 12; i++)
		CHECK_CLOSE(scores[i], golden_scores[i], 1e-5, 1e-9);
	an_model_free(&ctx, &model);
	CHECK_NO_LEAKS(&counter);
}

UNIT_TEST(ae_golden_one_network_trains_the_same_bytes)
{
	static const double hidden[1] = {4};
	AnContext	ctx;
	UnitAlloc	counter = {0};
	unsigned char doc[sizeof(golden_hex) / 2];
	size_t		golden_len = golden_bytes(doc);
	double		raw[GOLDEN_ROWS * GOLDEN_DIM],
				copy[GOLDEN_ROWS * GOLDEN_DIM];
	AnOptions	opts;
	AnOptionValue v = {.kind = AN_OPTION_ARRAY,.items = hidden,.n_items = 1};
	AnModel		model;
	char	   *data = NULL;
	size_t		len = 0;
	float	   *x;

	unit_context_counting(&ctx, &counter);
	golden_rows(raw);
	REQUIRE(an_options_init(&ctx, &opts, an_method_lookup("autoencoder")) == AN_OK);
	REQUIRE(an_options_set(&ctx, &opts, "hidden", &v) == AN_OK);
	v = unit_num(2);
	REQUIRE(an_options_set(&ctx, &opts, "latent", &v) == AN_OK);
	v = unit_num(3);
	REQUIRE(an_options_set(&ctx, &opts, "epochs", &v) == AN_OK);
	v = unit_num(7);
	REQUIRE(an_options_set(&ctx, &opts, "seed", &v) == AN_OK);
	v = unit_num(32);
	REQUIRE(an_options_set(&ctx, &opts, "batch_size", &v) == AN_OK);
	v = unit_num(1);
	REQUIRE(an_options_set(&ctx, &opts, "networks", &v) == AN_OK);
	an_options_resolve(&opts, GOLDEN_DIM, GOLDEN_ROWS);

	memset(&model, 0, sizeof(model));
	model.spec.n_features = GOLDEN_DIM;
	model.spec.features = an_alloc_array(&ctx, GOLDEN_DIM, sizeof(AnFeature));
	REQUIRE(model.spec.features != NULL);
	memset(model.spec.features, 0, sizeof(AnFeature) * GOLDEN_DIM);
	for (int j = 0; j < GOLDEN_DIM; j++)
	{
		char		name[8];

		snprintf(name, sizeof(name), "f%d", j);
		model.spec.features[j].name = an_strdup(&ctx, name);
	}
	REQUIRE(an_spec_layout(&ctx, &model.spec) == AN_OK);
	REQUIRE(an_scaler_fit(&ctx, &model.scaler, opts.scaler, raw, GOLDEN_ROWS, GOLDEN_DIM,
						  NULL) == AN_OK);
	memcpy(copy, raw, sizeof(raw));
	x = an_scaler_apply_compact(&model.scaler, copy, GOLDEN_ROWS);
	an_small_sgemm_enable(false);
	REQUIRE(an_model_fit(&ctx, &model, &opts, x, GOLDEN_ROWS) == AN_OK);
	an_small_sgemm_enable(true);
	REQUIRE(an_model_encode(&ctx, &model, &data, &len) == AN_OK);
	CHECK(len == golden_len);
	CHECK(len == golden_len && memcmp(data, doc, len) == 0);
	an_free(&ctx, data);
	an_model_free(&ctx, &model);
	an_options_free(&ctx, &opts);
	CHECK_NO_LEAKS(&counter);
}
