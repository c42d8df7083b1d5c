/*-------------------------------------------------------------------------
 *
 * unit_context.c
 *	  AnContexts for the tests: plain malloc, and a counting allocator.
 *
 * The counting allocator puts a header before every block, so that it
 * knows each block's size on free and can tell a pointer it handed out
 * from any other.  It counts outstanding blocks and bytes (a test frees
 * everything and checks both are zero) and can refuse one chosen
 * allocation, to drive every out-of-memory path of the code under test.
 *
 * IDENTIFICATION
 *	  test/unit/unit_context.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>

#include "unit.h"

#define LIVE_MAGIC	UINT64_C(0xA110CA7EDB10C4ED)
#define DEAD_MAGIC	UINT64_C(0xDEADBEEFFEE1DEAD)

typedef union BlockHeader
{
	struct
	{
		uint64_t	magic;
		size_t		size;
	}			h;
	max_align_t align;			/* keep the user block aligned */
} BlockHeader;

void
unit_context_malloc(AnContext *ctx)
{
	an_context_init_malloc(ctx);
}

static void *
counting_alloc(void *arg, size_t size)
{
	UnitAlloc  *counter = arg;
	BlockHeader *block;

	counter->n_allocs++;
	if (counter->fail_at > 0 && counter->n_allocs == counter->fail_at)
	{
		counter->n_failed++;
		return NULL;
	}
	if (size > SIZE_MAX - sizeof(BlockHeader))
		return NULL;
	block = malloc(sizeof(BlockHeader) + size);
	if (!block)
		return NULL;
	block->h.magic = LIVE_MAGIC;
	block->h.size = size;
	counter->outstanding++;
	counter->bytes += size;
	if (counter->bytes > counter->peak_bytes)
		counter->peak_bytes = counter->bytes;
	return block + 1;
}

static void
counting_free(void *arg, void *ptr)
{
	UnitAlloc  *counter = arg;
	BlockHeader *block = (BlockHeader *) ptr - 1;

	if (block->h.magic != LIVE_MAGIC)
	{
		counter->bad_frees++;
		return;
	}
	block->h.magic = DEAD_MAGIC;
	counter->outstanding--;
	counter->bytes -= block->h.size;
	free(block);
}

void
unit_context_counting(AnContext *ctx, UnitAlloc *counter)
{
	an_context_init_malloc(ctx);
	ctx->alloc = counting_alloc;
	ctx->free = counting_free;
	ctx->arg = counter;
}
