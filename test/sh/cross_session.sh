#!/usr/bin/env bash
# test/sh/cross_session.sh: a retrain in another session is used by the next query.
#
# One session scores a row (decoding and caching the model in its backend),
# a second session trains a new version with replace => true, and the first
# session's next query must score with the new version, with no reconnect.
# The same for a threshold set in another session.
set -euo pipefail
out=$(psql -X -q -v ON_ERROR_STOP=1 -At <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS xs;
CREATE TABLE xs AS SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 AS b FROM generate_series(1, 1000) i;
SELECT anomaly.anomaly_drop_model('xs', if_exists => true);
SELECT version FROM anomaly.anomaly_create_model('xs', 'xs', method => 'autoencoder', exclude => '{id}', options => '{"seed": 1, "epochs": 2}');
SELECT pg_backend_pid() AS pid_before \gset
SELECT anomaly.anomaly_score('xs', x) AS before FROM xs x WHERE id = 7 \gset
\! psql -X -q -At -c "SET client_min_messages = warning" -c "SELECT 'retrained version ' || version FROM anomaly.anomaly_create_model('xs', 'xs', method => 'autoencoder', exclude => '{id}', options => '{\"seed\": 2, \"epochs\": 2}', replace => true)"
SELECT CASE WHEN pg_backend_pid() = :pid_before THEN 'same backend' ELSE 'reconnected' END;
SELECT CASE WHEN anomaly.anomaly_score('xs', x) <> :before THEN 'new version used' ELSE 'stale model used' END FROM xs x WHERE id = 7;
SELECT CASE WHEN anomaly.anomaly_score('xs', x) = anomaly.anomaly_score('xs', ARRAY[x.a, x.b]) THEN 'consistent' ELSE 'inconsistent' END FROM xs x WHERE id = 7;
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('xs', x)) < 1000 AS some_normal FROM xs x;
\! psql -X -q -At -c "SELECT 'threshold ' || threshold FROM anomaly.anomaly_set_threshold('xs', -1)"
SELECT CASE WHEN count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('xs', x)) = 1000 THEN 'new threshold used' ELSE 'stale threshold used' END FROM xs x;
SELECT anomaly.anomaly_drop_model('xs');
DROP TABLE xs;
SQL
)
echo "$out"
echo "$out" | grep -q '^retrained version 2$'
echo "$out" | grep -q '^same backend$'
echo "$out" | grep -q '^new version used$'
echo "$out" | grep -q '^consistent$'
echo "$out" | grep -q '^threshold -1$'
echo "$out" | grep -q '^new threshold used$'
