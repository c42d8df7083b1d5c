#!/usr/bin/env bash
# test/sh/parallel.sh: scoring in parallel query (issue 11), in the suite's database.
#
# Under a Gather with two workers launched (EXPLAIN ANALYZE says "Workers Launched: 2", the
# leader not participating, so every row is scored in a parallel worker): per-row scores,
# flags and percentiles equal the serial ones exactly (a digest in row order), and the
# partial aggregates (count of anomalies, min and max score) equal the serial ones.
# Skips (77) when the server cannot start two parallel workers.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

if [ "$(q -c "SELECT current_setting('max_parallel_workers')::int >= 2 AND current_setting('max_worker_processes')::int >= 2")" != t ]; then
	echo "max_parallel_workers or max_worker_processes is below 2: skipping"
	exit 77
fi
cleanup() {
	q -c "SET client_min_messages = warning" -c "SELECT anomaly.anomaly_drop_model('pq', if_exists => true)" \
		-c "DROP TABLE IF EXISTS pq_tx" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

q <<'SQL'
SET client_min_messages = warning;
CREATE TABLE pq_tx AS
SELECT i AS id, sin(i * 0.01) * 10 + (i % 7) AS amount, i % 24 AS hour, i % 3 = 0 AS online,
       (ARRAY['a', 'b', 'c', 'd'])[1 + i % 4] AS shop
FROM generate_series(1, 60000) i;
ANALYZE pq_tx;
SELECT version FROM anomaly.anomaly_create_model('pq', 'pq_tx', exclude => '{id}', options => '{"seed": 4, "epochs": 2}');
SQL

par="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
     SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;"
# OFFSET 0 keeps the subquery, whose scan computes the scores (below the Gather)
rows="SELECT md5(string_agg(s, ',' ORDER BY id)) FROM (
        SELECT id, concat_ws(' ', anomaly.anomaly_score('pq', t), anomaly.anomaly_is_anomaly('pq', t),
                             anomaly.anomaly_percentile('pq', t)) AS s
        FROM pq_tx t OFFSET 0) x"
aggs="SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('pq', t)), min(anomaly.anomaly_score('pq', t)),
             max(anomaly.anomaly_score('pq', t)) FROM pq_tx t"

plan=$(q -c "$par" -c "EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) $rows")
grep -q "Workers Launched: 2" <<<"$plan" || { echo "$plan"; fail "rows: no Gather with 2 workers launched"; }
grep -A3 "Parallel Seq Scan" <<<"$plan" | grep "Output:.*anomaly_score" >/dev/null \
	|| { echo "$plan"; fail "rows: the scores are not computed in the parallel scan"; }
echo "ok: rows are scored in a Parallel Seq Scan with 2 workers launched"
expect "parallel scores, flags and percentiles = serial" "$(q -c "$rows")" "$(q -c "$par" -c "$rows")"

plan=$(q -c "$par" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $aggs")
grep -q "Workers Launched: 2" <<<"$plan" || { echo "$plan"; fail "aggregates: no Gather with 2 workers launched"; }
grep -q "Partial Aggregate" <<<"$plan" || { echo "$plan"; fail "aggregates: no partial aggregate in the workers"; }
echo "ok: aggregates of scores are partial aggregates in 2 workers"
expect "parallel aggregates = serial" "$(q -c "$aggs")" "$(q -c "$par" -c "$aggs")"
