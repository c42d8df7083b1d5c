#!/usr/bin/env bash
# test/sh/citus.sh: models on a Citus cluster (issue 11): a coordinator and two workers, each
# a cluster of its own on a Unix socket, as the postgres OS user, stopped on exit.
#
# Distributes a table (4 shards), trains on the coordinator from it (a large table: sampled on
# the workers, TABLESAMPLE in the shard queries), scores in a query pushed
# down to the shards and through the insert trigger of a distributed table, and checks every
# score equals the same model's score of the same row in a plain table on the coordinator.
# Then: a retrain, a deploy back and a drop on the coordinator are seen by the workers' next
# query; privileges hold on the workers (no score privilege, no scoring; the replicas are
# unreadable); a worker refuses to train; each worker scores a shard in a parallel plan
# (Workers Launched: 2) with the serial result; pg_cron on the coordinator retrains a model
# from the distributed table while the other checks run, and the workers score with the new
# version; every worker's replica equals the catalog; DROP EXTENSION leaves nothing on them.
# Skips (77) when Citus is not installed (scripts/test.sh installs it when it can).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

if ! citus_installed; then
	echo "Citus is not installed (../shared/vendor/citus/install.sh builds it): skipping"
	exit 77
fi
if [ ! -f "$("$PG_BIN/pg_config" --pkglibdir)/pg_cron.so" ]; then
	echo "pg_cron is not installed (postgresql-15-cron): skipping"
	exit 77
fi

CITUS_DIRS=()
trap citus_stop EXIT
# pg_cron needs citus first in shared_preload_libraries
citus_start "shared_preload_libraries = 'citus, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on"


# a shard of TABLE placed on worker N (Citus hides shards from pg_class)
local_shard() {
	qw "$1" -c "SELECT '$2_' || s.shardid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
	            WHERE s.logicalrelid = '$2'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_local_group)
	            ORDER BY 1 LIMIT 1"
}

qc <<SQL
SET client_min_messages = warning;
CREATE EXTENSION anomaly;
-- pg_cron runs on the coordinator only: not propagated to the workers
SET citus.enable_ddl_propagation = off;
CREATE EXTENSION pg_cron;
SQL
expect "workers" 2 "$(qc -c "SELECT count(*) FROM citus_get_active_worker_nodes()")"
for n in 1 2; do
	expect "anomaly on worker $n" 1 "$(qw "$n" -c "SELECT count(*) FROM pg_extension WHERE extname = 'anomaly'")"
done

# the same rows in a distributed table and in a plain one on the coordinator
qc <<'SQL'
SET client_min_messages = warning;
SET citus.shard_count = 4;
CREATE ROLE scorer LOGIN;
CREATE TABLE tx (id bigint PRIMARY KEY, amount float8, hour int, online boolean, shop text);
SELECT create_distributed_table('tx', 'id');
INSERT INTO tx
SELECT i, sin(i * 0.1) * 10 + (i % 7), i % 24, i % 3 = 0, (ARRAY['a', 'b', 'c'])[1 + i % 3]
FROM generate_series(1, 20020) i;
CREATE TABLE tx_plain AS SELECT * FROM tx;
GRANT SELECT ON tx, tx_plain TO scorer;
SQL
expect "tx is distributed" "h" "$(qc -c "SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = 'tx'::regclass")"

# without the replicas, a worker does not know the model (the failure of issue 11)
qc -c "SELECT version FROM anomaly.anomaly_create_model('m', 'tx', exclude => '{id}', options => '{\"seed\": 1, \"epochs\": 3}')" >/dev/null
fails_with "before anomaly_distribute_catalog the workers do not know the model" 'model "m" does not exist' \
	qc -c "SELECT id FROM tx t ORDER BY anomaly.anomaly_score('m', t) DESC LIMIT 5"

expect "distribute_catalog" 1 "$(qc -c "SELECT anomaly.anomaly_distribute_catalog()")"
expect "replicas are reference tables" "nnn" "$(qc -c "SELECT string_agg(partmethod::text, '' ORDER BY 1) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'anomaly.replica_%'")"

# pg_cron on the coordinator retrains model cm from the distributed table (checked at the
# end: pg_cron runs jobs on the minute, so the other checks run meanwhile)
qc -c "SELECT version FROM anomaly.anomaly_create_model('cm', 'tx', exclude => '{id}', options => '{\"seed\": 6, \"epochs\": 1}')" >/dev/null
qc -c "SELECT cron.schedule('retrain_cm', '* * * * *', \$\$SET anomaly.progress = log; SELECT anomaly.anomaly_retrain('cm')\$\$)" >/dev/null

# scores of the distributed table (pushed down) equal those of the plain table (coordinator)
same_scores() {	# same_scores MODEL: 'true' when every row's score is the same
	qc <<SQL
CREATE TEMP TABLE d AS SELECT id, anomaly.anomaly_score('$1', t) AS s FROM tx t;
CREATE TEMP TABLE p AS SELECT id, anomaly.anomaly_score('$1', t) AS s FROM tx_plain t;
SELECT (count(*) = 20020 AND bool_and(d.s = p.s))::text FROM d JOIN p USING (id);
DROP TABLE d, p;
SQL
}
plan=$(qc -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM tx t ORDER BY anomaly.anomaly_score('m', t) DESC LIMIT 5")
grep -q "Task Count: 4" <<<"$plan" || { echo "$plan"; fail "not distributed over 4 shards"; }
# the planner's rewrite (anomaly_score_columns on just the model's columns)
# runs on the coordinator; either form in the shard query is a push-down
grep -Eq "Query: SELECT.*anomaly\.anomaly_score(_columns)?\('m'::text" <<<"$plan" || { echo "$plan"; fail "scoring is not pushed down"; }
echo "ok: scoring is pushed down to the shards"
expect "top 5 by score, distributed = plain" \
	"$(qc -c "SELECT string_agg(id::text, ',') FROM (SELECT id FROM tx_plain t ORDER BY anomaly.anomaly_score('m', t) DESC, id LIMIT 5) x")" \
	"$(qc -c "SELECT string_agg(id::text, ',') FROM (SELECT id FROM tx t ORDER BY anomaly.anomaly_score('m', t) DESC, id LIMIT 5) x")"
expect "every score of version 1, distributed = plain" true "$(same_scores m)"
expect "anomaly_is_anomaly pushed down" \
	"$(qc -c "SELECT count(*) FROM tx_plain t WHERE anomaly.anomaly_is_anomaly('m', t)")" \
	"$(qc -c "SELECT count(*) FROM tx t WHERE anomaly.anomaly_is_anomaly('m', t)")"
expect "anomaly_percentile pushed down" \
	"$(qc -c "SELECT md5(string_agg(anomaly.anomaly_percentile('m', t)::text, ',' ORDER BY id)) FROM tx_plain t")" \
	"$(qc -c "CREATE TEMP TABLE pc AS SELECT id, anomaly.anomaly_percentile('m', t) AS p FROM tx t" \
	      -c "SELECT md5(string_agg(p::text, ',' ORDER BY id)) FROM pc")"
expect "anomaly_explain on a shard (router query)" \
	"$(qc -c "SELECT string_agg(e.feature || '=' || e.contribution, ',') FROM (SELECT (anomaly.anomaly_explain('m', t)).* FROM tx_plain t WHERE id = 7) e")" \
	"$(qc -c "SELECT string_agg(e.feature || '=' || e.contribution, ',') FROM (SELECT (anomaly.anomaly_explain('m', t)).* FROM tx t WHERE id = 7) e")"
for n in 1 2; do
	calls=$(qw "$n" -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname IN ('anomaly_score', 'anomaly_score_columns')")
	[ "$calls" -gt 0 ] || fail "worker $n did not score"
done
echo "ok: both workers scored"

# a large distributed table is sampled on the workers (TABLESAMPLE in the shard queries)
out=$(qc -c "SET client_min_messages = notice" -c "SET citus.log_remote_commands = on" \
	-c "SELECT 'trained ' || trained_rows FROM anomaly.anomaly_create_model('sampled', 'tx', exclude => '{id}',
	        options => '{\"seed\": 5, \"epochs\": 1, \"max_rows\": 2000}')" 2>&1)
grep -q 'sampling 20% of the 20020 rows of distributed table public.tx on the workers' <<<"$out" \
	|| { echo "$out"; fail "no sampling on the workers"; }
[ "$(echo "$out" | grep -c 'issuing SELECT .* TABLESAMPLE bernoulli')" -ge 4 ] \
	|| { echo "$out"; fail "the shard queries do not sample"; }
echo "ok: a large distributed table is sampled on the workers"
expect "sampled training keeps max_rows rows" "trained 2000" "$(echo "$out" | grep '^trained')"
expect "sampled model, distributed = plain" true "$(same_scores sampled)"
qc -c "SELECT anomaly.anomaly_drop_model('sampled')" >/dev/null

# the insert trigger of a distributed table scores on the workers
qc <<'SQL'
SET client_min_messages = warning;
SET citus.shard_count = 4;
SET citus.enable_unsafe_triggers = on;
CREATE TABLE tx_in (id bigint, amount float8, hour int, online boolean, shop text,
                    score float8, flagged boolean);
CREATE TRIGGER flag BEFORE INSERT ON tx_in
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('m', 'score', 'flagged');
SELECT create_distributed_table('tx_in', 'id');
INSERT INTO tx_in (id, amount, hour, online, shop) SELECT id, amount, hour, online, shop FROM tx_plain WHERE id <= 500;
SQL
expect "trigger scores = plain scores" "500 true" \
	"$(qc -F ' ' -c "CREATE TEMP TABLE ti AS SELECT id, score, flagged FROM tx_in" \
		-c "SELECT count(*), bool_and(i.score = anomaly.anomaly_score('m', p) AND i.flagged = anomaly.anomaly_is_anomaly('m', p))::text FROM ti i JOIN tx_plain p USING (id)")"

# a retrain, a deploy back and a drop on the coordinator: the workers' next query
v1_sum=$(qc -c "SELECT round(sum(anomaly.anomaly_score('m', t))::numeric, 6) FROM tx_plain t")
expect "retrain" 2 "$(qc -c "SET client_min_messages = warning" -c "SELECT version FROM anomaly.anomaly_retrain('m', '{\"seed\": 2}')")"
expect "every score of version 2, distributed = plain" true "$(same_scores m)"
v2_sum=$(qc -c "SELECT round(sum(anomaly.anomaly_score('m', t))::numeric, 6) FROM tx t")
[ "$v1_sum" != "$v2_sum" ] || fail "the retrained version scores as the first"
expect "deploy version 1" 1 "$(qc -c "SELECT version FROM anomaly.anomaly_deploy('m', 1)")"
expect "workers score with version 1 again" true \
	"$(qc -c "SELECT bool_and(anomaly.anomaly_score('m', t) = anomaly.anomaly_score('m@1', t))::text FROM tx t")"
expect "deployed version 1, distributed = plain" true "$(same_scores m)"
expect "shadow scoring m@2 on the workers" true "$(same_scores m@2)"
expect "new threshold seen by the workers" 20020 \
	"$(qc -c "SELECT version FROM anomaly.anomaly_set_threshold('m', -1e300)" >/dev/null; qc -c "SELECT count(*) FROM tx t WHERE anomaly.anomaly_is_anomaly('m', t)")"
qc -c "SELECT version FROM anomaly.anomaly_create_model('gone', 'SELECT amount, hour FROM tx', options => '{\"seed\": 3, \"epochs\": 1}')" >/dev/null
qc -c "SELECT count(anomaly.anomaly_score('gone', t)) FROM tx t" >/dev/null
qc -c "SELECT anomaly.anomaly_drop_model('gone')" >/dev/null
fails_with "a dropped model is gone on the workers" 'model "gone" does not exist' \
	qc -c "SELECT count(anomaly.anomaly_score('gone', t)) FROM tx t"

# privileges hold on the workers
fails_with "no score privilege, no scoring on the workers" 'permission denied to score with model "m"' \
	qc -c "SET ROLE scorer" -c "SELECT count(anomaly.anomaly_score('m', t)) FROM tx t"
qc -c "SELECT anomaly.anomaly_grant('m', 'scorer')" >/dev/null
expect "granted role scores on the workers" 20020 "$(qc -c "SET ROLE scorer" -c "SELECT count(anomaly.anomaly_score('m', t)) FROM tx t")"
qc -c "SELECT anomaly.anomaly_revoke('m', 'scorer')" >/dev/null
qc -c "SET ROLE scorer" -c "SELECT count(anomaly.anomaly_score('m', t)) FROM tx t" >/dev/null 2>&1 \
	&& fail "a revoke was not seen by the workers"
echo "ok: grant and revoke seen by the workers"
qc -c "SET ROLE scorer" -c "SELECT count(*) FROM anomaly.replica_versions" >/dev/null 2>&1 \
	&& fail "a role reads the replicas on the coordinator"
shard=$(local_shard 1 anomaly.replica_versions)
[ -n "$shard" ] || fail "no replica placement on worker 1"
qw 1 -c "SET ROLE scorer" -c "SELECT count(*) FROM $shard" >/dev/null 2>&1 \
	&& fail "a role reads the replica placement on a worker"
echo "ok: the replicas are the catalog owner's only"

# a worker refuses to change models
fails_with "a worker refuses to train" 'cannot change models on a Citus worker' \
	qw 1 -c "SELECT anomaly.anomaly_create_model('w', 'SELECT 1.0::float8 AS a')"

# each worker scores its shards in parallel, with the serial result
for n in 1 2; do
	shard=$(local_shard "$n" tx)
	par="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
	     SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;"
	# the scores are computed below the Gather; their digest in row order is exact
	# (OFFSET 0 keeps the subquery, whose parallel scan computes them)
	digest="SELECT md5(string_agg(s::text, ',' ORDER BY id)) FROM (SELECT id, anomaly.anomaly_score('m', t) AS s FROM $shard t OFFSET 0) x"
	plan=$(qw "$n" -c "$par" -c "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) $digest")
	grep -q "Workers Launched: 2" <<<"$plan" || { echo "$plan"; fail "worker $n: no parallel plan with 2 workers"; }
	grep -A3 "Parallel Seq Scan" <<<"$plan" | grep "Output:.*anomaly_score" >/dev/null \
		|| { echo "$plan"; fail "worker $n: the scores are not computed in the parallel scan"; }
	expect "worker $n: parallel = serial on $shard" "$(qw "$n" -c "$digest")" "$(qw "$n" -c "$par" -c "$digest")"
done

# pg_cron's retrain of cm, from the distributed table; the workers follow
deadline=$((SECONDS + 90))
version=1
while [ "$SECONDS" -lt "$deadline" ]; do
	version=$(qc -c "SELECT max(version) FROM anomaly.model_versions WHERE name = 'cm'")
	[ "$version" -gt 1 ] && break
	sleep 2
done
qc -c "SELECT cron.unschedule('retrain_cm')" >/dev/null
[ "$version" -gt 1 ] || { qc -c "SELECT status, return_message FROM cron.job_run_details"; fail "pg_cron did not retrain"; }
for _ in $(seq 1 30); do	# let the job's transaction finish
	[ "$(qc -c "SELECT count(*) FROM cron.job_run_details WHERE status IN ('running', 'starting')")" = 0 ] && break
	sleep 1
done
version=$(qc -c "SELECT max(version) FROM anomaly.model_versions WHERE name = 'cm'")
expect "pg_cron's version is deployed" "$version" "$(qc -c "SELECT version FROM anomaly.model_versions WHERE name = 'cm' AND deployed")"
expect "pg_cron's job succeeded" t "$(qc -c "SELECT bool_and(status = 'succeeded') FROM cron.job_run_details")"
expect "every score of pg_cron's version, distributed = plain" true "$(same_scores cm)"

# every replicated change arrived: each worker's replica is the coordinator's catalog
versions=$(qc -c "SELECT string_agg(name || '@' || version || ':' || deployed || ':' || threshold, ',' ORDER BY name, version) FROM anomaly.model_versions")
for n in 1 2; do
	shard=$(local_shard "$n" anomaly.replica_versions)
	expect "worker $n's replica = the coordinator's catalog" "$versions" \
		"$(qw "$n" -c "SELECT string_agg(name || '@' || version || ':' || deployed || ':' || threshold, ',' ORDER BY name, version) FROM $shard")"
done

# the extension goes from every node with its replicas
qc -c "DROP TABLE tx_in" -c "DROP EXTENSION anomaly CASCADE"
for n in 1 2; do
	expect "worker $n: no anomaly after DROP EXTENSION" "0 0" \
		"$(qw "$n" -F ' ' -c "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'anomaly'),
		                             (SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'anomaly.%')")"
done
