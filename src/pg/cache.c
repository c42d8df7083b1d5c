/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of decoded models.
 *
 * Decoding a model document costs far more than scoring a row, so each
 * backend keeps the deployed version of every model it has used, keyed by
 * name, each in its own child of CacheMemoryContext.  An entry is checked
 * against the catalog row (version, xmin and ctid: a retrain, a deploy or
 * an import all change them) whenever a query first scores with that model
 * (score.c keeps the validated entry in fn_extra for the rest of the
 * query), so a retrain committed in another session is used by this
 * session's next query, with no restart and no invalidation messages.
 *
 * A replaced entry may still be referenced by another expression of the
 * running query, so it is not freed at once: its memory context is handed
 * to the current transaction, and goes with it.  New entries are inserted
 * only once fully decoded, so an error leaves the cache as it was.
 *
 * IDENTIFICATION
 *	  src/pg/cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "utils/catcache.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "anomaly/pg.h"

typedef struct CacheSlot
{
	char		name[NAMEDATALEN];	/* hash key */
	AnomalyCachedModel *model;
} CacheSlot;

static HTAB *model_cache = NULL;
static uint64 cache_generation = 0;

static bool
entry_matches(const AnomalyCachedModel *m, const AnomalyCatalogEntry *row)
{
	return m->version == row->version &&
		TransactionIdEquals(m->xmin, row->xmin) &&
		ItemPointerEquals((ItemPointer) &m->tid, (ItemPointer) &row->tid);
}

static AnomalyCachedModel *
decode_entry(const char *name, const AnomalyCatalogEntry *row)
{
	MemoryContext mcxt;
	AnomalyCachedModel *m;
	AnStatus	st;

	if (row->model == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" has no stored document", name)));

	anomaly_blas_ensure();
	mcxt = AllocSetContextCreate(CacheMemoryContext, "anomaly model",
								 ALLOCSET_SMALL_SIZES);
	m = MemoryContextAllocZero(mcxt, sizeof(AnomalyCachedModel));
	m->mcxt = mcxt;
	strlcpy(m->name, name, sizeof(m->name));
	MemoryContextSetIdentifier(mcxt, m->name);
	m->version = row->version;
	m->xmin = row->xmin;
	m->tid = row->tid;
	anomaly_context_init(&m->ctx, mcxt);

	st = an_model_decode(&m->ctx, VARDATA_ANY(row->model),
						 VARSIZE_ANY_EXHDR(row->model), &m->model);
	if (st != AN_OK)
	{
		char		msg[sizeof(m->ctx.errmsg)];

		strlcpy(msg, m->ctx.errmsg, sizeof(msg));
		MemoryContextDelete(mcxt);
		ereport(ERROR,
				(errcode(st == AN_ERR_NOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_DATA_CORRUPTED),
				 errmsg("could not load model \"%s\" version %d: %s", name, row->version, msg)));
	}
	m->generation = ++cache_generation;
	return m;
}

AnomalyCachedModel *
anomaly_cache_get(const char *name)
{
	AnomalyCatalogEntry row;
	CacheSlot  *slot;
	AnomalyCachedModel *fresh;
	bool		found;
	char		key[NAMEDATALEN];

	anomaly_check_model_name(name);
	if (!anomaly_catalog_lookup(name, false, &row))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Create it with anomaly_create_model(), or list models in anomaly.models.")));

	if (model_cache == NULL)
	{
		HASHCTL		ctl;

		if (CacheMemoryContext == NULL)
			CreateCacheMemoryContext();
		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(CacheSlot);
		ctl.hcxt = CacheMemoryContext;
		model_cache = hash_create("anomaly model cache", 16, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}

	memset(key, 0, sizeof(key));
	strlcpy(key, name, sizeof(key));
	slot = hash_search(model_cache, key, HASH_FIND, NULL);
	if (slot && slot->model && entry_matches(slot->model, &row))
		return slot->model;

	/* stale or absent: fetch the document and decode it before touching the cache */
	if (!anomaly_catalog_lookup(name, true, &row))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name)));
	fresh = decode_entry(name, &row);
	pfree(row.model);

	slot = hash_search(model_cache, key, HASH_ENTER, &found);
	if (found && slot->model)
		MemoryContextSetParent(slot->model->mcxt, TopTransactionContext);
	slot->model = fresh;
	return fresh;
}
