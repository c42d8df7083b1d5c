/*-------------------------------------------------------------------------
 *
 * blas.c
 *	  Run-time binding of OpenBLAS, with its threads born signal-blocked.
 *
 * See blas.h for why the library is dlopen()ed rather than linked.  The
 * binding is process-wide state: it is set once, by whichever caller first
 * needs BLAS, and never changes afterwards.
 *
 * IDENTIFICATION
 *	  src/core/blas.c
 *
 *-------------------------------------------------------------------------
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "anomaly/blas.h"

const AnBlas *an_blas = NULL;

static AnBlas binding;

/*
 * OpenBLAS under its Debian alternatives name first; the reference BLAS
 * (libblas3 also exports cblas_sgemm) is a slow but correct fallback.
 * ANOMALY_BLAS_LIBRARY overrides the search for tests and odd installs.
 */
static const char *const candidates[] = {
	"libopenblas.so.0",
	"libopenblas.so",
	"libblas.so.3",
	NULL
};

static void
block_all_signals(sigset_t *saved)
{
	sigset_t	all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, saved);
}

static void
restore_signals(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

AnStatus
an_blas_load(AnContext *ctx)
{
	const char *override = getenv("ANOMALY_BLAS_LIBRARY");
	const char *const *names = candidates;
	const char *single[2] = {override, NULL};
	sigset_t	saved;
	void	   *handle = NULL;
	const char *loaded = NULL;

	if (an_blas)
		return AN_OK;
	if (override && override[0])
		names = single;

	/*
	 * OpenBLAS reads OPENBLAS_NUM_THREADS in its constructor; start with a
	 * single thread (more are added on demand by an_blas_set_threads).
	 */
	setenv("OPENBLAS_NUM_THREADS", "1", 0);

	block_all_signals(&saved);
	for (int i = 0; names[i] && !handle; i++)
	{
		handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		loaded = names[i];
	}
	restore_signals(&saved);

	if (!handle)
		return an_error(ctx, AN_ERR_BLAS,
						"could not load a BLAS library (tried %s)",
						override && override[0] ? override
						: "libopenblas.so.0, libopenblas.so, libblas.so.3");

	binding.sgemm = (AnSgemmFn) dlsym(handle, "cblas_sgemm");
	binding.set_num_threads = (void (*) (int)) dlsym(handle, "openblas_set_num_threads");
	binding.get_num_threads = (int (*) (void)) dlsym(handle, "openblas_get_num_threads");
	binding.library = loaded;
	if (!binding.sgemm)
	{
		dlclose(handle);
		return an_error(ctx, AN_ERR_BLAS, "BLAS library \"%s\" has no cblas_sgemm",
						loaded);
	}
	an_blas = &binding;
	an_blas_set_threads(1);
	return AN_OK;
}

/*
 * Resize OpenBLAS's pool.  Growing it creates threads from this one, so
 * signals are blocked around the call for them to inherit.
 */
void
an_blas_set_threads(int n)
{
	sigset_t	saved;

	if (!an_blas || !an_blas->set_num_threads || n < 1)
		return;
	if (an_blas->get_num_threads && an_blas->get_num_threads() == n)
		return;
	block_all_signals(&saved);
	an_blas->set_num_threads(n);
	restore_signals(&saved);
}
