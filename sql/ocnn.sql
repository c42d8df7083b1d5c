-- One-class neural network: with and without a pretrained encoder, errors.
SET client_min_messages = warning;
CREATE TABLE ocnn_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows
FROM anomaly.anomaly_create_model('ocnn', 'ocnn_src', method => 'ocnn', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 10}');
SELECT anomaly.anomaly_score('ocnn', r) > m.threshold AS outlier_above, anomaly.anomaly_is_anomaly('ocnn', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'ocnn';
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ocnn', s)) BETWEEN 10 AND 30 AS about_one_percent FROM ocnn_src s;
SELECT abs(anomaly.anomaly_score('ocnn', s) - anomaly.anomaly_score('ocnn', ARRAY[s.a, s.b, s.c])) < 1e-12 AS same FROM ocnn_src s WHERE id = 5;

-- on the raw scaled features
SELECT version FROM anomaly.anomaly_create_model('ocnn_raw', 'ocnn_src', method => 'ocnn', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 10, "pretrain": false}');
SELECT anomaly.anomaly_score('ocnn_raw', r) > m.threshold AS outlier_above
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'ocnn_raw';

-- the same seed gives the same model
SELECT version FROM anomaly.anomaly_create_model('ocnn2', 'ocnn_src', method => 'ocnn', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 10}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('ocnn', s) = anomaly.anomaly_score('ocnn2', s)) AS identical FROM ocnn_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"nu": 0}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"units": 0}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"pretrain": "yes"}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"pretrain_epochs": -3}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"beta": 1}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"rbf_centers": -1}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', options => '{"rbf_gamma": 0}');
SELECT anomaly.anomaly_create_model('bad', 'ocnn_src', method => 'ocnn', exclude => '{id}', options => '{"weight_decay": 0}');

-- the paper's input (the codes themselves, no Gaussian similarities) is available
SELECT trained_rows FROM anomaly.anomaly_create_model('ocnn_paper', 'ocnn_src', method => 'ocnn', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 3, "rbf_centers": 0}');
SELECT anomaly.anomaly_drop_model('ocnn_paper');

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['ocnn', 'ocnn_raw', 'ocnn2']) n;
