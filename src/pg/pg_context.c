/*-------------------------------------------------------------------------
 *
 * pg_context.c
 *	  The numeric core's calling context, implemented with PostgreSQL
 *	  facilities.
 *
 * Memory comes from palloc in a memory context chosen by the caller
 * (usually a child of the function's context), so an error or a cancel
 * anywhere in the core frees everything with that context.  The interrupt
 * check is CHECK_FOR_INTERRUPTS, which longjmps out of the core on cancel
 * or statement_timeout; that is safe because the core holds no resources
 * other than memory from this context.  Progress reports are NOTICEs per
 * epoch, or nothing, as anomaly.progress says.
 *
 * IDENTIFICATION
 *	  src/pg/pg_context.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/memutils.h"

#include "anomaly/blas.h"
#include "anomaly/pg.h"

static void *
pg_alloc(void *arg, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) arg, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
pg_free(void *arg, void *ptr)
{
	pfree(ptr);
}

static bool
pg_interrupted(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	return false;
}

static double
pg_clock(void *arg)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	return INSTR_TIME_GET_DOUBLE(now);
}

static void
pg_progress(void *arg, const AnEpochReport *r)
{
	double		eta = r->epoch > 0
		? r->seconds / r->epoch * (r->epochs - r->epoch) : 0.0;

	const char *phase = strcmp(r->phase, "train") == 0 ? "" : r->phase;
	const char *sep = phase[0] ? " " : "";

	/* anomaly.progress = log or off: no line per epoch */
	if (!anomaly_progress_notice())
		return;

	if (isnan(r->val_loss))
		ereport(NOTICE,
				(errmsg("%s%sepoch %d/%d: loss %.6g, %.0f rows/s, at most %.1f s left",
						phase, sep, r->epoch, r->epochs, r->train_loss,
						r->rows_per_second, eta)));
	else
		ereport(NOTICE,
				(errmsg("%s%sepoch %d/%d: loss %.6g, validation loss %.6g%s, %.0f rows/s, at most %.1f s left",
						phase, sep, r->epoch, r->epochs, r->train_loss, r->val_loss,
						r->improved ? " (best)" : "", r->rows_per_second, eta)));
}

/* what the context and its children hold, freed chunks included */
static size_t
pg_mem_used(void *arg)
{
	return MemoryContextMemAllocated((MemoryContext) arg, true);
}

void
anomaly_context_set_budget(AnContext *ctx, size_t bytes)
{
	ctx->mem_used = pg_mem_used;
	ctx->mem_limit = bytes;
}

void
anomaly_context_init(AnContext *ctx, MemoryContext mcxt)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->alloc = pg_alloc;
	ctx->free = pg_free;
	ctx->interrupted = pg_interrupted;
	ctx->progress = pg_progress;
	ctx->clock = pg_clock;
	ctx->arg = mcxt;
}

void
anomaly_core_error(AnContext *ctx, AnStatus status)
{
	int			code;

	/* the training's memory budget, not the machine, ran out */
	if (ctx->mem_exceeded && (status == AN_ERR_NOMEM || status == AN_ERR_INVALID))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("training needs more memory than maintenance_work_mem (%zu kB)",
						ctx->mem_limit / 1024),
				 ctx->mem_options ?
				 errhint("Lower the %s option, or raise maintenance_work_mem.", ctx->mem_options) :
				 errhint("Lower the \"max_rows\" option, or raise maintenance_work_mem.")));

	switch (status)
	{
		case AN_ERR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case AN_ERR_CORRUPT:
			code = ERRCODE_DATA_CORRUPTED;
			break;
		case AN_ERR_NUMERIC:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s", ctx->errmsg),
					 errhint("Lower \"learning_rate\", or check the source for extreme values.")));
			break;
		case AN_ERR_BLAS:
			code = ERRCODE_CONFIG_FILE_ERROR;
			break;
		case AN_ERR_INTERRUPTED:
			code = ERRCODE_QUERY_CANCELED;
			break;
		default:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	ereport(ERROR, (errcode(code), errmsg("%s", ctx->errmsg)));
	pg_unreachable();
}

void
anomaly_blas_ensure(void)
{
	AnContext	ctx;
	AnStatus	st;

	if (an_blas)
		return;
	if (IsPostmasterEnvironment && !IsUnderPostmaster)
		elog(ERROR, "anomaly: BLAS must not be loaded in the postmaster");
	anomaly_context_init(&ctx, CurrentMemoryContext);
	st = an_blas_load(&ctx);
	if (st != AN_OK)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("%s", ctx.errmsg),
				 errhint("Install OpenBLAS (Debian: libopenblas0).")));
}
