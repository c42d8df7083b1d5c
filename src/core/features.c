/*-------------------------------------------------------------------------
 *
 * features.c
 *	  Layout and naming of the encoded feature vector.
 *
 * IDENTIFICATION
 *	  src/core/features.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "anomaly/features.h"

/* no model needs more inputs than this; it bounds corrupt documents too */
#define AN_MAX_DIM (1 << 20)

static const char *const kind_names[] = {
	[AN_FEATURE_NUMERIC] = "numeric",
	[AN_FEATURE_BOOLEAN] = "boolean",
	[AN_FEATURE_CATEGORICAL] = "categorical",
};

const char *
an_feature_kind_name(AnFeatureKind kind)
{
	return an_name_of(kind_names, AN_LENGTHOF(kind_names), (int) kind);
}

bool
an_feature_kind_parse(const char *name, AnFeatureKind *kind)
{
	int			i = an_name_index(kind_names, AN_LENGTHOF(kind_names), name);

	if (i < 0)
		return false;
	*kind = (AnFeatureKind) i;
	return true;
}

AnStatus
an_spec_layout(AnContext *ctx, AnFeatureSpec *spec)
{
	int64_t		dim = 0;

	for (int i = 0; i < spec->n_features; i++)
	{
		AnFeature  *f = &spec->features[i];

		f->width = f->kind == AN_FEATURE_CATEGORICAL ? f->n_categories + 1 : 1;
		f->offset = (int) dim;
		dim += f->width;
		if (dim > AN_MAX_DIM)
			return an_error(ctx, AN_ERR_INVALID,
							"too many encoded features (more than %d)", AN_MAX_DIM);
	}
	if (dim == 0)
		return an_error(ctx, AN_ERR_INVALID, "a model needs at least one feature");
	spec->dim = (int) dim;
	return AN_OK;
}

void
an_spec_free(AnContext *ctx, AnFeatureSpec *spec)
{
	if (spec->features)
	{
		for (int i = 0; i < spec->n_features; i++)
		{
			AnFeature  *f = &spec->features[i];

			an_free(ctx, f->name);
			if (f->categories)
				for (int c = 0; c < f->n_categories; c++)
					an_free(ctx, f->categories[c]);
			an_free(ctx, f->categories);
		}
		an_free(ctx, spec->features);
	}
	spec->features = NULL;
	spec->n_features = 0;
	spec->dim = 0;
}

int
an_feature_category_slot(const AnFeature *f, const char *value)
{
	for (int c = 0; c < f->n_categories; c++)
		if (strcmp(f->categories[c], value) == 0)
			return c;
	return f->n_categories;
}

char *
an_spec_dim_name(AnContext *ctx, const AnFeatureSpec *spec, int j)
{
	for (int i = 0; i < spec->n_features; i++)
	{
		const AnFeature *f = &spec->features[i];
		const char *category;
		size_t		len;
		char	   *name;

		if (j < f->offset || j >= f->offset + f->width)
			continue;
		if (f->kind != AN_FEATURE_CATEGORICAL)
			return an_strdup(ctx, f->name);
		category = j - f->offset < f->n_categories
			? f->categories[j - f->offset] : "(other)";
		len = strlen(f->name) + strlen(category) + 2;
		name = an_alloc(ctx, len);
		if (name)
			snprintf(name, len, "%s=%s", f->name, category);
		return name;
	}
	return NULL;
}
