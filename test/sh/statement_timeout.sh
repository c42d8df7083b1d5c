#!/usr/bin/env bash
# test/sh/statement_timeout.sh: a timeout stops a training inside one giant batch.
#
# One mini-batch of 8192 rows through two 1024 x 1024 layers is seconds of
# sgemm (forward and backward).  0.1.0 checked interrupts only between
# batches, so a 1 s statement_timeout fired after the batch, near the end
# of the training; the network now checks every few milliseconds of work.
# The training is first run to completion to measure its duration T; with
# the timeout it must be cancelled by the timeout, within a generous 20 s,
# and, when T is long enough to tell (T >= 2.5 s), in less than T / 2:
# most of T is the one batch, which 0.1.0 could not interrupt.
set -euo pipefail
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

psql_q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS st_src;
CREATE TABLE st_src AS
SELECT sin(i * 0.001) AS a, cos(i * 0.002) AS b, sin(i * 0.003) AS c, cos(i * 0.004) AS d
FROM generate_series(1, 8192) i;
SELECT anomaly.anomaly_drop_model('st_giant', if_exists => true);
SQL

train_sql="SELECT anomaly.anomaly_create_model('st_giant', 'st_src', options => '{\"hidden\": [1024, 1024],
    \"batch_size\": 8192, \"epochs\": 1, \"validation_fraction\": 0, \"seed\": 1}')"

start=$(date +%s%N)
psql_q -c "SET client_min_messages = warning" -c "SET maintenance_work_mem = '1GB'" \
	-c "$train_sql" >/dev/null
full=$(( ($(date +%s%N) - start) / 1000000 ))
psql_q -c "SELECT anomaly.anomaly_drop_model('st_giant')" >/dev/null
echo "the whole training takes $full ms"

out=$(mktemp)
start=$(date +%s%N)
psql -X -At -v ON_ERROR_STOP=0 >"$out" 2>&1 <<'SQL' || true
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET statement_timeout = '1s';
SELECT anomaly.anomaly_create_model('st_giant', 'st_src', options => '{"hidden": [1024, 1024],
    "batch_size": 8192, "epochs": 1, "validation_fraction": 0, "seed": 1}');
SQL
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "training ended $elapsed ms after it started (statement_timeout 1 s)"
cat "$out"

grep -q "canceling statement due to statement timeout" "$out" ||
	{ echo "not cancelled by the timeout"; exit 1; }
[ "$elapsed" -lt 20000 ] || { echo "the timeout took more than 20 s to stop the training"; exit 1; }
if [ "$full" -ge 2500 ]; then
	[ "$elapsed" -lt $((full / 2)) ] ||
		{ echo "cancelled after $elapsed ms of a $full ms training: not inside the batch"; exit 1; }
else
	echo "the training is too fast here ($full ms) to tell where the timeout fired"
fi
rows=$(psql_q -c "SELECT count(*) FROM anomaly.model_versions WHERE name = 'st_giant'")
[ "$rows" = 0 ] || { echo "a cancelled training left $rows catalog rows"; exit 1; }
psql_q -c "DROP TABLE st_src"
rm -f "$out"
echo "cancelled by the timeout inside the batch"
