/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The table of detection methods.  Adding a method is one line here.
 *
 * IDENTIFICATION
 *	  src/core/registry.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "anomaly/method.h"

static const AnMethod *const methods[] = {
	&an_method_autoencoder,
	&an_method_deep_svdd,
	&an_method_vae,
	&an_method_ocnn,
	NULL
};

const AnMethod *
an_method_lookup(const char *name)
{
	for (int i = 0; methods[i]; i++)
		if (strcmp(methods[i]->name, name) == 0)
			return methods[i];
	return NULL;
}

const char *
an_method_names(void)
{
	static char names[256];

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
