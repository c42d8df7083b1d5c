#!/usr/bin/env bash
# test/sh/cache_evict.sh: a dropped model leaves no decoded copy behind.
#
# One session scores a model (its backend decodes and caches it, in a
# memory context named after the model), a second session drops the model,
# and the first session's next score fails with "does not exist": that
# failed lookup must evict the cached copy, whose memory context is then
# gone from pg_backend_memory_contexts.  Before the fix the entry stayed
# for the life of the backend, whatever its size.
set -euo pipefail
out=$(psql -X -q -At 2>&1 <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS ce;
CREATE TABLE ce AS SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b FROM generate_series(1, 500) i;
SELECT anomaly.anomaly_drop_model('ce_model', if_exists => true);
SELECT 'trained ' || version FROM anomaly.anomaly_create_model('ce_model', 'ce', method => 'iforest', exclude => '{id}');
SELECT 'scored ' || (anomaly.anomaly_score('ce_model', c) > 0) FROM ce c WHERE id = 1;
SELECT 'cached ' || count(*) FROM pg_backend_memory_contexts WHERE name = 'anomaly model' AND ident = 'ce_model';
\! psql -X -q -At -c "SET client_min_messages = warning" -c "SELECT 'dropped by another session' FROM anomaly.anomaly_drop_model('ce_model')"
SELECT anomaly.anomaly_score('ce_model', c) FROM ce c WHERE id = 1;
SELECT 'after drop cached ' || count(*) FROM pg_backend_memory_contexts WHERE name = 'anomaly model' AND ident = 'ce_model';
DROP TABLE ce;
SQL
)
echo "$out"
# here-strings, not pipes: grep -q closes the pipe early and pipefail
# would report echo's SIGPIPE as a failure
grep -q '^cached 1$' <<<"$out"
grep -q 'model "ce_model" does not exist' <<<"$out"
grep -q '^after drop cached 0$' <<<"$out"
