/*-------------------------------------------------------------------------
 *
 * context.c
 *	  Memory, error and callback helpers over an AnContext.
 *
 * IDENTIFICATION
 *	  src/core/context.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anomaly/core.h"

void *
an_alloc(AnContext *ctx, size_t size)
{
	if (ctx->mem_limit > 0 && ctx->mem_used)
	{
		size_t		used = ctx->mem_used(ctx->arg);

		if (used > ctx->mem_limit || size > ctx->mem_limit - used)
		{
			ctx->mem_exceeded = true;
			return NULL;
		}
	}
	return ctx->alloc(ctx->arg, size == 0 ? 1 : size);
}

void *
an_alloc0(AnContext *ctx, size_t size)
{
	void	   *p = an_alloc(ctx, size);

	if (p)
		memset(p, 0, size);
	return p;
}

/* n * elsize, zeroed, or NULL when the product overflows */
void *
an_alloc_array(AnContext *ctx, size_t n, size_t elsize)
{
	if (elsize != 0 && n > SIZE_MAX / elsize)
		return NULL;
	return an_alloc0(ctx, n * elsize);
}

void
an_free(AnContext *ctx, void *ptr)
{
	if (ptr)
		ctx->free(ctx->arg, ptr);
}

char *
an_strdup(AnContext *ctx, const char *s)
{
	size_t		len = strlen(s);
	char	   *copy = an_alloc(ctx, len + 1);

	if (copy)
		memcpy(copy, s, len + 1);
	return copy;
}

AnStatus
an_error(AnContext *ctx, AnStatus status, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	return status;
}

AnStatus
an_nomem(AnContext *ctx)
{
	return an_error(ctx, AN_ERR_NOMEM, "out of memory");
}

bool
an_check_interrupts(AnContext *ctx)
{
	return ctx->interrupted ? ctx->interrupted(ctx->arg) : false;
}

double
an_now(AnContext *ctx)
{
	struct timespec ts;

	if (ctx->clock)
		return ctx->clock(ctx->arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

const char *
an_name_of(const char *const *names, int n, int value)
{
	return value >= 0 && value < n && names[value] ? names[value] : "unknown";
}

int
an_name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static void *
malloc_alloc(void *arg, size_t size)
{
	(void) arg;
	return malloc(size);
}

static void
malloc_free(void *arg, void *ptr)
{
	(void) arg;
	free(ptr);
}

void
an_context_init_malloc(AnContext *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->alloc = malloc_alloc;
	ctx->free = malloc_free;
}
