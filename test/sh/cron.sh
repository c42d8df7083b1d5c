#!/usr/bin/env bash
# test/sh/cron.sh: pg_cron retrains a model on schedule, for real.
#
# Needs a server with shared_preload_libraries = 'pg_cron',
# cron.use_background_workers = on and cron.database_name set to this
# database (scripts/test.sh starts its cluster so); skips (77) otherwise.
# Schedules SELECT anomaly.anomaly_retrain('cronm') every minute (pg_cron 1.4 has
# no schedules in seconds), waits at most 90 s for the new version, and
# checks it is deployed and that cron.job_run_details records a succeeded
# run.
set -euo pipefail
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

if ! q -c "SHOW shared_preload_libraries" | grep -q pg_cron; then
	echo "pg_cron is not in shared_preload_libraries: skipping"
	exit 77
fi
if [ "$(q -c "SHOW cron.database_name")" != "$(q -c "SELECT current_database()")" ]; then
	echo "cron.database_name is not this database: skipping"
	exit 77
fi

cleanup() {
	q >/dev/null 2>&1 <<'SQL' || true
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'anomaly_retrain_cronm';
SQL
	# let a run in progress finish before the model goes
	for _ in $(seq 1 30); do
		[ "$(q -c "SELECT count(*) FROM cron.job_run_details WHERE status IN ('running', 'starting') AND command LIKE '%cronm%'" 2>/dev/null || echo 0)" = 0 ] && break
		sleep 1
	done
	q -c "SET client_min_messages = warning" -c "SELECT anomaly.anomaly_drop_model('cronm', if_exists => true)" \
		-c "DROP TABLE IF EXISTS cron_tx" >/dev/null 2>&1 || true
}
trap cleanup EXIT

q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
DROP TABLE IF EXISTS cron_tx;
CREATE TABLE cron_tx AS
SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b, now() - i * interval '1 hour' AS at
FROM generate_series(1, 800) i;
SELECT anomaly.anomaly_drop_model('cronm', if_exists => true);
-- a sliding window: each retrain reads the last 30 days
SELECT 'trained ' || version FROM anomaly.anomaly_create_model('cronm',
    $$SELECT a, b FROM cron_tx WHERE at > now() - interval '30 days'$$,
    options => '{"epochs": 2, "seed": 1}');
SELECT 'scheduled ' || (cron.schedule('anomaly_retrain_cronm', '* * * * *',
    $$SET anomaly.progress = log; SELECT anomaly.anomaly_retrain('cronm')$$) > 0);
SQL

deadline=$((SECONDS + 90))
version=1
while [ "$SECONDS" -lt "$deadline" ]; do
	version=$(q -c "SELECT max(version) FROM anomaly.models WHERE name = 'cronm'")
	[ "$version" -ge 2 ] && break
	sleep 2
done
echo "latest version after $((SECONDS - deadline + 90)) s: $version"
[ "$version" -ge 2 ] || { q -c "SELECT status, return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 5"; exit 1; }

out=$(q <<'SQL'
SELECT 'deployed ' || version FROM anomaly.models WHERE name = 'cronm' AND deployed;
SELECT 'succeeded ' || (count(*) > 0) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
WHERE j.jobname = 'anomaly_retrain_cronm' AND d.status = 'succeeded';
SELECT 'same source ' || (count(DISTINCT source) = 1) FROM anomaly.model_versions WHERE name = 'cronm';
SELECT 'scores ' || (anomaly.anomaly_score('cronm', c) IS NOT NULL) FROM cron_tx c WHERE id = 1;
SQL
)
echo "$out"
echo "$out" | grep -qx "deployed [0-9]*" && [ "$(echo "$out" | sed -n 's/^deployed //p')" -ge 2 ]
echo "$out" | grep -qx "succeeded true"
echo "$out" | grep -qx "same source true"
echo "$out" | grep -qx "scores true"
