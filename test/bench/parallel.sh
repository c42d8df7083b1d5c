#!/usr/bin/env bash
# test/bench/parallel.sh: scoring with 0, 1 and 2 parallel workers, on one server and on each
# worker of a Citus cluster (issue 11).  As root, with the extension installed; starts its own
# clusters (Unix sockets, as postgres) and stops them on exit.  Run under the suite's lock.
#
#   test/bench/parallel.sh [rows]     (default 400000)
#
# The table: rows of 8 numbers, a boolean and a text column (one-hot over 4 values); the
# model: the autoencoder, 2 epochs (the training does not matter here, the scoring does).
# Timed: SELECT sum(anomaly.anomaly_score('m', t)) FROM tx t (and, for the machine's own
# scaling, a sum of the columns), best of 3 wall times, with
# max_parallel_workers_per_gather = 0, 1, 2 (parallel costs set to 0 so that the plan uses
# them; the leader participates, as by default).  On Citus the table has 2 shards, one per
# worker; each worker's shard is timed on that worker alone, then the whole pushed-down
# query on the coordinator with the workers at 0, 1, 2 (ALTER SYSTEM on the workers).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
rows=${1:-400000}

timed() {	# timed QUERY COMMAND...: best of 3 wall times in ms of QUERY in psql COMMAND
	local query=$1 best= t
	shift
	for _ in 1 2 3; do
		t=$("$@" -c '\timing on' -c "$query" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		best=$(awk -v a="$t" -v b="${best:-$t}" 'BEGIN {print (a < b ? a : b)}')
	done
	echo "$best"
}
force="SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
table_sql() {	# the table, as $1 (a plain table, or distributed if $2 is set)
	cat <<SQL
SET client_min_messages = warning;
CREATE TABLE $1 (id bigint, a1 float8, a2 float8, a3 float8, a4 float8, a5 float8, a6 float8,
                 a7 float8, a8 float8, online boolean, shop text);
${2:-}
INSERT INTO $1 SELECT i, sin(i * 0.001), cos(i * 0.002), sin(i * 0.003) * 2, (i % 100) / 10.0,
       sqrt(i % 1000), ln(1 + i % 77), (i % 13) * 0.5, sin(i) * 0.1, i % 3 = 0,
       (ARRAY['a', 'b', 'c', 'd'])[1 + i % 4]
FROM generate_series(1, $rows) i;
VACUUM ANALYZE $1;
SELECT version FROM anomaly.anomaly_create_model('m', '$1', method => 'autoencoder', exclude => '{id}',
       options => '{"seed": 1, "epochs": 2, "max_rows": 50000}');
SQL
}
report() {	# report LABEL MS0 MS1 MS2
	awk -v l="$1" -v n="$5" -v a="$2" -v b="$3" -v c="$4" 'BEGIN {
		printf "%-34s %8.0f ms %8.0f ms %8.0f ms   %5.2fx %5.2fx   %9.0f rows/s at 2\n",
			l, a, b, c, a / b, a / c, n / (c / 1000) }'
}

echo "$(date -u +%F) load average$(uptime | sed 's/.*load average//'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), $rows rows"
printf '%-34s %11s %11s %11s   %6s %6s\n' "" "0 workers" "1 worker" "2 workers" "x1" "x2"

# one server
port=$(random_port)
single=$(node_dir bench)
CITUS_DIRS=()
cleanup() { node_stop "$single"; rm -rf "$single"; citus_stop; }
trap cleanup EXIT
node_init "$single" "$port" "max_worker_processes = 8
max_parallel_workers = 4
shared_buffers = 256MB"
node_start "$single"
qs() { psql -X -q -v ON_ERROR_STOP=1 -At -h "$single" -p "$port" -U postgres -d postgres "$@"; }
qs -c "CREATE EXTENSION anomaly" >/dev/null
table_sql tx | qs >/dev/null
score="SELECT sum(anomaly.anomaly_score('m', t)) FROM tx t"
ms=()
for w in 0 1 2; do
	ms+=("$(timed "$score" qs -c "$force SET max_parallel_workers_per_gather = $w;")")
done
report "one server" "${ms[@]}" "$rows"
# what parallel query gives this machine with no scoring at all
ms=()
for w in 0 1 2; do
	ms+=("$(timed "SELECT sum(a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8) FROM tx t" qs -c "$force SET max_parallel_workers_per_gather = $w;")")
done
report "one server, no scoring (a sum)" "${ms[@]}" "$rows"
# what each parallel worker pays before its first row: a new backend's first score
cold="SELECT anomaly.anomaly_score('m', t) FROM tx t LIMIT 1"
printf '%-34s %8.1f ms\n' "one server, first score of a backend" "$(timed "$cold" qs)"
node_stop "$single"

if ! citus_installed; then
	echo "Citus is not installed: no Citus figures"
	exit 0
fi
citus_start
qc -c "CREATE EXTENSION anomaly" >/dev/null
table_sql tx "SET citus.shard_count = 2; SELECT create_distributed_table('tx', 'id');" | qc >/dev/null
qc -c "SELECT anomaly.anomaly_distribute_catalog()" >/dev/null
for n in 1 2; do
	shard=$(qw "$n" -c "SELECT 'tx_' || s.shardid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
	                    WHERE s.logicalrelid = 'tx'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_local_group)")
	shard_rows=$(qw "$n" -c "SELECT count(*) FROM $shard")
	ms=()
	for w in 0 1 2; do
		ms+=("$(timed "SELECT sum(anomaly.anomaly_score('m', t)) FROM $shard t" \
			qw "$n" -c "$force SET max_parallel_workers_per_gather = $w;")")
	done
	report "Citus worker $n, its shard" "${ms[@]}" "$shard_rows"
	printf '%-34s %8.1f ms\n' "Citus worker $n, first score" \
		"$(timed "SELECT anomaly.anomaly_score('m', t) FROM $shard t LIMIT 1" qw "$n")"
done
ms=()
for w in 0 1 2; do
	for n in 1 2; do
		qw "$n" -c "ALTER SYSTEM SET max_parallel_workers_per_gather = $w" \
			-c "ALTER SYSTEM SET parallel_setup_cost = 0" -c "ALTER SYSTEM SET parallel_tuple_cost = 0" \
			-c "ALTER SYSTEM SET min_parallel_table_scan_size = 0" -c "SELECT pg_reload_conf()" >/dev/null
	done
	# Citus keeps its connections to the workers: a new session gets new ones, which read the reloaded settings
	ms+=("$(timed "$score" qc)")
done
report "Citus, the query on the coordinator" "${ms[@]}" "$rows"
