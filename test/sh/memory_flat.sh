#!/usr/bin/env bash
# test/sh/memory_flat.sh: a backend's memory stays flat while it scores many rows and runs many
# one-row queries (issue 8).
#
# One session (one backend) scores, after a warm-up, MEMORY_ROWS rows (default 4M: about 20 s
# on the 2-core test machine; MEMORY_ROWS=10000000 for the full figure, see docs/security.md)
# in one query (generate_series in the select list, streamed, no stored table), then 100k
# one-row SELECTs sent by the client, then 100k one-row scorings in a PL/pgSQL loop (each a new
# executor run, so a new catalog lookup and cache validation, all in one transaction), then
# the same through the planner's column form of a table's whole row (anomaly_score_columns):
# MEMORY_ROWS rows of the table crossed with a series, and 20k one-row queries.  After
# each phase it reads its own RssAnon from /proc/<pid>/status (anonymous memory: the shared
# buffers it touches are not counted), its peak RSS (VmHWM: memory used and freed within a
# query, such as a per-row leak into the query's context, shows there) and the total of
# pg_backend_memory_contexts; none may grow by more than 10 MB over the warm-up's.  Nothing is timed.  JIT is off: PostgreSQL's
# LLVM JIT, which a query of millions of rows triggers, adds about 10 MB of its own once
# (measured: the same query without any anomaly function does it too).
set -euo pipefail
rows=${MEMORY_ROWS:-4000000}
bound_kb=10240
work=$(mktemp -d)
cleanup() {
	psql -X -q -c "SELECT anomaly.anomaly_drop_model('mf_model', if_exists => true)" -c "DROP TABLE IF EXISTS mf_src" \
		>/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS mf_src;
CREATE TABLE mf_src AS
SELECT g * 0.01 AS x, (g % 24)::float8 AS y, (ARRAY['a', 'b', 'c'])[1 + g % 3] AS c
FROM generate_series(1, 2000) g;
SELECT anomaly.anomaly_drop_model('mf_model', if_exists => true);
SELECT version FROM anomaly.anomaly_create_model('mf_model', 'mf_src', options => '{"seed": 1, "epochs": 2}');
SQL

measure() {	# a line "mem PHASE RSSANON_KB CONTEXT_BYTES VMHWM_KB"
	cat <<SQL
SELECT 'mem $1 ' || substring(s from 'RssAnon:\s*(\d+)')
       || ' ' || (SELECT sum(total_bytes) FROM pg_backend_memory_contexts)
       || ' ' || substring(s from 'VmHWM:\s*(\d+)')
FROM pg_read_file('/proc/' || pg_backend_pid() || '/status') AS s;
SQL
}
one_row_queries() {	# $1 statements, each scoring one row
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "SELECT anomaly.anomaly_score(%cmf_model%c, ROW(%d * 0.01, %d, %c%s%c)::mf_src) > 0;\n",
			39, 39, i, i % 24, 39, substr("abcd", 1 + i % 4, 1), 39 }'
}
score_rows() {	# one query scoring $1 generated rows; prints the count scored
	cat <<SQL
SELECT 'scored ' || count(s) FROM (
    SELECT anomaly.anomaly_score('mf_model', ROW(g * 0.01, g % 24, (ARRAY['a', 'b', 'c', 'd'])[1 + g % 4])::mf_src) AS s
    FROM (SELECT generate_series(1, $1) AS g) q) z;
SQL
}
# the planner's column form (anomaly_score_columns) of a table's whole row:
# $1 rows, the table crossed with a series
score_table_rows() {
	cat <<SQL
SELECT 'scored_columns ' || count(anomaly.anomaly_score('mf_model', t))
FROM mf_src t CROSS JOIN generate_series(1, $(($1 / 2000))) g;
SQL
}
table_row_queries() {	# $1 statements, each scoring one row of the table in the column form
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "SELECT anomaly.anomaly_score(%cmf_model%c, t) > 0 FROM mf_src t LIMIT 1;\n", 39, 39 }'
}
plan=$(psql -X -q -At -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT anomaly.anomaly_score('mf_model', t) FROM mf_src t CROSS JOIN generate_series(1, 2) g")
grep -q "anomaly_score_columns" <<<"$plan" || { echo "$plan"; echo "the column form is not used"; exit 1; }
{
	echo "SET client_min_messages = warning;"
	# LLVM's JIT, which a query of millions of rows triggers, keeps about 10 MB once loaded
	echo "SET jit = off;"
	# warm-up: the model decoded and cached, plans prepared, every path run once
	score_rows 200000
	one_row_queries 10000
	echo "DO \$\$ BEGIN FOR i IN 1..10000 LOOP PERFORM anomaly.anomaly_score('mf_model', ROW(i, i % 24, 'a')::mf_src); END LOOP; END \$\$;"
	score_table_rows 200000
	table_row_queries 2000
	measure warm
	score_rows "$rows"
	measure rows
	one_row_queries 100000
	measure queries
	echo "DO \$\$ BEGIN FOR i IN 1..100000 LOOP PERFORM anomaly.anomaly_score('mf_model', ROW(i, i % 24, 'b')::mf_src); END LOOP; END \$\$;"
	measure loop
	score_table_rows "$rows"
	measure columns
	table_row_queries 20000
	measure column_queries
} >"$work/script.sql"

psql -X -q -At -v ON_ERROR_STOP=1 -f "$work/script.sql" | grep -E '^(mem|scored|scored_columns) ' >"$work/out.txt"
cat "$work/out.txt"
grep -qx "scored $rows" "$work/out.txt" || { echo "expected $rows rows scored"; exit 1; }
grep -qx "scored_columns $(($rows / 2000 * 2000))" "$work/out.txt" || { echo "expected $rows table rows scored"; exit 1; }
[ "$(grep -c '^mem ' "$work/out.txt")" = 6 ] || { echo "missing measurements"; exit 1; }
read -r _ _ rss0 cxt0 hwm0 < <(grep '^mem warm ' "$work/out.txt")
status=0
while read -r _ phase rss cxt hwm; do
	drss=$((rss - rss0))
	dcxt=$(((cxt - cxt0) / 1024))
	dhwm=$((hwm - hwm0))
	echo "$phase: RssAnon +${drss} kB, memory contexts +${dcxt} kB, peak RSS +${dhwm} kB (bound ${bound_kb} kB)"
	if [ "$drss" -gt "$bound_kb" ] || [ "$dcxt" -gt "$bound_kb" ] || [ "$dhwm" -gt "$bound_kb" ]; then
		echo "memory grew during $phase"
		status=1
	fi
done < <(grep '^mem ' "$work/out.txt" | grep -v '^mem warm ')
exit $status
