-- Isolation forest: train from SQL, score, options, reproducibility.
SET client_min_messages = warning;
CREATE TABLE iforest_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows
FROM anomaly.anomaly_create_model('iforest', 'iforest_src', method => 'iforest', exclude => '{id}',
                          options => '{"seed": 1}');
-- scores are in (0, 1]; a row far outside the data scores above the threshold
SELECT anomaly.anomaly_score('iforest', r) > m.threshold AS outlier_above, anomaly.anomaly_is_anomaly('iforest', r) AS flagged,
       anomaly.anomaly_score('iforest', r) BETWEEN 0.6 AND 1 AS score_range
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'iforest';
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('iforest', s)) BETWEEN 10 AND 30 AS about_one_percent,
       min(anomaly.anomaly_score('iforest', s)) > 0 AND max(anomaly.anomaly_score('iforest', s)) <= 1 AS in_unit_interval
FROM iforest_src s;
SELECT abs(anomaly.anomaly_score('iforest', s) - anomaly.anomaly_score('iforest', ARRAY[s.a, s.b, s.c])) < 1e-12 AS same
FROM iforest_src s WHERE id = 5;

-- its own options; a sample larger than the table is capped at the row count
SELECT trained_rows FROM anomaly.anomaly_create_model('iforest_small', 'SELECT a, b, c FROM iforest_src WHERE id <= 40',
                          method => 'iforest', options => '{"seed": 2, "n_trees": 10, "sample_size": 1000, "max_depth": 3}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('iforest_small', s) BETWEEN 0 AND 1) AS scored FROM iforest_src s;

-- the same seed gives the same model
SELECT version FROM anomaly.anomaly_create_model('iforest2', 'iforest_src', method => 'iforest', exclude => '{id}',
                          options => '{"seed": 1}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('iforest', s) = anomaly.anomaly_score('iforest2', s)) AS identical FROM iforest_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'iforest_src', method => 'iforest', options => '{"n_trees": 0}');
SELECT anomaly.anomaly_create_model('bad', 'iforest_src', method => 'iforest', options => '{"sample_size": 1}');
SELECT anomaly.anomaly_create_model('bad', 'iforest_src', method => 'iforest', options => '{"max_depth": 2.5}');
SELECT anomaly.anomaly_create_model('bad', 'iforest_src', method => 'iforest', options => '{"epochs": 5}');
SELECT anomaly.anomaly_create_model('bad', 'iforest_src', method => 'iforest', options => '{"hidden": [8]}');
SELECT anomaly.anomaly_create_model('bad', 'iforest_src', method => 'iforest', options => '{"variant": "paper"}');

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['iforest', 'iforest_small', 'iforest2']) n;
