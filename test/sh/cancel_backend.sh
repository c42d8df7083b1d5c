#!/usr/bin/env bash
# test/sh/cancel_backend.sh: pg_cancel_backend stops a training cleanly.
#
# One session trains on a table large enough to take minutes; another
# cancels it with pg_cancel_backend once it is running.  The training must
# end with "canceling statement due to user request", leave no catalog
# row, and the server must keep serving.
set -euo pipefail
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

psql_q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS cancel_src;
CREATE TABLE cancel_src AS
SELECT sin(i * 0.001) AS a, cos(i * 0.002) AS b FROM generate_series(1, 200000) i;
SELECT anomaly.anomaly_drop_model('cancel_me', if_exists => true);
SQL

out=$(mktemp)
psql -X -At -c "SET application_name = 'anomaly_cancel_test'" \
	-c "SELECT anomaly.anomaly_create_model('cancel_me', 'cancel_src', options => '{\"epochs\": 100000, \"early_stopping_patience\": 0}')" \
	>"$out" 2>&1 &
trainer=$!

# wait for the training query to be active
for _ in $(seq 1 100); do
	pid=$(psql_q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'anomaly_cancel_test' AND query LIKE '%anomaly_create_model%' AND state = 'active'")
	[ -n "$pid" ] && break
	sleep 0.1
done
[ -n "$pid" ] || { echo "training never started"; cat "$out"; exit 1; }
sleep 1	# let it get into the epochs

start=$(date +%s%N)
[ "$(psql_q -c "SELECT pg_cancel_backend($pid)")" = t ] || { echo "could not signal $pid"; exit 1; }
# a guard against a hang, not a timing assertion
for _ in $(seq 1 600); do
	kill -0 "$trainer" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$trainer" 2>/dev/null; then
	echo "training still running 60 s after the cancel"
	kill "$trainer"
	exit 1
fi
wait "$trainer" || true
echo "training ended $(( ($(date +%s%N) - start) / 1000000 )) ms after the cancel"

grep -q "canceling statement due to user request" "$out" || { echo "unexpected output:"; cat "$out"; exit 1; }
rows=$(psql_q -c "SELECT count(*) FROM anomaly.model_versions WHERE name = 'cancel_me'")
[ "$rows" = 0 ] || { echo "a cancelled training left $rows catalog rows"; exit 1; }
psql_q -c "DROP TABLE cancel_src"
rm -f "$out"
echo "cancelled cleanly"
