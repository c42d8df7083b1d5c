-- ECOD: train from SQL, score, the two variants, options.
SET client_min_messages = warning;
CREATE TABLE ecod_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows
FROM anomaly.anomaly_create_model('ecod', 'ecod_src', method => 'ecod', exclude => '{id}');
SELECT anomaly.anomaly_score('ecod', r) > m.threshold AS outlier_above, anomaly.anomaly_is_anomaly('ecod', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'ecod';
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ecod', s)) BETWEEN 10 AND 30 AS about_one_percent,
       min(anomaly.anomaly_score('ecod', s)) >= 0 AS non_negative
FROM ecod_src s;
SELECT abs(anomaly.anomaly_score('ecod', s) - anomaly.anomaly_score('ecod', ARRAY[s.a, s.b, s.c])) < 1e-12 AS same
FROM ecod_src s WHERE id = 5;

-- a value beyond the training range on every column: each tail is floored
-- at 1/(n + 1), so with the default variant the score is 3 ln(2001) / 2 at
-- least (both tails averaged, per column)
SELECT anomaly.anomaly_score('ecod', r) >= 3 * ln(2001) / 2 - 1e-9 AS floored
FROM (SELECT 50.0::float8 AS a, 50.0::float8 AS b, 50.0::float8 AS c) r;

-- the paper's combination
SELECT version FROM anomaly.anomaly_create_model('ecod_paper', 'ecod_src', method => 'ecod', exclude => '{id}',
                          options => '{"variant": "paper"}');
SELECT anomaly.anomaly_is_anomaly('ecod_paper', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r;

-- deterministic without a seed: a second model scores identically
SELECT version FROM anomaly.anomaly_create_model('ecod2', 'ecod_src', method => 'ecod', exclude => '{id}',
                          options => '{"seed": 9}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('ecod', s) = anomaly.anomaly_score('ecod2', s)) AS identical FROM ecod_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'ecod_src', method => 'ecod', options => '{"variant": "copod"}');
SELECT anomaly.anomaly_create_model('bad', 'ecod_src', method => 'ecod', options => '{"variant": 1}');
SELECT anomaly.anomaly_create_model('bad', 'ecod_src', method => 'ecod', options => '{"n_trees": 10}');
SELECT anomaly.anomaly_create_model('bad', 'ecod_src', method => 'ecod', options => '{"epochs": 5}');

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['ecod', 'ecod_paper', 'ecod2']) n;
