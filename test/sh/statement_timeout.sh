#!/usr/bin/env bash
# test/sh/statement_timeout.sh: a timeout stops a training inside one giant batch.
#
# One mini-batch of 8192 rows through two 1024 x 1024 layers is seconds of
# sgemm (forward and backward).  0.1.0 checked interrupts only between
# batches, so a 1 s statement_timeout fired after the batch; the network
# now checks every few milliseconds of work.  The test asserts that the
# training was cancelled by the timeout and left no catalog row; the
# elapsed time is printed, and only a generous bound (20 s) is asserted.
set -euo pipefail
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

psql_q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS st_src;
CREATE TABLE st_src AS
SELECT sin(i * 0.001) AS a, cos(i * 0.002) AS b, sin(i * 0.003) AS c, cos(i * 0.004) AS d
FROM generate_series(1, 8192) i;
SELECT anomaly_drop_model('st_giant', if_exists => true);
SQL

out=$(mktemp)
start=$(date +%s%N)
psql -X -At -v ON_ERROR_STOP=0 >"$out" 2>&1 <<'SQL' || true
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET statement_timeout = '1s';
SELECT anomaly_create_model('st_giant', 'st_src', options => '{"hidden": [1024, 1024],
    "batch_size": 8192, "epochs": 1, "validation_fraction": 0, "seed": 1}');
SQL
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
echo "training ended $elapsed ms after it started (statement_timeout 1 s)"
cat "$out"

grep -q "canceling statement due to statement timeout" "$out" ||
	{ echo "not cancelled by the timeout"; exit 1; }
[ "$elapsed" -lt 20000 ] || { echo "the timeout took more than 20 s to stop the training"; exit 1; }
rows=$(psql_q -c "SELECT count(*) FROM anomaly.model_versions WHERE name = 'st_giant'")
[ "$rows" = 0 ] || { echo "a cancelled training left $rows catalog rows"; exit 1; }
psql_q -c "DROP TABLE st_src"
rm -f "$out"
echo "cancelled by the timeout inside the batch"
