-- Deep SVDD: one-class and soft-boundary objectives, pretraining, errors.
SET client_min_messages = warning;
CREATE TABLE svdd_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows, threshold > 0 AS positive_threshold
FROM anomaly.anomaly_create_model('svdd', 'svdd_src', method => 'deep_svdd', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 10}');
-- rows far from the data are far from the centre
SELECT anomaly.anomaly_score('svdd', r) > 2 * m.threshold AS outlier_far_above, anomaly.anomaly_is_anomaly('svdd', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'svdd';
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('svdd', s)) BETWEEN 10 AND 30 AS about_one_percent FROM svdd_src s;
SELECT abs(anomaly.anomaly_score('svdd', s) - anomaly.anomaly_score('svdd', ARRAY[s.a, s.b, s.c])) < 1e-12 AS same FROM svdd_src s WHERE id = 5;

-- soft boundary: the score is the squared distance minus R^2, about nu of rows outside
SELECT version FROM anomaly.anomaly_create_model('svdd', 'svdd_src', method => 'deep_svdd', exclude => '{id}', replace => true,
                          options => '{"seed": 1, "epochs": 10, "objective": "soft_boundary", "nu": 0.05, "pretrain_epochs": 3}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('svdd', s) > 0) BETWEEN 20 AND 300 AS some_outside FROM svdd_src s;

-- the same seed gives the same model
SELECT version FROM anomaly.anomaly_create_model('svdd2', 'svdd_src', method => 'deep_svdd', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 10, "objective": "soft_boundary", "nu": 0.05, "pretrain_epochs": 3}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('svdd', s) = anomaly.anomaly_score('svdd2', s)) AS identical FROM svdd_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', options => '{"objective": "two_class"}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', options => '{"nu": 0}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', options => '{"nu": 1.5}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', options => '{"eps": -1}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', options => '{"pretrain_epochs": -1}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', options => '{"beta": 1}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'deep_svdd', exclude => '{id}', options => '{"activation": "sigmoid"}');
SELECT anomaly.anomaly_create_model('bad', 'svdd_src', method => 'autoencoder', options => '{"nu": 0.1}');

SELECT name, version, method, deployed FROM anomaly.models ORDER BY name, version;
SELECT anomaly.anomaly_drop_model('svdd');
SELECT anomaly.anomaly_drop_model('svdd2');
