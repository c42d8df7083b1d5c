/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  The model catalog (anomaly.model_versions, anomaly.model_names):
 *	  lookups, ownership, and the writes of both catalog layouts.
 *
 * A model name has one owner role (anomaly.model_names); only members of
 * it, or superusers, change any version of the model.  Other roles cannot
 * write the catalog tables at all: SELECT is all they are granted.  The
 * functions check the caller (GetUserId) against the name's owner, and
 * then write as the catalog's owner, the way PostgreSQL's foreign-key
 * triggers act as a table's owner.  A SECURITY DEFINER function in SQL
 * could not do this: it cannot see who called it.  Writes run with
 * search_path set to pg_catalog, and every name in the statements is
 * schema-qualified (operators too), so nothing the caller put on the
 * search_path runs with the owner's privileges.
 *
 * The lookup of a version runs when the cache cannot believe its last
 * validation (cache.c), so its plans are prepared once per backend and kept.
 *
 * IDENTIFICATION
 *	  src/pg/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "anomaly/pg.h"

/*---- model names and references ----*/

void
anomaly_check_model_name(const char *name)
{
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("model name must not be empty")));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name \"%s\" is too long", name),
				 errdetail("Model names have at most %d bytes.", NAMEDATALEN - 1)));
}

void
anomaly_check_new_model_name(const char *name)
{
	anomaly_check_model_name(name);
	if (strchr(name, '@') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("model name \"%s\" must not contain \"@\"", name),
				 errdetail("\"name@n\" refers to version n of model \"name\".")));
}

typedef enum RefParse
{
	REF_OK,
	REF_EMPTY,
	REF_TOO_LONG,
	REF_ZERO_VERSION
} RefParse;

/*
 * "name@n" with n a positive integer refers to version n; anything else is
 * a name (models of 0.1.0 could have '@' in their names, and still work
 * unless the part after the last '@' is a number).
 */
static RefParse
split_ref(const char *text, AnomalyModelRef *ref)
{
	const char *at = strrchr(text, '@');
	size_t		len = strlen(text);

	ref->version = 0;
	ref->name[0] = '\0';
	if (at != NULL && at > text && at[1] != '\0' &&
		strspn(at + 1, "0123456789") == strlen(at + 1) && strlen(at + 1) <= 9)
	{
		ref->version = atoi(at + 1);
		len = at - text;
		if (ref->version <= 0)
			return REF_ZERO_VERSION;
	}
	if (len == 0)
		return REF_EMPTY;
	if (len >= NAMEDATALEN)
		return REF_TOO_LONG;
	memcpy(ref->name, text, len);
	ref->name[len] = '\0';
	return REF_OK;
}

bool
anomaly_split_model_ref(const char *text, AnomalyModelRef *ref)
{
	return split_ref(text, ref) == REF_OK;
}

void
anomaly_parse_model_ref(const char *text, AnomalyModelRef *ref)
{
	switch (split_ref(text, ref))
	{
		case REF_OK:
			return;
		case REF_EMPTY:
			anomaly_check_model_name("");
			break;
		case REF_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("model name in \"%s\" is too long", text),
					 errdetail("Model names have at most %d bytes.", NAMEDATALEN - 1)));
			break;
		case REF_ZERO_VERSION:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("version in \"%s\" must be positive", text)));
			break;
	}
}

/*---- reading ----*/

static SPIPlanPtr
keep_plan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "could not prepare a catalog query: %s",
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/* whether the catalog has privileges (0.2.0), or is 0.1.0's */
bool
anomaly_catalog_has_privileges(void)
{
	Oid			nsp = get_namespace_oid("anomaly", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("model_privileges", nsp));
}

/*
 * One of the two lookups (the deployed version, or a given version) on a
 * catalog whose tables are versions, names and privileges: the catalog
 * itself, or on a Citus worker the local placements of its replicas
 * (distributed.c), which have the columns used here.  Without privileges,
 * the 0.1.0 catalog.  Each is prepared when first needed: planning it is
 * a good part of what a new backend, a parallel worker for one, spends
 * before scoring its first row, and most use only the deployed version.
 */
static SPIPlanPtr
prepare_lookup(bool given, bool privileges, const char *versions,
			   const char *names, const char *privs)
{
	Oid			argtypes[3] = {TEXTOID, INT4OID, OIDOID};
	const char *select;

	if (privileges)
		select = psprintf("SELECT m.version, m.xmin, m.ctid, m.threshold, m.model, "
						  "a.may_read, a.may_read OR a.granted "
						  "FROM %s m "
						  "LEFT JOIN %s n ON n.name OPERATOR(pg_catalog.=) m.name "
						  "CROSS JOIN LATERAL (SELECT "
						  "  COALESCE(pg_catalog.pg_has_role($3, n.owner::pg_catalog.oid, 'USAGE'), false) "
						  "  OR EXISTS (SELECT FROM %s p "
						  "    WHERE p.name OPERATOR(pg_catalog.=) m.name "
						  "    AND p.privilege OPERATOR(pg_catalog.=) 'read' "
						  "    AND (p.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid "
						  "         OR pg_catalog.pg_has_role($3, p.grantee::pg_catalog.oid, 'USAGE'))) AS may_read, "
						  "  EXISTS (SELECT FROM %s p "
						  "    WHERE p.name OPERATOR(pg_catalog.=) m.name "
						  "    AND (p.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid "
						  "         OR pg_catalog.pg_has_role($3, p.grantee::pg_catalog.oid, 'USAGE'))) AS granted) a ",
						  versions, names, privs, privs);
	else
		select = psprintf("SELECT m.version, m.xmin, m.ctid, m.threshold, m.model, "
						  "true, true FROM %s m ", versions);
	if (given)
		return keep_plan(psprintf("%sWHERE m.name OPERATOR(pg_catalog.=) $1 "
								  "AND m.version OPERATOR(pg_catalog.=) $2",
								  select),
						 3, argtypes);
	return keep_plan(psprintf("%sWHERE m.name OPERATOR(pg_catalog.=) $1 AND m.deployed",
							  select),
					 3, argtypes);
}

/*
 * The referenced version's identity, its threshold, the current user's
 * privileges on it and, if fetch_model, its document.
 *
 * On the 0.2.0 catalog the query runs as the catalog's owner, which row-level
 * security does not restrict (a role granted only 'score' cannot read the row
 * itself), and computes the caller's privileges in the same statement: the
 * owner's roles (superusers: every role) may read, and so may grantees of
 * 'read'; grantees of 'score' may score.  The query that validates the
 * cache (cache.c) thus also checks privileges, and whatever a grant or
 * revoke changes sends the invalidation that makes the next statement run
 * it again.
 *
 * On the 0.1.0 catalog (scoring before ALTER EXTENSION UPDATE) the query
 * runs as the caller, and everyone may score and read, as 0.1.0 allowed.
 *
 * On a Citus worker the same query reads the replicas of the coordinator's
 * catalog (distributed.c); its plans are kept until their placement changes.
 */
bool
anomaly_catalog_lookup(const AnomalyModelRef *ref, bool fetch_model,
					   AnomalyCatalogEntry *entry)
{
	static SPIPlanPtr plans_0_1[2];
	static SPIPlanPtr plans_0_2[2];
	static SPIPlanPtr plans_replica[2];
	static Oid	plans_replica_relid = InvalidOid;
	MemoryContext caller_cxt = CurrentMemoryContext;
	Datum		args[3];
	SPIPlanPtr *plans;
	bool		privileges = anomaly_catalog_has_privileges();
	Oid			caller = GetUserId();
	Oid			save_userid = InvalidOid;
	int			save_sec_context = 0;
	bool		found = false;
	char	   *replica[ANOMALY_REPLICA_TABLES];
	Oid			replica_relid;
	int			given = ref->version > 0 ? 1 : 0;	/* which of the two lookups */
	int			rc;

	memset(entry, 0, sizeof(*entry));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (privileges)
	{
		/* restored by transaction or subtransaction abort on error */
		GetUserIdAndSecContext(&save_userid, &save_sec_context);
		SetUserIdAndSecContext(anomaly_catalog_owner(),
							   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	}
	if (privileges && anomaly_catalog_replica(replica, &replica_relid))
	{
		plans = plans_replica;
		if (replica_relid != plans_replica_relid)
		{
			for (int i = 0; i < 2; i++)
				if (plans[i] != NULL)
					SPI_freeplan(plans[i]);
			plans[0] = plans[1] = NULL;
			plans_replica_relid = replica_relid;
		}
		if (plans[given] == NULL)
			plans[given] = prepare_lookup(given, true, replica[0], replica[1], replica[2]);
	}
	else
	{
		plans = privileges ? plans_0_2 : plans_0_1;
		if (plans[given] == NULL)
			plans[given] = prepare_lookup(given, privileges, "anomaly.model_versions",
										  "anomaly.model_names", "anomaly.model_privileges");
	}

	args[0] = CStringGetTextDatum(ref->name);
	args[1] = Int32GetDatum(ref->version);
	args[2] = ObjectIdGetDatum(caller);
	rc = SPI_execute_plan(plans[given], args, NULL, true, 1);
	if (privileges)
		SetUserIdAndSecContext(save_userid, save_sec_context);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "catalog lookup failed");

	if (SPI_processed > 0)
	{
		HeapTuple	tuple = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		ItemPointer tid;

		found = true;
		entry->version = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
		entry->xmin = DatumGetTransactionId(SPI_getbinval(tuple, desc, 2, &isnull));
		tid = (ItemPointer) DatumGetPointer(SPI_getbinval(tuple, desc, 3, &isnull));
		ItemPointerCopy(tid, &entry->tid);
		entry->threshold = DatumGetFloat8(SPI_getbinval(tuple, desc, 4, &isnull));
		entry->may_read = DatumGetBool(SPI_getbinval(tuple, desc, 6, &isnull)) && !isnull;
		entry->may_score = DatumGetBool(SPI_getbinval(tuple, desc, 7, &isnull)) && !isnull;
		if (fetch_model)
		{
			Datum		model = SPI_getbinval(tuple, desc, 5, &isnull);
			MemoryContext oldcxt = MemoryContextSwitchTo(caller_cxt);

			/* detoast into the caller's context, which outlives SPI */
			entry->model = isnull ? NULL : DatumGetByteaPCopy(model);
			MemoryContextSwitchTo(oldcxt);
		}
	}
	SPI_finish();
	return found;
}

void
anomaly_check_privilege(const char *name, const AnomalyCatalogEntry *entry,
						AnomalyPrivilege need)
{
	if (need == ANOMALY_PRIV_READ && !entry->may_read)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read model \"%s\"", name),
				 errdetail("Reading a model's document, source or features needs the \"read\" privilege on it."),
				 errhint("The model's owner may grant it with anomaly.anomaly_grant('%s', '%s', 'read').",
						 name, GetUserNameFromId(GetUserId(), false))));
	if (need == ANOMALY_PRIV_SCORE && !entry->may_score)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to score with model \"%s\"", name),
				 errdetail("Scoring needs the \"score\" privilege on the model."),
				 errhint("The model's owner may grant it with anomaly.anomaly_grant('%s', '%s').",
						 name, GetUserNameFromId(GetUserId(), false))));
}

int
anomaly_spi_exec(const char *sql, int nargs, const Oid *types, const Datum *values,
				 int expected)
{
	/* not read-only: each statement takes a new snapshot, after any lock wait */
	int			rc = SPI_execute_with_args(sql, nargs, (Oid *) types, (Datum *) values,
										   NULL, false, 0);

	if (rc != expected)
		elog(ERROR, "catalog statement failed (%s): %s", SPI_result_code_string(rc), sql);
	return rc;
}

Datum
anomaly_catalog_models_row(const char *name, int32 version)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		args[2] = {CStringGetTextDatum(name), Int32GetDatum(version)};
	bool		isnull;
	Datum		row;

	anomaly_spi_exec("SELECT m FROM anomaly.models m "
					 "WHERE m.name OPERATOR(pg_catalog.=) $1 "
					 "AND m.version OPERATOR(pg_catalog.=) $2",
					 2, types, args, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "could not read back version %d of model \"%s\"", version, name);
	row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return SPI_datumTransfer(row, false, -1);
}

/*---- ownership ----*/

/*
 * Serialise every change to one name, until the end of the transaction.
 * The lock class 1634625900 is "anom" in ASCII; 0.1.0 used the same.
 */
void
anomaly_lock_name(const char *name)
{
	/* every change takes this lock first: where models must not change, stop */
	anomaly_check_catalog_writable();

	/*
	 * Not an advisory lock: any role can take any advisory key and stall
	 * everyone's model creation.  An object lock on (the catalog table, a
	 * hash of the name) is one no SQL statement can take, and only writers
	 * of the same name (or a colliding hash) wait for each other.
	 */
	LockDatabaseObject(get_relname_relid("model_versions",
										 get_namespace_oid("anomaly", false)),
					   hash_bytes((const unsigned char *) name, strlen(name)),
					   0, ExclusiveLock);
}

Oid
anomaly_name_owner(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	bool		isnull;

	anomaly_spi_exec("SELECT n.owner FROM anomaly.model_names n "
					 "WHERE n.name OPERATOR(pg_catalog.=) $1",
					 1, types, args, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return InvalidOid;
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &isnull));
}

void
anomaly_check_owner(const char *name, Oid owner)
{
	if (!has_privs_of_role(GetUserId(), owner))
	{
		const char *role = GetUserNameFromId(owner, true);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of model \"%s\"", name),
				 errdetail("Model \"%s\" is owned by role %s.", name,
						   role ? role : "(dropped)"),
				 errhint("Only members of the owner role, and superusers, may change a model.")));
	}
}

Oid
anomaly_require_owner(const char *name)
{
	Oid			owner = anomaly_name_owner(name);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("List models in anomaly.models.")));
	anomaly_check_owner(name, owner);
	return owner;
}

void
anomaly_no_deployed_version(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("model \"%s\" has no deployed version", name),
			 errhint("Deploy one with anomaly.anomaly_deploy().")));
}

/* the owner of name in the catalog layout of api, or InvalidOid; inside SPI */
static Oid
name_owner(const char *name, AnomalyCatalogApi api)
{
	return api == ANOMALY_CATALOG_0_1 ? anomaly_name_owner_0_1(name)
		: anomaly_name_owner(name);
}

void
anomaly_catalog_check_create(const char *name, bool replace, AnomalyCatalogApi api)
{
	Oid			owner;

	/* before training: a standby or a Citus worker would only fail at the end */
	anomaly_check_catalog_writable();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	owner = name_owner(name, api);
	if (OidIsValid(owner))
	{
		/* the 0.1.0 script's functions were called unqualified */
		if (!replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" already exists", name),
					 errhint("Use replace => true to train a new version, or drop it with %s().",
							 api == ANOMALY_CATALOG_0_1 ? "anomaly_drop_model"
							 : "anomaly.anomaly_drop_model")));
		anomaly_check_owner(name, owner);
	}
	SPI_finish();
}

/*---- writing ----*/

/* the owner of anomaly.model_versions: the role that installed the extension */
Oid
anomaly_catalog_owner(void)
{
	Oid			nsp = get_namespace_oid("anomaly", false);
	Oid			relid = get_relname_relid("model_versions", nsp);
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(relid))
		elog(ERROR, "table anomaly.model_versions is missing");
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * Like PostgreSQL's own switches to a table owner (ri_triggers.c,
 * REFRESH MATERIALIZED VIEW): a restricted operation, so that nothing run
 * meanwhile can change the session's state.  Transaction abort restores
 * the user and the GUC nest level, so callers need no PG_TRY.
 */
void
anomaly_catalog_write_begin(AnomalyCatalogWrite *w)
{
	GetUserIdAndSecContext(&w->save_userid, &w->save_sec_context);
	SetUserIdAndSecContext(anomaly_catalog_owner(),
						   w->save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	w->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
anomaly_catalog_write_end(AnomalyCatalogWrite *w)
{
	AtEOXact_GUC(false, w->nestlevel);
	SetUserIdAndSecContext(w->save_userid, w->save_sec_context);
	anomaly_score_plans_invalidate();
}

/* delete the oldest undeployed versions beyond anomaly.keep_versions */
static void
prune_versions(const char *name)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		args[2];

	if (anomaly_keep_versions <= 0)
		return;
	args[0] = CStringGetTextDatum(name);
	args[1] = Int32GetDatum(anomaly_keep_versions);
	anomaly_spi_exec("DELETE FROM anomaly.model_versions m "
					 "WHERE m.name OPERATOR(pg_catalog.=) $1 AND NOT m.deployed "
					 "AND m.version OPERATOR(pg_catalog.<) ALL ("
					 "  SELECT k.version FROM anomaly.model_versions k "
					 "  WHERE k.name OPERATOR(pg_catalog.=) $1 "
					 "  ORDER BY k.version DESC LIMIT $2)",
					 2, types, args, SPI_OK_DELETE);
	if (SPI_processed > 0 && anomaly_progress_notice())
		ereport(NOTICE,
				(errmsg("deleted %llu old versions of model \"%s\"",
						(unsigned long long) SPI_processed, name),
				 errdetail("anomaly.keep_versions is %d.", anomaly_keep_versions)));
}

/*
 * The number of name's new version, inside SPI; exists when name has an
 * owner.  The 0.2.0 catalog keeps a counter with the name (and a new name
 * gets its row, owned by caller); the 0.1.0 one has only the versions.
 */
static int32
next_version(Datum name, bool exists, Oid caller, AnomalyCatalogApi api)
{
	Oid			types[2] = {TEXTOID, REGROLEOID};
	Datum		args[2] = {name, ObjectIdGetDatum(caller)};
	bool		isnull;

	if (!exists)
	{
		if (api != ANOMALY_CATALOG_0_1)
			anomaly_spi_exec("INSERT INTO anomaly.model_names (name, owner, last_version) "
							 "VALUES ($1, $2, 1)",
							 2, types, args, SPI_OK_INSERT);
		return 1;
	}
	if (api == ANOMALY_CATALOG_0_1)
		anomaly_spi_exec("SELECT pg_catalog.max(m.version) OPERATOR(pg_catalog.+) 1 "
						 "FROM anomaly.model_versions m "
						 "WHERE m.name OPERATOR(pg_catalog.=) $1",
						 1, types, args, SPI_OK_SELECT);
	else
	{
		/*
		 * Version numbers are never reused while the name exists: 'm@3' in
		 * a script or a shadow comparison must not later name a model
		 * trained after version 3 was dropped.  The counter lives with the
		 * name; the maximum covers a catalog edited or restored by hand.
		 */
		anomaly_spi_exec("UPDATE anomaly.model_names n SET last_version = "
						 "GREATEST(n.last_version, (SELECT pg_catalog.max(m.version) "
						 "FROM anomaly.model_versions m WHERE m.name OPERATOR(pg_catalog.=) $1)) "
						 "OPERATOR(pg_catalog.+) 1 "
						 "WHERE n.name OPERATOR(pg_catalog.=) $1 RETURNING n.last_version",
						 1, types, args, SPI_OK_UPDATE_RETURNING);
		if (SPI_processed != 1)
			elog(ERROR, "model name \"%s\" vanished while locked", TextDatumGetCString(name));
	}
	return DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull));
}

/* the insert of a version; the 0.1.0 catalog calls its role column owner */
#define INSERT_VERSION(role_column) \
	"INSERT INTO anomaly.model_versions " \
	"(name, version, method, features, trained_rows, train_seconds, " \
	"loss, threshold, " role_column ", source, exclude, options, model, deployed) " \
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"

/*
 * Both catalog layouts.  The 0.2.0 one is written as the catalog's owner
 * and keeps anomaly.keep_versions; in 0.1.0 the caller writes its own rows
 * (row-level security) and nothing is pruned.
 */
Datum
anomaly_catalog_store(const AnomalyNewVersion *v, int32 *version_out)
{
	Oid			name_types[1] = {TEXTOID};
	Datum		name_args[1];
	Oid			ins_types[14] = {TEXTOID, INT4OID, TEXTOID, TEXTARRAYOID, INT8OID,
		FLOAT8OID, FLOAT8OID, FLOAT8OID, REGROLEOID, TEXTOID, TEXTARRAYOID,
	JSONBOID, BYTEAOID, BOOLOID};
	Datum		ins_args[14];
	char		ins_nulls[14];
	Oid			caller = GetUserId();
	Oid			owner;
	int32		version;
	bool		legacy = v->api == ANOMALY_CATALOG_0_1;
	AnomalyCatalogWrite w;
	Datum		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* serialise versioning of one name; training itself ran unlocked */
	anomaly_lock_name(v->name);
	name_args[0] = CStringGetTextDatum(v->name);
	owner = name_owner(v->name, v->api);
	if (OidIsValid(owner))
	{
		if (!v->replace)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("model \"%s\" already exists", v->name),
					 errdetail("Another session created it while this one was working.")));
		anomaly_check_owner(v->name, owner);
	}

	memset(ins_nulls, ' ', sizeof(ins_nulls));
	ins_args[0] = name_args[0];
	ins_args[2] = CStringGetTextDatum(v->method);
	ins_args[3] = PointerGetDatum(v->features);
	ins_args[4] = Int64GetDatum(v->trained_rows);
	ins_args[5] = Float8GetDatum(v->train_seconds);
	ins_args[6] = Float8GetDatum(v->loss);
	ins_nulls[6] = isfinite(v->loss) ? ' ' : 'n';
	ins_args[7] = Float8GetDatum(v->threshold);
	ins_args[8] = ObjectIdGetDatum(caller);
	ins_args[9] = v->source ? CStringGetTextDatum(v->source) : (Datum) 0;
	ins_nulls[9] = v->source ? ' ' : 'n';
	ins_args[10] = PointerGetDatum(v->exclude);
	ins_args[11] = PointerGetDatum(v->options);
	ins_args[12] = PointerGetDatum(v->model);
	ins_args[13] = BoolGetDatum(true);

	if (!legacy)
		anomaly_catalog_write_begin(&w);
	version = next_version(name_args[0], OidIsValid(owner), caller, v->api);
	ins_args[1] = Int32GetDatum(version);
	anomaly_spi_exec("UPDATE anomaly.model_versions SET deployed = false "
					 "WHERE name OPERATOR(pg_catalog.=) $1 AND deployed",
					 1, name_types, name_args, SPI_OK_UPDATE);
	if (SPI_execute_with_args(legacy ? INSERT_VERSION("owner") : INSERT_VERSION("created_by"),
							  14, ins_types, ins_args, ins_nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not store the model");
	if (!legacy)
	{
		prune_versions(v->name);
		anomaly_catalog_write_end(&w);
	}

	result = anomaly_catalog_models_row(v->name, version);
	SPI_finish();
	*version_out = version;
	return result;
}
