-- k-nearest-neighbour distance: training, scoring, coreset, options.
SET client_min_messages = warning;
CREATE TABLE knn_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows, loss
FROM anomaly.anomaly_create_model('knn', 'knn_src', method => 'knn', exclude => '{id}',
                          options => '{"seed": 1}');
-- far from every row, and a row that breaks the a-b relation
SELECT anomaly.anomaly_score('knn', r) > m.threshold AS outlier_above, anomaly.anomaly_is_anomaly('knn', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'knn';
SELECT anomaly.anomaly_is_anomaly('knn', r) AS broken_relation_flagged
FROM (SELECT 0.5::float8 AS a, -1.0::float8 AS b, 0.0::float8 AS c) r;
-- the threshold leaves each training row out of its own score: about 1 % of rows flagged
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('knn', s)) BETWEEN 5 AND 30 AS about_one_percent FROM knn_src s;
SELECT abs(anomaly.anomaly_score('knn', s) - anomaly.anomaly_score('knn', ARRAY[s.a, s.b, s.c])) < 1e-12 AS same FROM knn_src s WHERE id = 5;

-- a coreset of 300 rows, the mean of the k distances
SELECT version FROM anomaly.anomaly_create_model('knn_core', 'knn_src', method => 'knn', exclude => '{id}',
                          options => '{"seed": 1, "coreset_size": 300, "k": 3, "aggregate": "mean"}');
SELECT anomaly.anomaly_score('knn_core', r) > m.threshold AS outlier_above
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'knn_core';

-- the same seed gives the same coreset
SELECT version FROM anomaly.anomaly_create_model('knn_core2', 'knn_src', method => 'knn', exclude => '{id}',
                          options => '{"seed": 1, "coreset_size": 300, "k": 3, "aggregate": "mean"}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('knn_core', s) = anomaly.anomaly_score('knn_core2', s)) AS identical FROM knn_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', options => '{"k": 0}');
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', options => '{"k": 2.5}');
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', options => '{"aggregate": "median"}');
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', options => '{"coreset_size": 1}');
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', options => '{"epochs": 5}');
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', options => '{"n_components": 2}');
SELECT anomaly.anomaly_create_model('bad', 'knn_src', method => 'knn', exclude => '{id}',
                            options => '{"k": 10, "coreset_size": 10}');
SELECT count(*) AS no_bad_model FROM anomaly.models WHERE name = 'bad';

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['knn', 'knn_core', 'knn_core2']) n;
