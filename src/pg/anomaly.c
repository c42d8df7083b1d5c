/*-------------------------------------------------------------------------
 *
 * anomaly.c
 *	  Module entry point and GUC variables.
 *
 * _PG_init only defines GUCs: OpenBLAS is loaded lazily on first use in a
 * backend (see blas.h), never here, because under shared_preload_libraries
 * this runs in the postmaster.
 *
 * IDENTIFICATION
 *	  src/pg/anomaly.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "anomaly/pg.h"

PG_MODULE_MAGIC;

/*---- GUC variables ----*/

int			anomaly_training_threads = 1;
int			anomaly_keep_versions = 0;
int			anomaly_progress = ANOMALY_PROGRESS_NOTICE;

static const struct config_enum_entry progress_options[] = {
	{"notice", ANOMALY_PROGRESS_NOTICE, false},
	{"log", ANOMALY_PROGRESS_LOG, false},
	{"off", ANOMALY_PROGRESS_OFF, false},
	{NULL, 0, false}
};
int			anomaly_max_training_threads = 4;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("anomaly.training_threads",
							"Number of BLAS threads used while training a model.",
							"Scoring always uses one thread per backend: its "
							"parallelism comes from parallel query.",
							&anomaly_training_threads,
							1, 1, 64,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("anomaly.keep_versions",
							"Number of versions of a model kept when a new one is stored.",
							"Older versions that are not deployed are deleted; 0 keeps "
							"every version.",
							&anomaly_keep_versions,
							0, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("anomaly.progress",
							 "How training reports its progress.",
							 "notice: a NOTICE per epoch; log: one LOG line per "
							 "training when it ends (for scheduled jobs); off: nothing.",
							 &anomaly_progress,
							 ANOMALY_PROGRESS_NOTICE, progress_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	/*
	 * A training's BLAS threads compete with every other backend for the
	 * machine's cores: the administrator bounds what a user may ask for.
	 */
	DefineCustomIntVariable("anomaly.max_training_threads",
							"Most BLAS threads a training may use, whatever anomaly.training_threads asks.",
							NULL,
							&anomaly_max_training_threads,
							4, 1, 64,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("anomaly");
}
