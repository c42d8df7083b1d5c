/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The table of detection methods.  Adding a method is one line in
 *	  AN_METHODS: the line both declares the method's AnMethod (defined in
 *	  its own file as an_method_<name>) and lists it.
 *
 * The order is the order of an_method_names() in hints and of the shared
 * unit tests.
 *
 * IDENTIFICATION
 *	  src/core/registry.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "anomaly/method.h"

#define AN_METHODS \
	METHOD(auto) \
	METHOD(autoencoder) \
	METHOD(deep_svdd) \
	METHOD(vae) \
	METHOD(egbad) \
	METHOD(ocnn) \
	METHOD(iforest) \
	METHOD(ecod) \
	METHOD(knn) \
	METHOD(pca)

#define METHOD(name) extern const AnMethod an_method_##name;
AN_METHODS
#undef METHOD

#define METHOD(name) &an_method_##name,
static const AnMethod *const methods[] = {
	AN_METHODS
	NULL
};
#undef METHOD

const AnMethod *
an_method_lookup(const char *name)
{
	for (int i = 0; methods[i]; i++)
		if (strcmp(methods[i]->name, name) == 0)
			return methods[i];
	return NULL;
}

const AnMethod *
an_method_at(int i)
{
	if (i < 0 || i >= (int) (sizeof(methods) / sizeof(methods[0])) - 1)
		return NULL;
	return methods[i];
}

const char *
an_method_names(void)
{
	static char names[512];

	if (names[0] == '\0')
	{
		for (int i = 0; methods[i]; i++)
		{
			if (i > 0)
				strncat(names, ", ", sizeof(names) - strlen(names) - 1);
			strncat(names, methods[i]->name, sizeof(names) - strlen(names) - 1);
		}
	}
	return names;
}

const char *
an_method_sizing_options(const AnMethod *method)
{
	if (method->sizing_options)
		return method->sizing_options;
	/* a method that fits at once and names nothing: only the sample's size */
	if (method->fit && !method->network_options)
		return "\"max_rows\"";
	return "\"batch_size\", \"hidden\" or \"max_rows\"";
}
