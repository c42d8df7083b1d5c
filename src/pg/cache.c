/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of decoded models.
 *
 * Decoding a model document costs far more than scoring a row, so each
 * backend keeps every model version it has used, keyed by the reference
 * ("m" for the deployed version, "m@3" for version 3), each in its own
 * child of CacheMemoryContext.  An entry is checked against the catalog
 * row (version, xmin and ctid: a retrain, a deploy, a threshold change or
 * an import all change them) whenever a query first scores with that model
 * (score.c keeps the validated entry in fn_extra for the rest of the
 * query), so a retrain committed in another session is used by this
 * session's next query, with no restart and no invalidation messages.
 *
 * A replaced entry may still be referenced by another expression of the
 * running query, so it is not freed at once: its memory context is handed
 * to the current transaction, and goes with it.  So is the entry of a model
 * the catalog no longer has, when a lookup of it misses.  New entries are inserted
 * only once fully decoded, so an error leaves the cache as it was.
 *
 * The threshold is the catalog row's, never the document's: that column is
 * the one place anomaly_set_threshold writes.  A new threshold changes the
 * row, so the entry is rebuilt, decoding the document once more; threshold
 * changes are rare enough for that to be cheaper than tracking them apart.
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
	char		ref[ANOMALY_REF_MAXLEN];	/* hash key: "m" or "m@3" */
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
decode_entry(const char *ref, const char *name, const AnomalyCatalogEntry *row)
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
	strlcpy(m->name, ref, sizeof(m->name));
	MemoryContextSetIdentifier(mcxt, m->name);
	m->version = row->version;
	m->xmin = row->xmin;
	m->tid = row->tid;
	m->threshold = row->threshold;
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

/*
 * The catalog no longer has what name refers to: forget its entry, so that
 * a dropped model's decoded weights do not stay in every backend that ever
 * scored it.  Its memory goes with the transaction, as a replaced entry's,
 * since an expression of the running query may still hold it.
 */
static void
evict(const char *name)
{
	char		key[ANOMALY_REF_MAXLEN];
	CacheSlot  *slot;

	if (model_cache == NULL)
		return;
	memset(key, 0, sizeof(key));
	strlcpy(key, name, sizeof(key));
	slot = hash_search(model_cache, key, HASH_FIND, NULL);
	if (slot == NULL)
		return;
	if (slot->model)
		MemoryContextSetParent(slot->model->mcxt, TopTransactionContext);
	hash_search(model_cache, key, HASH_REMOVE, NULL);
}

static void
missing_model(const char *name, const AnomalyModelRef *ref) pg_attribute_noreturn();

static void
missing_model(const char *name, const AnomalyModelRef *ref)
{
	evict(name);
	if (ref->version > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version %d of model \"%s\" does not exist", ref->version, ref->name),
				 errhint("List the versions in anomaly.models.")));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("model \"%s\" does not exist", ref->name),
			 errhint("Create it with anomaly.anomaly_create_model(), or list models in anomaly.models.")));
}

AnomalyCachedModel *
anomaly_cache_get(const char *name, AnomalyPrivilege need)
{
	AnomalyModelRef ref;
	AnomalyCatalogEntry row;
	CacheSlot  *slot;
	AnomalyCachedModel *fresh;
	bool		found;
	char		key[ANOMALY_REF_MAXLEN];

	anomaly_parse_model_ref(name, &ref);
	if (!anomaly_catalog_lookup(&ref, false, &row))
		missing_model(name, &ref);
	/* once per query per model, with the validation: a revoke is seen next query */
	anomaly_check_privilege(ref.name, &row, need);

	if (model_cache == NULL)
	{
		HASHCTL		ctl;

		if (CacheMemoryContext == NULL)
			CreateCacheMemoryContext();
		ctl.keysize = ANOMALY_REF_MAXLEN;
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
	if (!anomaly_catalog_lookup(&ref, true, &row))
		missing_model(name, &ref);
	anomaly_check_privilege(ref.name, &row, need);
	fresh = decode_entry(key, ref.name, &row);
	pfree(row.model);

	slot = hash_search(model_cache, key, HASH_ENTER, &found);
	if (found && slot->model)
		MemoryContextSetParent(slot->model->mcxt, TopTransactionContext);
	slot->model = fresh;
	return fresh;
}
