#!/usr/bin/env bash
# test/sh/category_budget.sh: category dictionaries stay within their share of memory.
#
# 0.1.0's dictionaries saw every distinct value of every row, unbounded
# (2M distinct values peaked at 299 MB with maintenance_work_mem = 1MB).
# With 1MB, the dictionaries may use 128 kB: a source of 20,000 distinct
# values must still train, with the NOTICE saying that later values count
# as "other", and keep at most max_categories of them.
set -euo pipefail
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

psql_q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS cb_src;
CREATE TABLE cb_src AS SELECT sin(i) AS a, md5(i::text) AS tag FROM generate_series(1, 20000) i;
SELECT anomaly.anomaly_drop_model('cb_model', if_exists => true);
SQL

out=$(psql -X -At -v ON_ERROR_STOP=1 2>&1 <<'SQL'
SET maintenance_work_mem = '1MB';
SELECT 'features ' || array_length(features, 1) FROM anomaly.anomaly_create_model('cb_model', 'cb_src', method => 'autoencoder',
    options => '{"epochs": 1, "max_categories": 5}');
SELECT anomaly.anomaly_drop_model('cb_model');
SQL
) || { echo "$out"; exit 1; }
echo "$out" | grep -E 'category dictionaries|features|sample' || true
psql_q -c "DROP TABLE cb_src"
echo "$out" | grep -q 'the category dictionaries reached an eighth of maintenance_work_mem' ||
	{ echo "no NOTICE about the dictionaries' budget"; exit 1; }
# a, then 5 kept values and "other"
echo "$out" | grep -q '^features 7$' || { echo "unexpected feature count"; exit 1; }
