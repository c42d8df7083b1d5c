#!/usr/bin/env bash
# test/sh/concurrency.sh: scoring and the trigger under concurrent retrain, deploy, threshold
# changes and drop (pgbench, 8 clients), then SIGKILL of a training backend (issue 8).
#
# Phase 1 (about 20 s): 8 pgbench clients each insert a row into a table whose
# anomaly_flag_trigger scores it with model cc_model, and score a row with anomaly_score, in
# one transaction, while one session retrains the model (each retrain deploys a new version),
# one deploys random versions and one sets random thresholds.  No error may occur anywhere.
# Then every version's score of every possible row is computed with 'cc_model@N' (shadow
# scoring): each stored score must equal one of them exactly.
# Phase 2 (about 8 s): the same clients while versions are deployed and thresholds set, and
# the model is dropped (force) halfway: the only error allowed, in pgbench and in the other
# sessions, is the documented 'model "cc_model" does not exist'.  The table then holds exactly
# as many rows as pgbench committed transactions in both phases, none twice, each scored by
# one of the versions.
# SIGKILL: a retrain of ck_model is killed with kill -9 (not pg_terminate_backend); the
# server goes through crash recovery and accepts connections again, and the catalog is
# consistent: no partial version, one deployed version per name, every name with versions
# and every version with a name, and the deployed version scores as before.
set -euo pipefail
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench || true)
[ -n "$PGBENCH" ] || { echo "pgbench not found"; exit 77; }
work=$(mktemp -d)
bg_pids=()
cleanup() {
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql -X -q -c "SELECT anomaly.anomaly_drop_model(n, if_exists => true, force => true) FROM unnest(ARRAY['cc_model', 'ck_model']) n" \
		-c "DROP TABLE IF EXISTS cc_in, cc_src, cc_expected, ck_src" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

q <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS cc_in, cc_src, cc_expected, ck_src;
SELECT anomaly.anomaly_drop_model(n, if_exists => true, force => true) FROM unnest(ARRAY['cc_model', 'ck_model']) n;
CREATE TABLE cc_src AS
SELECT a * 0.1 AS x, (a % 24)::float8 AS y, (ARRAY['p', 'q', 'r'])[1 + a % 3] AS c
FROM generate_series(1, 1000) a, generate_series(1, 2) r;
SELECT version FROM anomaly.anomaly_create_model('cc_model', 'cc_src', method => 'autoencoder',
    options => '{"seed": 1, "epochs": 2}');
CREATE TABLE cc_in (id bigserial PRIMARY KEY, client int NOT NULL, a int NOT NULL,
                    x float8, y float8, c text, score float8, flag boolean);
CREATE TRIGGER cc_flag BEFORE INSERT ON cc_in
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('cc_model', 'score', 'flag');
SQL
cat >"$work/client.sql" <<'EOF2'
\set a random(1, 1000)
BEGIN;
INSERT INTO cc_in (client, a, x, y, c) VALUES (:client_id, :a, :a * 0.1, :a % 24, (ARRAY['p', 'q', 'r'])[1 + :a % 3]);
SELECT anomaly.anomaly_score('cc_model', ROW(:a * 0.1, :a % 24, (ARRAY['p', 'q', 'r'])[1 + :a % 3])::cc_src);
COMMIT;
EOF2

# background sessions: loop a statement until a stop file exists; errors go to their log
loop() {	# loop NAME SLEEP SQL
	local name=$1 pause=$2 sql=$3 i=0
	while [ ! -e "$work/stop" ]; do
		i=$((i + 1))
		psql -X -q -At -v i="$i" -c "SET client_min_messages = warning" -c "$sql" \
			>>"$work/$name.out" 2>>"$work/$name.err" || true
		sleep "$pause"
	done
}
start_loops() {
	rm -f "$work/stop"
	bg_pids=()
	for spec in "$@"; do
		case $spec in
			retrain) loop retrain 0.2 "SELECT version FROM anomaly.anomaly_retrain('cc_model', jsonb_build_object('seed', (random() * 1e6)::int, 'epochs', 2))" & ;;
			deploy) loop deploy 0.2 "SELECT version FROM anomaly.anomaly_deploy('cc_model', (SELECT version FROM anomaly.models WHERE name = 'cc_model' ORDER BY random() LIMIT 1))" & ;;
			threshold) loop threshold 0.1 "SELECT version FROM anomaly.anomaly_set_threshold('cc_model', random() * 2)" & ;;
		esac
		bg_pids+=($!)
	done
}
stop_loops() {
	touch "$work/stop"
	for p in "${bg_pids[@]}"; do wait "$p" || true; done
	bg_pids=()
}
processed() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$1"; }

echo "phase 1: 8 clients for 20 s with retrain, deploy and set_threshold"
start_loops retrain deploy threshold
rc=0
"$PGBENCH" -n -c 8 -j 2 -T 20 -f "$work/client.sql" >"$work/bench1.out" 2>"$work/bench1.err" || rc=$?
stop_loops
n1=$(processed "$work/bench1.out")
echo "pgbench: $n1 transactions, exit $rc; retrains $(wc -l <"$work/retrain.out"), deploys $(wc -l <"$work/deploy.out"), thresholds $(wc -l <"$work/threshold.out")"
if [ "$rc" != 0 ] || grep -q . "$work/bench1.err" "$work/retrain.err" "$work/deploy.err" "$work/threshold.err"; then
	echo "errors in phase 1:"; cat "$work"/*.err | head -20; exit 1
fi
[ "$(wc -l <"$work/retrain.out")" -ge 3 ] || { echo "too few retrains to test anything"; exit 1; }
[ "$n1" -gt 100 ] || { echo "too few transactions"; exit 1; }

# every version's score of every possible row (versions are frozen from here on)
q <<'SQL' >"$work/versions.txt"
CREATE TABLE cc_expected AS
SELECT a, v.version, anomaly.anomaly_score('cc_model@' || v.version,
                                   ROW(a * 0.1, a % 24, (ARRAY['p', 'q', 'r'])[1 + a % 3])::cc_src) AS score
FROM generate_series(1, 1000) a, (SELECT version FROM anomaly.models WHERE name = 'cc_model') v;
SELECT count(DISTINCT version) FROM cc_expected;
SQL
echo "$(cat "$work/versions.txt") versions"
check_scores() {
	q <<'SQL'
SELECT count(*) FROM cc_in i
WHERE i.score IS NULL
   OR NOT EXISTS (SELECT FROM cc_expected e WHERE e.a = i.a AND e.score = i.score);
SQL
}
bad=$(check_scores)
[ "$bad" = 0 ] || { echo "$bad rows scored by no version"; exit 1; }
# the check can fail: a score of another row is no version's score of this one
[ "$(q -c "SELECT count(*) FROM cc_expected e1 JOIN cc_expected e2 ON e1.a = e2.a + 1 AND e1.score = e2.score")" -lt 10 ]

echo "phase 2: 8 clients for 8 s with deploy and set_threshold, the model dropped after 4 s"
rm -f "$work"/*.err
start_loops deploy threshold
rc=0
"$PGBENCH" -n -c 8 -j 2 -T 8 -f "$work/client.sql" >"$work/bench2.out" 2>"$work/bench2.err" &
bench=$!
sleep 4
q -c "SET client_min_messages = error" -c "SELECT anomaly.anomaly_drop_model('cc_model', force => true)" >/dev/null
echo "dropped"
wait "$bench" || rc=$?
stop_loops
n2=$(processed "$work/bench2.out")
echo "pgbench: $n2 transactions, exit $rc"
errors=$(cat "$work"/*.err | grep -E 'ERROR' || true)
others=$(echo "$errors" | grep -v 'ERROR:  model "cc_model" does not exist' | grep . || true)
if [ -n "$others" ]; then
	echo "errors other than the documented one:"; echo "$others" | head -20; exit 1
fi
[ -n "$errors" ] || { echo "no client saw the drop"; exit 1; }
echo "after the drop: $(echo "$errors" | wc -l) errors, all 'model \"cc_model\" does not exist'"

rows=$(q -c "SELECT count(*) || ' ' || count(DISTINCT id) FROM cc_in")
echo "rows: $rows, committed transactions: $((n1 + n2))"
[ "$rows" = "$((n1 + n2)) $((n1 + n2))" ] || { echo "lost or duplicated rows"; exit 1; }
bad=$(check_scores)
[ "$bad" = 0 ] || { echo "$bad rows scored by no version"; exit 1; }
echo "every stored score is one of the versions' scores of its row"

echo "SIGKILL of a training backend"
q <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE TABLE ck_src AS SELECT g * 0.001 AS x, (g % 97)::float8 AS y FROM generate_series(1, 50000) g;
SELECT version FROM anomaly.anomaly_create_model('ck_model', 'ck_src', method => 'autoencoder',
    options => '{"seed": 1, "epochs": 1}');
SQL
before=$(q -c "SELECT string_agg(anomaly.anomaly_score('ck_model', s)::text, ',') FROM (SELECT * FROM ck_src ORDER BY x LIMIT 20) s")
PGAPPNAME=ck_train psql -X -q -c "SET client_min_messages = warning" \
	-c "SELECT anomaly.anomaly_retrain('ck_model', '{\"epochs\": 1000, \"hidden\": [256, 256]}')" \
	>"$work/train.out" 2>&1 &
train=$!
pid=
for _ in $(seq 1 100); do
	pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'ck_train' AND query LIKE '%anomaly_retrain%' AND state = 'active'")
	[ -n "$pid" ] && break
	sleep 0.1
done
[ -n "$pid" ] || { echo "the training did not start"; cat "$work/train.out"; exit 1; }
sleep 2
kill -0 "$train" 2>/dev/null || { echo "the training ended before the kill"; cat "$work/train.out"; exit 1; }
kill -9 "$pid"
wait "$train" || true
echo "killed backend $pid: $(grep -o 'server closed the connection unexpectedly' "$work/train.out" | head -1)"
up=
for _ in $(seq 1 120); do
	if psql -X -q -At -c "SELECT 1" >/dev/null 2>&1; then up=1; break; fi
	sleep 0.5
done
[ -n "$up" ] || { echo "the server did not come back"; exit 1; }
echo "server accepts connections again"
out=$(q <<'SQL'
SELECT 'ck versions ' || count(*) || ' deployed ' || count(*) FILTER (WHERE deployed)
FROM anomaly.model_versions WHERE name = 'ck_model';
SELECT 'names without versions ' || count(*) FROM anomaly.model_names n
WHERE NOT EXISTS (SELECT FROM anomaly.model_versions v WHERE v.name = n.name);
SELECT 'versions without names ' || count(*) FROM anomaly.model_versions v
WHERE NOT EXISTS (SELECT FROM anomaly.model_names n WHERE n.name = v.name);
SELECT 'names not deployed once ' || count(*) FROM (
    SELECT name FROM anomaly.model_versions GROUP BY name HAVING count(*) FILTER (WHERE deployed) <> 1) d;
SQL
)
echo "$out"
echo "$out" | grep -qx "ck versions 1 deployed 1"
echo "$out" | grep -qx "names without versions 0"
echo "$out" | grep -qx "versions without names 0"
echo "$out" | grep -qx "names not deployed once 0"
after=$(q -c "SELECT string_agg(anomaly.anomaly_score('ck_model', s)::text, ',') FROM (SELECT * FROM ck_src ORDER BY x LIMIT 20) s")
[ "$before" = "$after" ] || { echo "the deployed version scores differently after recovery"; exit 1; }
echo "the deployed version scores as before"
