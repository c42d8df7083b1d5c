/*-------------------------------------------------------------------------
 *
 * distributed.c
 *	  Models on more than one server: Citus workers, hot standbys.
 *
 * On a Citus cluster the model catalog stays where models are trained,
 * on the coordinator, as plain tables.  Scoring pushed down to a shard
 * runs on a worker, whose catalog is empty, and which may not query a
 * distributed table from inside a query on a shard.  The catalog itself
 * cannot be a reference table either: Citus refuses row-level security
 * policies with subqueries, and model_versions' policy has them.
 *
 * So the catalog is replicated: anomaly.replica_versions, replica_names
 * and replica_privileges hold what scoring needs of the three catalog
 * tables (no training source, no options: nothing scoring does not use),
 * and anomaly_distribute_catalog() makes them Citus reference tables and
 * fills them.  From then on a row trigger on each catalog table writes the
 * same change to its replica, in the same transaction, which Citus commits
 * on every node with two-phase commit: a retrain, deploy, threshold change,
 * grant or drop on the coordinator is seen by every worker's next query.
 *
 * A worker reads the replica's local placement (the shard table
 * replica_versions_<shardid>) directly, as a plain table: no distributed
 * query, so nothing Citus refuses, and the same lookup as on the
 * coordinator (catalog.c), computing the caller's privileges from the
 * replicated owners and grants.  Roles are replicated by name (regrole),
 * so they are the worker's own roles, which Citus keeps in step.  The
 * replicas are readable by the catalog's owner only, as the documents of
 * private models must be.  The cache (cache.c) validates a model against
 * the replica row's version, xmin and ctid, which every replicated change
 * renews.
 *
 * Training on the coordinator reads a distributed table through Citus; a
 * large one is sampled on the workers (anomaly_sample_on_workers).
 *
 * Nodes that must not change models: a hot standby (recovery), a read-only
 * transaction, and a Citus worker that scores from replicas (its own
 * catalog would diverge from the coordinator's).  The functions that change
 * models check this before they do any work, so a training is not run only
 * to fail on its INSERT.
 *
 * IDENTIFICATION
 *	  src/pg/distributed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"

#include "anomaly/pg.h"

PG_FUNCTION_INFO_V1(anomaly_replicate_catalog);
PG_FUNCTION_INFO_V1(anomaly_distribute_catalog);

/*
 * A catalog table and its replica: the replicated columns, key first.
 * The replicas' columns are named and typed as the catalog's.
 */
typedef struct ReplicaTable
{
	const char *catalog;
	const char *replica;
	int			nkeys;
	int			ncolumns;
	const char *columns[5];
} ReplicaTable;

static const ReplicaTable replica_tables[ANOMALY_REPLICA_TABLES] = {
	{"model_versions", "replica_versions", 2, 5,
	{"name", "version", "deployed", "threshold", "model"}},
	{"model_names", "replica_names", 1, 2,
	{"name", "owner"}},
	{"model_privileges", "replica_privileges", 3, 3,
	{"name", "grantee", "privilege"}},
};

/*---- Citus metadata ----*/

/* the one value the last SPI query returned; (Datum) 0 if it returned no row */
static Datum
single_value(bool *isnull)
{
	Datum		value;

	if (SPI_processed != 1)
		return (Datum) 0;
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	return *isnull ? (Datum) 0 : value;
}

static bool
citus_installed(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

/*
 * This node's group in the Citus cluster: 0 on the coordinator (and on a
 * node not yet added to a cluster).  Inside SPI, Citus installed.
 */
static int
citus_local_group(void)
{
	bool		isnull;

	anomaly_spi_exec("SELECT l.groupid FROM pg_catalog.pg_dist_local_group l",
					 0, NULL, NULL, SPI_OK_SELECT);
	return DatumGetInt32(single_value(&isnull));
}

/* the shard id of reference table anomaly.relname, 0 if it is not one; inside SPI */
static int64
citus_reference_shard(const char *relname)
{
	Oid			relid = get_relname_relid(relname, get_namespace_oid("anomaly", false));
	Oid			types[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;

	if (!OidIsValid(relid))
		return 0;
	anomaly_spi_exec("SELECT s.shardid FROM pg_catalog.pg_dist_shard s "
					 "JOIN pg_catalog.pg_dist_partition p "
					 "  ON p.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid "
					 "WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
					 "AND p.partmethod OPERATOR(pg_catalog.=) 'n'",
					 1, types, args, SPI_OK_SELECT);
	return DatumGetInt64(single_value(&isnull));
}

/*
 * Whether this node is a Citus worker that scores from the replicas, and
 * if so the local placement of each (an OID, 0 where it is missing).
 * Inside SPI.  This runs once per query per model on every node with
 * Citus: one statement, planned once per backend.
 */
static bool
scores_from_replicas(Oid shards[ANOMALY_REPLICA_TABLES])
{
	static SPIPlanPtr plan = NULL;
	Oid			nsp;
	Oid			types[ANOMALY_REPLICA_TABLES];
	Datum		args[ANOMALY_REPLICA_TABLES];
	HeapTuple	tuple;
	TupleDesc	desc;
	bool		isnull;
	int32		group;

	if (!citus_installed())
		return false;
	if (plan == NULL)
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfoString(&sql, "SELECT l.groupid");
		for (int i = 0; i < ANOMALY_REPLICA_TABLES; i++)
		{
			types[i] = OIDOID;
			appendStringInfo(&sql, ", (SELECT s.shardid FROM pg_catalog.pg_dist_shard s "
							 "JOIN pg_catalog.pg_dist_partition p "
							 "  ON p.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid "
							 "WHERE s.logicalrelid OPERATOR(pg_catalog.=) $%d::pg_catalog.regclass "
							 "AND p.partmethod OPERATOR(pg_catalog.=) 'n')", i + 1);
		}
		appendStringInfoString(&sql, " FROM pg_catalog.pg_dist_local_group l");
		plan = SPI_prepare(sql.data, ANOMALY_REPLICA_TABLES, types);
		if (plan == NULL)
			elog(ERROR, "could not prepare the Citus metadata query: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
	}
	nsp = get_namespace_oid("anomaly", false);
	for (int i = 0; i < ANOMALY_REPLICA_TABLES; i++)
		args[i] = ObjectIdGetDatum(get_relname_relid(replica_tables[i].replica, nsp));
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "the Citus metadata query failed");
	if (SPI_processed != 1)
		return false;
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	group = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull));
	if (isnull || group <= 0)
		return false;			/* the coordinator, or not in a cluster yet */
	for (int i = 0; i < ANOMALY_REPLICA_TABLES; i++)
	{
		int64		shard = DatumGetInt64(SPI_getbinval(tuple, desc, i + 2, &isnull));
		char		name[NAMEDATALEN * 2];

		if (isnull)
			return false;		/* anomaly_distribute_catalog() has not run */
		snprintf(name, sizeof(name), "%s_" INT64_FORMAT, replica_tables[i].replica, shard);
		shards[i] = get_relname_relid(name, nsp);
	}
	return true;
}

/*
 * Where a lookup reads the catalog (catalog.c): false for the catalog
 * itself, true and the qualified names of the replicas' local placements
 * on a Citus worker.  Inside SPI.
 */
bool
anomaly_catalog_replica(char *relations[ANOMALY_REPLICA_TABLES], Oid *versions_relid)
{
	Oid			shards[ANOMALY_REPLICA_TABLES];

	if (!scores_from_replicas(shards))
		return false;
	for (int i = 0; i < ANOMALY_REPLICA_TABLES; i++)
	{
		if (!OidIsValid(shards[i]))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("this Citus node has no copy of the model catalog"),
					 errdetail("Reference table anomaly.%s has no placement on this node.",
							   replica_tables[i].replica),
					 errhint("Run SELECT replicate_reference_tables() on the coordinator.")));
		relations[i] = quote_qualified_identifier("anomaly", get_rel_name(shards[i]));
	}
	*versions_relid = shards[0];
	return true;
}

/*---- nodes that must not change models ----*/

void
anomaly_check_catalog_writable(void)
{
	Oid			shards[ANOMALY_REPLICA_TABLES];
	bool		worker;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change models on a standby server"),
				 errdetail("Training, importing, deploying, granting and dropping write the model catalog."),
				 errhint("Do it on the primary: the standby scores with the primary's models once it has replayed the change.")));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot change models in a read-only transaction")));

	if (!citus_installed())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	worker = scores_from_replicas(shards);
	SPI_finish();
	if (worker)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change models on a Citus worker"),
				 errdetail("This node scores with the coordinator's models, which it receives through reference table anomaly.replica_versions."),
				 errhint("Train, import, deploy, grant and drop models on the coordinator.")));
}

/*---- replication ----*/

static const ReplicaTable *
replica_of(Relation rel)
{
	const char *name = RelationGetRelationName(rel);

	for (int i = 0; i < ANOMALY_REPLICA_TABLES; i++)
		if (strcmp(name, replica_tables[i].catalog) == 0)
			return &replica_tables[i];
	elog(ERROR, "anomaly_replicate_catalog fired on table \"%s\", which has no replica", name);
	return NULL;				/* keep the compiler quiet */
}

/* whether anomaly.replica_versions is a Citus reference table; inside SPI */
static bool
replicas_distributed(void)
{
	return citus_installed() && citus_reference_shard("replica_versions") != 0;
}

/* run one statement on the replica with the values of t's replicated columns */
static void
replica_exec(const ReplicaTable *r, HeapTuple t, TupleDesc desc, bool delete)
{
	StringInfoData sql;
	int			n = delete ? r->nkeys : r->ncolumns;
	Oid			types[5];
	Datum		values[5];
	char		nulls[5];

	initStringInfo(&sql);
	if (delete)
		appendStringInfo(&sql, "DELETE FROM anomaly.%s WHERE ", r->replica);
	else
		appendStringInfo(&sql, "INSERT INTO anomaly.%s VALUES (", r->replica);
	for (int i = 0; i < n; i++)
	{
		int			attno = SPI_fnumber(desc, r->columns[i]);
		bool		isnull;

		if (attno <= 0)
			elog(ERROR, "column \"%s\" of anomaly.%s is missing", r->columns[i], r->catalog);
		types[i] = SPI_gettypeid(desc, attno);
		values[i] = SPI_getbinval(t, desc, attno, &isnull);
		nulls[i] = isnull ? 'n' : ' ';
		if (delete)
			appendStringInfo(&sql, "%s%s OPERATOR(pg_catalog.=) $%d",
							 i > 0 ? " AND " : "", r->columns[i], i + 1);
		else
			appendStringInfo(&sql, "%s$%d", i > 0 ? ", " : "", i + 1);
	}
	if (!delete)
		appendStringInfoChar(&sql, ')');
	if (SPI_execute_with_args(sql.data, n, types, values, nulls, false, 0) !=
		(delete ? SPI_OK_DELETE : SPI_OK_INSERT))
		elog(ERROR, "could not replicate a change of anomaly.%s", r->catalog);
}

/*
 * AFTER INSERT OR UPDATE OR DELETE row trigger on the three catalog tables:
 * the same change on the replica, once anomaly_distribute_catalog() has
 * made it a reference table (before, and without Citus, it does nothing).
 * An update is a delete and an insert, so the replica row is new, as the
 * cache's validation needs.  With or without Citus, it also tells every
 * backend's model cache that the catalog changed.
 */
Datum
anomaly_replicate_catalog(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const ReplicaTable *r;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("anomaly_replicate_catalog must be an AFTER ... FOR EACH ROW trigger")));
	r = replica_of(trigdata->tg_relation);
	desc = RelationGetDescr(trigdata->tg_relation);

	/*
	 * Every backend's cache believes its validations until the catalog's
	 * relcache entry is invalidated (cache.c): a change by hand must send
	 * that too.  Repeats within a command are merged into one message.
	 */
	CacheInvalidateRelcache(trigdata->tg_relation);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (replicas_distributed())
	{
		if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
			replica_exec(r, trigdata->tg_trigtuple, desc, true);
		if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
			replica_exec(r, trigdata->tg_trigtuple, desc, false);
		else if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			replica_exec(r, trigdata->tg_newtuple, desc, false);
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * anomaly_distribute_catalog(): make the replicas Citus reference tables
 * (where they are not yet) and copy the catalog into them.  Run on the
 * coordinator, by the catalog's owner; again after restoring a dump.
 * Returns the number of model versions replicated.
 */
Datum
anomaly_distribute_catalog(PG_FUNCTION_ARGS)
{
	Oid			catalog_owner;
	int64		versions = 0;

	if (!citus_installed())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"citus\" is not installed in this database"),
				 errhint("Models are replicated to Citus workers; without Citus there is nothing to distribute.")));
	catalog_owner = anomaly_catalog_owner();
	if (!has_privs_of_role(GetUserId(), catalog_owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of the model catalog to distribute it"),
				 errdetail("The catalog is owned by role %s.",
						   GetUserNameFromId(catalog_owner, false))));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (citus_local_group() != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the model catalog is distributed from the Citus coordinator"),
				 errhint("Call anomaly.anomaly_distribute_catalog() on the coordinator.")));

	/* no model changes meanwhile: they would miss the copy */
	anomaly_spi_exec("LOCK TABLE anomaly.model_versions, anomaly.model_names, "
					 "anomaly.model_privileges IN SHARE MODE",
					 0, NULL, NULL, SPI_OK_UTILITY);
	for (int i = 0; i < ANOMALY_REPLICA_TABLES; i++)
	{
		const ReplicaTable *r = &replica_tables[i];
		StringInfoData cols;
		char	   *sql;

		if (citus_reference_shard(r->replica) == 0)
			anomaly_spi_exec(psprintf("SELECT pg_catalog.create_reference_table('anomaly.%s')",
									  r->replica),
							 0, NULL, NULL, SPI_OK_SELECT);
		initStringInfo(&cols);
		for (int c = 0; c < r->ncolumns; c++)
			appendStringInfo(&cols, "%s%s", c > 0 ? ", " : "", r->columns[c]);
		anomaly_spi_exec(psprintf("DELETE FROM anomaly.%s", r->replica),
						 0, NULL, NULL, SPI_OK_DELETE);
		sql = psprintf("INSERT INTO anomaly.%s (%s) SELECT %s FROM anomaly.%s",
					   r->replica, cols.data, cols.data, r->catalog);
		anomaly_spi_exec(sql, 0, NULL, NULL, SPI_OK_INSERT);
		if (i == 0)
			versions = SPI_processed;
	}
	SPI_finish();
	PG_RETURN_INT64(versions);
}

/*---- training from a distributed table ----*/

/*
 * A training source that names a Citus distributed table with more than
 * twice max_rows rows is read as
 *     SELECT * FROM t TABLESAMPLE BERNOULLI (p) REPEATABLE (seed)
 * with p for about twice max_rows rows: Citus runs the sampling on each
 * shard, so the workers send only the sample, not every row, and the seed
 * makes a retrain on unchanged data read the same rows.  The loader's
 * reservoir then keeps max_rows of them (or fewer, by memory), a uniform
 * sample of the table; category counts see the sampled rows only.  The
 * count that sizes p is one pushed-down count(*).  Every other source is
 * read as it is.
 */
const char *
anomaly_sample_on_workers(const char *source, const AnOptions *opts)
{
	RangeVar   *rv;
	Oid			relid;
	char	   *table;
	Oid			types[1] = {OIDOID};
	Datum		args[1];
	bool		isnull;
	int64		rows;
	double		percent;
	MemoryContext caller_cxt = CurrentMemoryContext;
	char	   *sampled = NULL;

	if (!citus_installed() || anomaly_source_is_query(source))
		return source;
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(source));
	relid = RangeVarGetRelid(rv, AccessShareLock, true);
	if (!OidIsValid(relid))
		return source;			/* the loader says what is wrong */
	table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									   get_rel_name(relid));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* hash, range or append distributed; 'n' is a reference or local table */
	args[0] = ObjectIdGetDatum(relid);
	anomaly_spi_exec("SELECT FROM pg_catalog.pg_dist_partition p "
					 "WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
					 "AND p.partmethod OPERATOR(pg_catalog.<>) 'n'",
					 1, types, args, SPI_OK_SELECT);
	if (SPI_processed == 1)
	{
		anomaly_spi_exec(psprintf("SELECT pg_catalog.count(*) FROM %s", table),
						 0, NULL, NULL, SPI_OK_SELECT);
		rows = DatumGetInt64(single_value(&isnull));
		if (rows > 2 * opts->max_rows)
		{
			percent = 100.0 * 2 * (double) opts->max_rows / (double) rows;
			sampled = MemoryContextStrdup(caller_cxt,
										  psprintf("SELECT * FROM %s TABLESAMPLE BERNOULLI (%.17g) REPEATABLE (%u)",
												   table, percent,
												   (unsigned) (opts->seed & 0x7fffffff)));
			if (anomaly_progress_notice())
				ereport(NOTICE,
						(errmsg("sampling %.3g%% of the " INT64_FORMAT " rows of distributed table %s on the workers",
								percent, rows, table)));
		}
	}
	SPI_finish();
	return sampled ? sampled : source;
}
