-- The planner scores a table's whole row from just the model's columns
-- (score_support.c), with the same results, and re-checks the model when
-- the plan outlives the version it was made for.
SET client_min_messages = warning;
SET anomaly.progress = off;

CREATE DOMAIN rw_amount AS numeric(12, 2);
CREATE TABLE rw (
    id     int,
    note   text,
    a      float8,
    b      float4,
    amount rw_amount,
    online boolean,
    shop   text
);
INSERT INTO rw
SELECT i, 'row ' || i, sin(i * 0.1) * 10, (cos(i * 0.1) * 5)::float4, (i % 50) * 1.25, i % 3 = 0,
       (ARRAY['north', 'south', 'east'])[1 + i % 3]
FROM generate_series(1, 600) i;
-- NULLs take the training mean, or the "other" category
UPDATE rw SET a = NULL WHERE id = 7;
UPDATE rw SET shop = NULL, online = NULL WHERE id = 8;

SELECT version FROM anomaly.anomaly_create_model('rw_ae', 'rw', 'autoencoder', exclude => '{id,note}',
                                                 options => '{"seed": 3, "epochs": 3}');

-- the record forms become column forms, with the model's columns in model order
EXPLAIN (VERBOSE, COSTS OFF)
SELECT anomaly.anomaly_score('rw_ae', t), anomaly.anomaly_is_anomaly('rw_ae', t),
       anomaly.anomaly_percentile('rw_ae', t)
FROM rw t;

-- the same results as the record form, which a subquery's row keeps
CREATE TEMP TABLE rw_record AS
SELECT id, anomaly.anomaly_score('rw_ae', t) AS s, anomaly.anomaly_is_anomaly('rw_ae', t) AS f,
       anomaly.anomaly_percentile('rw_ae', t) AS p
FROM (SELECT * FROM rw OFFSET 0) t;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT anomaly.anomaly_score('rw_ae', t) FROM (SELECT * FROM rw OFFSET 0) t;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE r.s = anomaly.anomaly_score('rw_ae', t)
                          AND r.f = anomaly.anomaly_is_anomaly('rw_ae', t)
                          AND r.p = anomaly.anomaly_percentile('rw_ae', t)) AS same,
       count(*) FILTER (WHERE r.f) > 0 AS some_flagged
FROM rw t JOIN rw_record r USING (id);

-- a row that an outer join makes NULL keeps the record form: NULL, not a row of NULLs
EXPLAIN (VERBOSE, COSTS OFF)
SELECT anomaly.anomaly_score('rw_ae', u) FROM rw t LEFT JOIN rw u ON u.id = t.id + 1000 WHERE t.id = 1;
SELECT anomaly.anomaly_score('rw_ae', u) IS NULL AS null_score
FROM rw t LEFT JOIN rw u ON u.id = t.id + 1000 WHERE t.id = 1;

-- a model name that is not a constant keeps the record form
EXPLAIN (VERBOSE, COSTS OFF)
SELECT anomaly.anomaly_score(t.note, t) FROM rw t;

-- a model that does not exist at plan time: the same error, at run time
SELECT anomaly.anomaly_score('rw_later', t) FROM rw t WHERE false;
SELECT anomaly.anomaly_score('rw_later', t) FROM rw t;

-- a prepared statement whose plan is kept (a generic plan), across versions
SET plan_cache_mode = force_generic_plan;
PREPARE rw_scores AS
SELECT count(*) FILTER (WHERE r.s = anomaly.anomaly_score('rw_ae', t)) AS same_as_first_version
FROM rw t JOIN rw_record r USING (id);
EXECUTE rw_scores;
-- a new version with other features, in another order (and the default method):
-- planned anew, never the old columns
SELECT version FROM anomaly.anomaly_create_model('rw_ae', 'SELECT shop, b, a FROM rw',
                                                 options => '{"seed": 4, "epochs": 3}', replace => true);
EXECUTE rw_scores;
PREPARE rw_v2 AS
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('rw_ae', t) = anomaly.anomaly_score('rw_ae', u)) AS same_as_record_form
FROM rw t JOIN (SELECT * FROM rw OFFSET 0) u USING (id);
EXECUTE rw_v2;
-- roll back to version 1, then forward again: each execution scores the deployed version
SELECT version, deployed FROM anomaly.anomaly_deploy('rw_ae', 1);
EXECUTE rw_scores;
EXECUTE rw_v2;
SELECT version, deployed FROM anomaly.anomaly_deploy('rw_ae', 2);
EXECUTE rw_v2;

-- a feature column renamed or dropped: planned anew, the record form's error
ALTER TABLE rw RENAME COLUMN b TO b2;
EXECUTE rw_v2;
ALTER TABLE rw RENAME COLUMN b2 TO b;
EXECUTE rw_v2;
ALTER TABLE rw DROP COLUMN a;
EXECUTE rw_v2;
RESET plan_cache_mode;
DEALLOCATE rw_scores;
DEALLOCATE rw_v2;

-- the column form checks what it is given against the deployed version
SELECT anomaly.anomaly_score_columns('rw_ae', '{shop,b,a}', 'north'::text, 1.5::float4, 2.0::float8) =
       anomaly.anomaly_score('rw_ae', r) AS same_as_record_form
FROM (SELECT 2.0::float8 AS a, 'north'::text AS shop, 1.5::float4 AS b) r;
SELECT anomaly.anomaly_score_columns('rw_ae', '{b,a,shop}', 1.5::float4, 2.0::float8, 'north'::text) =
       anomaly.anomaly_score_columns('rw_ae', '{shop,b,a}', 'north'::text, 1.5::float4, 2.0::float8) AS any_order;
SELECT anomaly.anomaly_score_columns('rw_ae', '{a,b}', 2.0::float8, 1.5::float4);
SELECT anomaly.anomaly_score_columns('rw_ae', '{shop,b,a}', 1::int, 1.5::float4, 2.0::float8);
SELECT anomaly.anomaly_score_columns('rw_ae', '{shop,b}', 'north'::text, 1.5::float4, 2.0::float8);
SELECT anomaly.anomaly_score_columns('rw_ae', NULL, 'north'::text) AS null_names;
SELECT anomaly.anomaly_score_columns(NULL, '{a}', 1.0::float8) IS NULL AS null_model;

-- more features than a function takes arguments (100): the record form stays
DO $$BEGIN
    EXECUTE (SELECT format('CREATE TABLE rw_wide AS SELECT %s FROM generate_series(1, 40) i',
                           string_agg(format('sin(i * %s) AS c%s', k, k), ', '))
             FROM generate_series(1, 120) k);
END$$;
SELECT array_length(features, 1) FROM anomaly.anomaly_create_model('rw_wide', 'rw_wide',
    method => 'iforest', options => '{"seed": 1, "n_trees": 5}');
SELECT count(anomaly.anomaly_score('rw_wide', w)) AS scored FROM rw_wide w;
SELECT anomaly.anomaly_drop_model('rw_wide');
DROP TABLE rw_wide;

SELECT anomaly.anomaly_drop_model('rw_ae');
DROP TABLE rw;
DROP DOMAIN rw_amount;
