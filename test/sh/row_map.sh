#!/usr/bin/env bash
# test/sh/row_map.sh: a row's columns are matched to the model's features by name,
# whatever their order, and in an anonymous record that repeats a name, the first
# column of that name counts.
#
# score.c searches a named row type's attributes from after the previous feature's
# column (names are unique there); this checks that shortcut against the array form,
# which takes the features in the model's order: a table whose columns are in
# another order with extra ones, the same table through the insert trigger, and a
# subquery's row that has column "c" twice (the first, 99, must be the one scored).
set -euo pipefail
out=$(psql -X -q -At 2>&1 <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS rm_train, rm_rev, rm_ins;
SELECT anomaly.anomaly_drop_model('rm_m', if_exists => true);
CREATE TABLE rm_train AS SELECT sin(i * 0.1) AS a, cos(i * 0.1) AS b, (i % 7)::float8 AS c FROM generate_series(1, 500) i;
SELECT 'trained ' || version FROM anomaly.anomaly_create_model('rm_m', 'rm_train', method => 'autoencoder', options => '{"seed": 1, "epochs": 2}');
CREATE TABLE rm_rev (c float8, x text, b float8, y int, a float8);
INSERT INTO rm_rev SELECT c, 'x', b, 1, a FROM rm_train;
SELECT 'reordered ' || bool_and(abs(anomaly.anomaly_score('rm_m', r) - anomaly.anomaly_score('rm_m', ARRAY[r.a, r.b, r.c])) < 1e-12) FROM rm_rev r;
CREATE TABLE rm_ins (c float8, b float8, score float8, a float8);
CREATE TRIGGER rm_flag BEFORE INSERT ON rm_ins FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('rm_m', 'score');
INSERT INTO rm_ins (c, b, a) SELECT c, b, a FROM rm_train;
SELECT 'trigger ' || bool_and(abs(score - anomaly.anomaly_score('rm_m', ARRAY[a, b, c])) < 1e-12) FROM rm_ins;
-- features a, b, c: after a and b the search would start at the second "c"
SELECT 'repeated name ' || bool_and(abs(anomaly.anomaly_score('rm_m', r) - anomaly.anomaly_score('rm_m', ARRAY[r.a, r.b, 99])) < 1e-12)
FROM (SELECT 99::float8 AS c, t.a, t.b, t.c FROM rm_train t OFFSET 0) r;
DROP TABLE rm_train, rm_rev, rm_ins;
SELECT anomaly.anomaly_drop_model('rm_m');
SQL
)
echo "$out"
# here-strings, not pipes: grep -q closes the pipe early and pipefail
# would report echo's SIGPIPE as a failure
grep -q '^trained 1$' <<<"$out"
grep -q '^reordered true$' <<<"$out"
grep -q '^trigger true$' <<<"$out"
grep -q '^repeated name true$' <<<"$out"
