#!/usr/bin/env bash
# test/sh/name_lock.sh: no advisory lock stalls model creation.
#
# 0.1.0 serialised model creation on an advisory lock whose key any role
# could compute and hold.  A second session holds that very key (and the
# same key for the name) in an open transaction; creating the model must
# still succeed within lock_timeout (5 s).  Creation now locks an object
# no SQL statement can lock.
set -euo pipefail
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

psql_q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS nl_src;
CREATE TABLE nl_src AS SELECT sin(i * 0.1) AS a, cos(i * 0.1) AS b FROM generate_series(1, 300) i;
SELECT anomaly.anomaly_drop_model('nl_model', if_exists => true);
SQL

# the squatter: holds the old keys for 30 s unless killed
psql -X -q -At -c "SET application_name = 'anomaly_squatter'" \
	-c "SELECT pg_advisory_lock(1634625900, pg_catalog.hashtext('nl_model')), pg_advisory_lock(1634625900), pg_sleep(30)" \
	>/dev/null 2>&1 &
squatter=$!
trap 'kill $squatter 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
	held=$(psql_q -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND a.application_name = 'anomaly_squatter' AND l.granted")
	[ "$held" -ge 2 ] && break
	sleep 0.1
done
[ "$held" -ge 2 ] || { echo "the squatter never took its locks"; exit 1; }

out=$(psql -X -At -v ON_ERROR_STOP=1 2>&1 <<'SQL'
SET client_min_messages = warning;
SET lock_timeout = '5s';
SELECT 'created version ' || version FROM anomaly.anomaly_create_model('nl_model', 'nl_src', options => '{"epochs": 1}');
SELECT anomaly.anomaly_drop_model('nl_model');
SQL
) || true
echo "$out"
kill $squatter 2>/dev/null || true
psql_q -c "DROP TABLE nl_src"
echo "$out" | grep -q '^created version 1$' || { echo "model creation was blocked by the advisory lock"; exit 1; }
echo "not blocked by a squatted advisory lock"
