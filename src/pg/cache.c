/*-------------------------------------------------------------------------
 *
 * cache.c
 *	  Per-backend cache of decoded models, and when to believe it.
 *
 * Decoding a model document costs far more than scoring a row, so each
 * backend keeps every model version it has used, keyed by the reference
 * ("m" for the deployed version, "m@3" for version 3), each in its own
 * child of CacheMemoryContext.  An entry is checked against the catalog
 * row (version, xmin and ctid: a retrain, a deploy, a threshold change or
 * an import all change them) by one catalog query (catalog.c), which also
 * computes the current user's privileges on the model.  score.c and the
 * trigger keep the entry they got for the rest of the query or statement.
 *
 * Validations are remembered
 * --------------------------
 * That query used to run whenever a query first scored with a model: for
 * single-row INSERTs through anomaly_flag_trigger, once per row, and it
 * cost twenty times the scoring.  Now a successful validation is reused,
 * without the query, until something it depends on may have changed.  The
 * query's answer depends on the rows of anomaly.model_versions,
 * model_names and model_privileges that the statement's snapshot sees, on
 * the current user, and on roles (pg_has_role: membership, inheritance,
 * superuser) as the syscache sees them.  So a validation is reused only
 *
 *	  - while no invalidation has arrived since it was made (the counter
 *		inval_count has not moved) of: the relcache entry of one of the three
 *		tables, or of every relation (a sinval reset); the syscaches of
 *		pg_authid (AUTHOID: ALTER ROLE, DROP ROLE, superuser) and
 *		pg_auth_members (AUTHMEMROLEMEM: GRANT and REVOKE of roles), as
 *		acl.c watches for its own membership cache;
 *	  - by the same user (GetUserId) in the same security context: SET
 *		ROLE, SECURITY DEFINER functions and the catalog's own writes
 *		validate again;
 *	  - in REPEATABLE READ and SERIALIZABLE, only in the transaction that
 *		made it;
 *	  - where every change of those tables sends an invalidation.
 *
 * Every change does: the functions that write the catalog invalidate the
 * relcache entry of model_versions (anomaly_catalog_write_end, for the
 * plans rewritten by score_support.c), and the row trigger every catalog
 * table has (anomaly_replicate_catalog, distributed.c) invalidates its
 * table's entry, for a write by hand; TRUNCATE and DDL send their own.
 * Writes that fire no trigger (session_replication_role = replica, a
 * disabled trigger) are not seen until another invalidation: a backend
 * started afterwards, or any DDL on the table, sees them.  On the 0.1.0
 * catalog, whose rows users write themselves, and on a server with Citus
 * loaded, where a worker reads replicas that Citus writes without our
 * triggers, every validation runs the query, as before.
 *
 * Why the counter suffices, by PostgreSQL's own rules (inval.c, xact.c):
 * a committing transaction becomes visible to new snapshots
 * (ProcArrayEndTransaction) before it sends its invalidations
 * (AtEOXact_Inval), and it sends them before its client learns it
 * committed.  A statement that starts after that calls
 * AcceptInvalidationMessages here, before trusting anything, and so sees
 * the counter move: in READ COMMITTED a retrain committed by another
 * session is used by this session's next statement, as when every
 * statement queried.  (A commit racing with a statement may be missed by
 * that statement and is seen by the next one, as with any invalidation in
 * PostgreSQL.)  The other way round, a validation must not be believed
 * later if its snapshot missed a commit whose invalidation this backend
 * had already counted when the validation was recorded: such a commit
 * ended after the snapshot was taken, so its invalidation arrived after
 * the transaction started.  A validation therefore records not the
 * counter's current value but its value at the end of the previous
 * transaction (xact_token, set by a transaction callback), which no
 * snapshot of the current transaction precedes.  A validation made in a
 * transaction during which the counter moved is thus never believed, and
 * the next transaction's first statement queries again.  Our own
 * transaction's catalog writes reach the callbacks at the next command
 * boundary (CommandCounterIncrement), and at abort, which undoes them.
 * In the transaction that loads the library, or first sees the catalog's
 * tables (a new extension), nothing is believed either: invalidations
 * that arrived before the callbacks knew what to watch were not counted.
 *
 * REPEATABLE READ keeps the transaction's snapshot for every statement:
 * a validation made under it stays right for the whole transaction, and
 * an invalidation in between only makes the next statement query again,
 * under the same snapshot, as before; a validation made in an earlier
 * transaction is never used (its snapshot may see a retrain this one must
 * not).  On a hot standby the primary's invalidations are replayed with
 * its commit records, in the same order after the commit is visible
 * (xact_redo_commit), so the same argument holds.
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
#include "access/xact.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "anomaly/pg.h"

/* the catalog tables a validation reads (0.2.0) */
#define CATALOG_TABLES 3

typedef struct CacheSlot
{
	char		ref[ANOMALY_REF_MAXLEN];	/* hash key: "m" or "m@3" */
	AnomalyCachedModel *model;

	/* the last validation of model, believed while current (see above) */
	bool		validated;
	uint64		valid_token;	/* xact_token when it was made */
	Oid			valid_user;
	int			valid_sec_context;
	LocalTransactionId valid_lxid;
	bool		may_score;
	bool		may_read;
} CacheSlot;

static HTAB *model_cache = NULL;
static uint64 cache_generation = 0;

/* invalidations of what a validation depends on, counted since backend start */
static uint64 inval_count = 0;

/* inval_count at the end of the last transaction; not valid until one ended */
static uint64 xact_token = 0;
static bool xact_token_valid = false;

/* the OIDs of the catalog tables, which the relcache callback watches */
static Oid	catalog_relids[CATALOG_TABLES];

static void
relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid))
	{
		inval_count++;			/* every relation: a sinval reset */
		return;
	}
	for (int i = 0; i < CATALOG_TABLES; i++)
		if (relid == catalog_relids[i])
		{
			inval_count++;
			return;
		}
}

static void
role_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	inval_count++;
}

static void
xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			xact_token = inval_count;
			xact_token_valid = true;
			break;
		default:
			break;
	}
}

/* the hash table and the callbacks, once per backend */
static void
cache_init(void)
{
	HASHCTL		ctl;

	if (model_cache != NULL)
		return;
	if (CacheMemoryContext == NULL)
		CreateCacheMemoryContext();
	ctl.keysize = ANOMALY_REF_MAXLEN;
	ctl.entrysize = sizeof(CacheSlot);
	ctl.hcxt = CacheMemoryContext;
	model_cache = hash_create("anomaly model cache", 16, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, role_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, role_callback, (Datum) 0);
	RegisterXactCallback(xact_callback, NULL);
}

/*
 * Citus, which must be in shared_preload_libraries to run at all: a worker
 * reads replicas that Citus writes without our triggers.  The setting is
 * fixed for the server's life.
 */
static bool
citus_loaded(void)
{
	static int	loaded = -1;

	if (loaded < 0)
	{
		const char *libs = GetConfigOption("shared_preload_libraries", true, false);

		loaded = libs != NULL && strstr(libs, "citus") != NULL;
	}
	return loaded;
}

/*
 * Whether a validation made now may be believed later, by the rules of the
 * header comment.  Also points the relcache callback at the catalog's
 * tables: when they are new to it (the first validation, a recreated
 * extension), invalidations of this transaction went uncounted, so nothing
 * made in it is believed.
 */
static bool
validation_trusted(void)
{
	Oid			nsp = get_namespace_oid("anomaly", true);
	static const char *const tables[CATALOG_TABLES] = {
		"model_versions", "model_names", "model_privileges"
	};
	bool		trusted = xact_token_valid && !citus_loaded();

	for (int i = 0; i < CATALOG_TABLES; i++)
	{
		Oid			relid = OidIsValid(nsp) ? get_relname_relid(tables[i], nsp) : InvalidOid;

		if (!OidIsValid(relid))
			trusted = false;	/* the 0.1.0 catalog, without privileges */
		if (relid != catalog_relids[i])
		{
			catalog_relids[i] = relid;
			xact_token_valid = false;
			trusted = false;
		}
	}
	return trusted;
}

/* whether slot's last validation still holds for this statement */
static bool
validation_current(const CacheSlot *slot)
{
	Oid			userid;
	int			sec_context;

	if (!slot->validated || slot->valid_token != inval_count)
		return false;
	GetUserIdAndSecContext(&userid, &sec_context);
	if (userid != slot->valid_user || sec_context != slot->valid_sec_context)
		return false;
	if (IsolationUsesXactSnapshot() && slot->valid_lxid != MyProc->lxid)
		return false;
	return true;
}

static void
remember_validation(CacheSlot *slot, const AnomalyCatalogEntry *row, bool trusted,
					uint64 token)
{
	slot->validated = trusted;
	slot->valid_token = token;
	GetUserIdAndSecContext(&slot->valid_user, &slot->valid_sec_context);
	slot->valid_lxid = MyProc->lxid;
	slot->may_score = row->may_score;
	slot->may_read = row->may_read;
}

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

/* does row grant what the caller needs? */
static bool
row_allows(const AnomalyCatalogEntry *row, AnomalyPrivilege need)
{
	return need == ANOMALY_PRIV_READ ? row->may_read : row->may_score;
}

/*
 * The decoded model name refers to, validated as the header says.  With
 * missing_ok, a name that does not parse, a model the catalog lacks and a
 * privilege the user lacks give NULL instead of an error (the planner's
 * rewrite then keeps the call as written, to fail as it would have).
 */
static AnomalyCachedModel *
cache_get(const char *name, AnomalyPrivilege need, bool missing_ok)
{
	AnomalyModelRef ref;
	AnomalyCatalogEntry row;
	CacheSlot  *slot;
	AnomalyCachedModel *fresh;
	bool		found;
	bool		fetch;
	bool		trusted;
	uint64		token;
	char		key[ANOMALY_REF_MAXLEN];

	cache_init();
	memset(key, 0, sizeof(key));
	strlcpy(key, name, sizeof(key));

	/* what committed before this statement started has reached the callbacks */
	AcceptInvalidationMessages();
	slot = hash_search(model_cache, key, HASH_FIND, NULL);
	/* without the privilege, the query below says so (and sees a new grant) */
	if (slot && slot->model && validation_current(slot) &&
		(need == ANOMALY_PRIV_READ ? slot->may_read : slot->may_score))
		return slot->model;

	/* read before the query, which may absorb invalidations of its own */
	token = xact_token;
	trusted = validation_trusted();

	/*
	 * With an entry cached, check its identity first: the document is
	 * fetched (and detoasted) only when the entry is stale.  Without one (a
	 * new backend, a parallel worker), fetch it at once.
	 */
	if (!missing_ok)
		anomaly_parse_model_ref(name, &ref);
	else if (!anomaly_split_model_ref(name, &ref))
		return NULL;
	fetch = slot == NULL || slot->model == NULL;
	for (;;)
	{
		if (!anomaly_catalog_lookup(&ref, fetch, &row))
		{
			if (!missing_ok)
				missing_model(name, &ref);
			evict(name);
			return NULL;
		}
		/* with every validation: a revoke is seen by the next statement */
		if (missing_ok && !row_allows(&row, need))
			return NULL;
		anomaly_check_privilege(ref.name, &row, need);
		if (fetch)
			break;
		slot = hash_search(model_cache, key, HASH_FIND, NULL);
		if (slot && slot->model && entry_matches(slot->model, &row))
		{
			remember_validation(slot, &row, trusted, token);
			return slot->model;
		}
		/* stale: fetch the document, and decode it before touching the cache */
		fetch = true;
	}
	fresh = decode_entry(key, ref.name, &row);
	pfree(row.model);

	slot = hash_search(model_cache, key, HASH_ENTER, &found);
	if (found && slot->model)
		MemoryContextSetParent(slot->model->mcxt, TopTransactionContext);
	slot->model = fresh;
	remember_validation(slot, &row, trusted, token);
	return fresh;
}

AnomalyCachedModel *
anomaly_cache_get(const char *name, AnomalyPrivilege need)
{
	return cache_get(name, need, false);
}

/* the same, or NULL where anomaly_cache_get would say why not */
AnomalyCachedModel *
anomaly_cache_try_get(const char *name, AnomalyPrivilege need)
{
	return cache_get(name, need, true);
}
