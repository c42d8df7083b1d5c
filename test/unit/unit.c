/*-------------------------------------------------------------------------
 *
 * unit.c
 *	  The unit-test runner: the registry of tests and main().
 *
 * Usage: test_core [substring...]  runs every test, or only those whose
 * name contains one of the substrings.  The last line of the output is
 * always "N passed, M failed"; the exit status is 1 if a test failed.
 *
 * IDENTIFICATION
 *	  test/unit/unit.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "anomaly/blas.h"
#include "unit.h"

/* failure messages printed per test; the rest are only counted */
#define MAX_MESSAGES 10
#define MAX_TESTS 512

typedef struct UnitEntry
{
	const char *name;
	UnitTestFn	fn;
} UnitEntry;

static UnitEntry tests[MAX_TESTS];
static int	n_tests;
static bool registry_overflow;

static int	current_failures;

void
unit_register(const char *name, UnitTestFn fn)
{
	if (n_tests >= MAX_TESTS)
	{
		registry_overflow = true;
		return;
	}
	tests[n_tests].name = name;
	tests[n_tests].fn = fn;
	n_tests++;
}

void
unit_fail(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	current_failures++;
	if (current_failures > MAX_MESSAGES)
		return;
	printf("#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (current_failures == MAX_MESSAGES)
		printf("#   (further failures of this test are not shown)\n");
}

int
unit_current_failures(void)
{
	return current_failures;
}

static bool
selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	AnContext	ctx;
	int			passed = 0;
	int			failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	unit_context_malloc(&ctx);
	if (an_blas_load(&ctx) != AN_OK)
	{
		printf("Bail out! %s\n", ctx.errmsg);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("# BLAS: %s\n", an_blas->library);
	if (registry_overflow)
	{
		printf("not ok - registry (more than %d tests)\n", MAX_TESTS);
		failed++;
	}

	for (int i = 0; i < n_tests; i++)
	{
		if (!selected(tests[i].name, argc, argv))
			continue;
		current_failures = 0;
		tests[i].fn();
		if (current_failures == 0)
		{
			printf("ok - %s\n", tests[i].name);
			passed++;
		}
		else
		{
			printf("#   %d failed checks\n", current_failures);
			printf("not ok - %s\n", tests[i].name);
			failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed > 0 ? 1 : 0;
}

/*
 * Compare analytic and numerical gradients entry by entry (atol scaled by
 * the largest gradient) and as a whole (relative error of the vectors).
 */
void
unit_grad_compare(UnitGradStats *s, double analytic, double numeric, double rtol, double atol)
{
	double		d = analytic - numeric;

	s->diff2 += d * d;
	s->sum2 += analytic * analytic + numeric * numeric;
	s->max_abs = fmax(s->max_abs, fabs(numeric));
	s->compared++;
	if (!unit_close(analytic, numeric, rtol, atol))
	{
		if (s->bad < 3)
			unit_fail(__FILE__, __LINE__, "gradient entry %d: analytic %.8g, numeric %.8g",
					  s->compared - 1, analytic, numeric);
		s->bad++;
	}
}

void
unit_grad_report(const char *what, const UnitGradStats *s, double max_rel)
{
	double		rel = s->sum2 > 0 ? sqrt(s->diff2 / s->sum2) : 0.0;

	if (s->bad > 0)
		unit_fail(__FILE__, __LINE__, "%s: %d of %d gradient entries differ",
				  what, s->bad, s->compared);
	if (!(rel <= max_rel))
		unit_fail(__FILE__, __LINE__, "%s: relative gradient error %.3g > %.3g",
				  what, rel, max_rel);
	/* a check of all-zero gradients would prove nothing */
	if (!(s->max_abs > 1e-2))
		unit_fail(__FILE__, __LINE__, "%s: gradients are all near zero", what);
	if (s->skipped > s->compared / 10)
		unit_fail(__FILE__, __LINE__, "%s: %d entries skipped, %d compared",
				  what, s->skipped, s->compared);
}
