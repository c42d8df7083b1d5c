/*-------------------------------------------------------------------------
 *
 * unit.h
 *	  A minimal unit-test harness for the numeric core, and the test
 *	  contexts (plain malloc, and a counting allocator that finds leaks and
 *	  can fail a chosen allocation).
 *
 * A test is a void function declared with UNIT_TEST(name); it registers
 * itself before main() runs.  CHECK-style macros record a failure with its
 * file and line and let the test go on; REQUIRE returns from the test.
 * main() (unit.c) runs every test, prints "ok - name" or "not ok - name"
 * for each, then "N passed, M failed", and exits non-zero on a failure.
 *
 * IDENTIFICATION
 *	  test/unit/unit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ANOMALY_UNIT_H
#define ANOMALY_UNIT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "anomaly/core.h"
#include "anomaly/options.h"

typedef void (*UnitTestFn) (void);

extern void unit_register(const char *name, UnitTestFn fn);
extern void unit_fail(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
/* failures recorded so far by the running test */
extern int	unit_current_failures(void);

#define UNIT_TEST(name) \
	static void name(void); \
	static void __attribute__((constructor)) name##_register_(void) \
	{ unit_register(#name, name); } \
	static void name(void)

#define CHECK(cond) \
	do { if (!(cond)) unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); } while (0)

/* like CHECK, but leaves the test at once */
#define REQUIRE(cond) \
	do { if (!(cond)) { unit_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond); \
						return; } } while (0)

/* |a - b| <= tol; NaN never passes */
#define CHECK_NEAR(a, b, tol) \
	do { double unit_a_ = (a), unit_b_ = (b), unit_t_ = (tol); \
		 if (!(fabs(unit_a_ - unit_b_) <= unit_t_)) \
			 unit_fail(__FILE__, __LINE__, "CHECK_NEAR(%s, %s, %s): %.10g vs %.10g", \
					   #a, #b, #tol, unit_a_, unit_b_); } while (0)

/* |a - b| <= atol + rtol * max(|a|, |b|) */
#define CHECK_CLOSE(a, b, rtol, atol) \
	do { double unit_a_ = (a), unit_b_ = (b); \
		 if (!unit_close(unit_a_, unit_b_, (rtol), (atol))) \
			 unit_fail(__FILE__, __LINE__, "CHECK_CLOSE(%s, %s): %.10g vs %.10g", \
					   #a, #b, unit_a_, unit_b_); } while (0)

#define CHECK_STATUS(expr, expected) \
	do { AnStatus unit_s_ = (expr); \
		 if (unit_s_ != (expected)) \
			 unit_fail(__FILE__, __LINE__, "%s returned %d, expected %s (%d)", \
					   #expr, (int) unit_s_, #expected, (int) (expected)); } while (0)

#define CHECK_STR(a, b) \
	do { const char *unit_a_ = (a), *unit_b_ = (b); \
		 if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) \
			 unit_fail(__FILE__, __LINE__, "CHECK_STR(%s, %s): \"%s\" vs \"%s\"", \
					   #a, #b, unit_a_ ? unit_a_ : "(null)", \
					   unit_b_ ? unit_b_ : "(null)"); } while (0)

#define CHECK_CONTAINS(haystack, needle) \
	do { const char *unit_h_ = (haystack), *unit_n_ = (needle); \
		 if (!unit_h_ || !strstr(unit_h_, unit_n_)) \
			 unit_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
					   unit_h_ ? unit_h_ : "(null)", unit_n_); } while (0)

static inline bool
unit_close(double a, double b, double rtol, double atol)
{
	double		big = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	return fabs(a - b) <= atol + rtol * big;
}

/* ---- test contexts (unit_context.c) ---- */

/* What the counting allocator has seen; zero it before use. */
typedef struct UnitAlloc
{
	long		outstanding;	/* allocations not yet freed */
	size_t		bytes;			/* bytes not yet freed */
	size_t		peak_bytes;		/* the most bytes outstanding at once */
	long		n_allocs;		/* allocations attempted so far */
	long		fail_at;		/* make allocation number fail_at fail (0: none) */
	long		n_failed;		/* allocations refused */
	long		bad_frees;		/* frees of pointers it never returned */
} UnitAlloc;

extern void unit_context_malloc(AnContext *ctx);
extern void unit_context_counting(AnContext *ctx, UnitAlloc *counter);

/* report a leak or a bad free of a counting context */
#define CHECK_NO_LEAKS(counter) \
	do { const UnitAlloc *unit_c_ = (counter); \
		 if (unit_c_->outstanding != 0 || unit_c_->bytes != 0 || unit_c_->bad_frees != 0) \
			 unit_fail(__FILE__, __LINE__, \
					   "%ld allocations (%zu bytes) leaked, %ld bad frees", \
					   unit_c_->outstanding, unit_c_->bytes, unit_c_->bad_frees); } while (0)

/*
 * Gradient checks: compare analytic and numerical gradients entry by entry
 * (a few failures reported) and as a whole (relative error of the vectors,
 * gradients not all near zero, few entries skipped at kinks).
 */
typedef struct UnitGradStats
{
	double		diff2;
	double		sum2;
	double		max_abs;
	int			compared;
	int			skipped;
	int			bad;
} UnitGradStats;

extern void unit_grad_compare(UnitGradStats *s, double analytic, double numeric,
							  double rtol, double atol);
extern void unit_grad_report(const char *what, const UnitGradStats *s, double max_rel);

/* option values, as a host would pass them to an_options_set */
static inline AnOptionValue
unit_num(double x)
{
	AnOptionValue v = {.kind = AN_OPTION_NUMBER, .number = x};

	return v;
}

static inline AnOptionValue
unit_str(const char *s)
{
	AnOptionValue v = {.kind = AN_OPTION_STRING, .string = s};

	return v;
}

static inline AnOptionValue
unit_bool(bool b)
{
	AnOptionValue v = {.kind = AN_OPTION_BOOL, .boolean = b};

	return v;
}

/* an_options_set with a value of each kind */
static inline AnStatus
unit_set_num(AnContext *ctx, AnOptions *opts, const char *key, double x)
{
	AnOptionValue v = unit_num(x);

	return an_options_set(ctx, opts, key, &v);
}

static inline AnStatus
unit_set_str(AnContext *ctx, AnOptions *opts, const char *key, const char *s)
{
	AnOptionValue v = unit_str(s);

	return an_options_set(ctx, opts, key, &v);
}

static inline AnStatus
unit_set_bool(AnContext *ctx, AnOptions *opts, const char *key, bool b)
{
	AnOptionValue v = unit_bool(b);

	return an_options_set(ctx, opts, key, &v);
}

/* a bad option value: AN_ERR_INVALID and a message naming the option in quotes */
#define CHECK_REJECTED(ctx, opts, key, value) \
	do { char unit_quoted_[80]; \
		 AnOptionValue unit_v_ = (value); \
		 snprintf(unit_quoted_, sizeof(unit_quoted_), "\"%s\"", (key)); \
		 (ctx)->errmsg[0] = '\0'; \
		 CHECK_STATUS(an_options_set((ctx), (opts), (key), &unit_v_), AN_ERR_INVALID); \
		 CHECK_CONTAINS((ctx)->errmsg, unit_quoted_); } while (0)

#define CHECK_ACCEPTED(ctx, opts, key, value) \
	do { AnOptionValue unit_v_ = (value); \
		 CHECK_STATUS(an_options_set((ctx), (opts), (key), &unit_v_), AN_OK); } while (0)

#endif							/* ANOMALY_UNIT_H */
