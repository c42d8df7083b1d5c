/*-------------------------------------------------------------------------
 *
 * core.h
 *	  The calling context of the numeric core: allocator, interrupt check,
 *	  progress callback and error reporting.
 *
 * The core (src/core) never includes postgres.h.  Everything it needs from
 * its host arrives through an AnContext: the PostgreSQL layer plugs in
 * palloc in a dedicated memory context and CHECK_FOR_INTERRUPTS, the unit
 * tests plug in malloc.  Functions that can fail return an AnStatus and
 * leave a lower-case message without a full stop in ctx->errmsg, which the
 * host turns into its own error report.
 *
 * IDENTIFICATION
 *	  include/anomaly/core.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_CORE_H
#define ANOMALY_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum AnStatus
{
	AN_OK = 0,
	AN_ERR_INVALID,				/* bad option or bad input: the caller's fault */
	AN_ERR_NOMEM,				/* the allocator returned NULL */
	AN_ERR_CORRUPT,				/* undecodable or inconsistent model bytes */
	AN_ERR_NUMERIC,				/* training diverged: NaN or Inf in the weights */
	AN_ERR_BLAS,				/* no usable BLAS library */
	AN_ERR_INTERRUPTED,			/* the interrupt callback asked to stop */
	AN_ERR_NOT_FOUND			/* lookup miss (unknown option, method ...) */
} AnStatus;

/* What the trainer reports after every epoch. */
typedef struct AnEpochReport
{
	int			epoch;			/* 1-based */
	int			epochs;			/* planned maximum */
	const char *phase;			/* "train", or a method's own phase name */
	double		train_loss;
	double		val_loss;		/* NaN without a validation split */
	double		rows_per_second;
	double		seconds;		/* since training started */
	bool		improved;		/* validation loss is the best so far */
} AnEpochReport;

typedef struct AnContext
{
	/* memory: alloc returns NULL on failure; memory need not be zeroed */
	void	   *(*alloc) (void *arg, size_t size);
	void		(*free) (void *arg, void *ptr);

	/*
	 * Called between mini-batches, and between blocks of a few milliseconds
	 * of work inside a training network's forward and backward passes.  It
	 * may not return (PostgreSQL's CHECK_FOR_INTERRUPTS longjmps), or
	 * return true to abort the work (honoured at the next mini-batch or
	 * scoring block).
	 */
	bool		(*interrupted) (void *arg);

	/* optional: called once per epoch */
	void		(*progress) (void *arg, const AnEpochReport *report);

	/* optional: monotonic clock in seconds, for rows/s in the reports */
	double		(*clock) (void *arg);

	/*
	 * Optional memory budget: when mem_limit > 0 and mem_used is set, an
	 * allocation that would take mem_used() (the bytes the host counts as
	 * used, which may include memory it allocated itself) beyond mem_limit
	 * is refused before it is made: an_alloc returns NULL and sets
	 * mem_exceeded, so that the failure can be reported as the budget's.
	 */
	size_t		(*mem_used) (void *arg);
	size_t		mem_limit;
	bool		mem_exceeded;
	/* with mem_exceeded, set by training: the options to lower, for hints */
	const char *mem_options;

	void	   *arg;
	char		errmsg[512];
} AnContext;

/* memory helpers (context.c); an_alloc0 zeroes */
extern void *an_alloc(AnContext *ctx, size_t size);
extern void *an_alloc0(AnContext *ctx, size_t size);
extern void *an_alloc_array(AnContext *ctx, size_t n, size_t elsize);
extern void an_free(AnContext *ctx, void *ptr);
extern char *an_strdup(AnContext *ctx, const char *s);

/* error helpers: set ctx->errmsg and return the status */
extern AnStatus an_error(AnContext *ctx, AnStatus status, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern AnStatus an_nomem(AnContext *ctx);

extern bool an_check_interrupts(AnContext *ctx);
extern double an_now(AnContext *ctx);

/*
 * Enumerations stored by name (activations, scalers, feature kinds):
 * the name of value in a table of n names ("unknown" if out of range), and
 * the index of name in it (-1 if absent).
 */
extern const char *an_name_of(const char *const *names, int n, int value);
extern int	an_name_index(const char *const *names, int n, const char *name);

/* a plain malloc-based context, for tools and unit tests */
extern void an_context_init_malloc(AnContext *ctx);

#define AN_LENGTHOF(a) ((int) (sizeof(a) / sizeof((a)[0])))

#define AN_TRY(expr) \
	do { AnStatus an_try_status_ = (expr); \
		 if (an_try_status_ != AN_OK) return an_try_status_; } while (0)

#endif							/* ANOMALY_CORE_H */
