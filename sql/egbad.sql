-- EGBAD (BiGAN): train from SQL, score, lambda, reproducibility, errors.
SET client_min_messages = warning;
CREATE TABLE egbad_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows
FROM anomaly.anomaly_create_model('egbad', 'egbad_src', method => 'egbad', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15}');
-- a row far outside the data scores far above the threshold
SELECT anomaly.anomaly_score('egbad', r) > 2 * m.threshold AS outlier_far_above, anomaly.anomaly_is_anomaly('egbad', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c) r, anomaly.models m WHERE m.name = 'egbad';
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('egbad', s)) BETWEEN 10 AND 30 AS about_one_percent,
       min(anomaly.anomaly_score('egbad', s)) >= 0 AS non_negative
FROM egbad_src s;
SELECT abs(anomaly.anomaly_score('egbad', s) - anomaly.anomaly_score('egbad', ARRAY[s.a, s.b, s.c])) < 1e-12 AS same
FROM egbad_src s WHERE id = 5;

-- lambda only weighs the two terms: lambda 0 (residual) and 1 (discrimination)
-- train the same networks, and lambda 0.5 scores their mean
SELECT version FROM anomaly.anomaly_create_model('egbad_l0', 'egbad_src', method => 'egbad', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15, "lambda": 0}');
SELECT version FROM anomaly.anomaly_create_model('egbad_l1', 'egbad_src', method => 'egbad', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15, "lambda": 1}');
SELECT version FROM anomaly.anomaly_create_model('egbad_l5', 'egbad_src', method => 'egbad', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15, "lambda": 0.5}');
SELECT bool_and(abs(anomaly.anomaly_score('egbad_l5', s) - (anomaly.anomaly_score('egbad_l0', s) + anomaly.anomaly_score('egbad_l1', s)) / 2)
                <= 1e-6 * (1 + anomaly.anomaly_score('egbad_l5', s))) AS mean_of_terms
FROM egbad_src s WHERE id <= 200;
-- even the discrimination term alone flags the far row
SELECT anomaly.anomaly_score('egbad_l1', r) > m.threshold AS discrimination_flags_far_row
FROM (SELECT 50.0::float8 AS a, -90.0::float8 AS b, 40.0::float8 AS c) r, anomaly.models m WHERE m.name = 'egbad_l1';

-- the same seed gives the same model
SELECT version FROM anomaly.anomaly_create_model('egbad2', 'egbad_src', method => 'egbad', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('egbad', s) = anomaly.anomaly_score('egbad2', s)) AS identical FROM egbad_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'egbad_src', method => 'egbad', exclude => '{id}', options => '{"lambda": 1.5}');
SELECT anomaly.anomaly_create_model('bad', 'egbad_src', method => 'egbad', exclude => '{id}', options => '{"lambda": "high"}');
SELECT anomaly.anomaly_create_model('bad', 'egbad_src', method => 'egbad', exclude => '{id}', options => '{"consistency": -1}');
SELECT anomaly.anomaly_create_model('bad', 'egbad_src', method => 'egbad', exclude => '{id}', options => '{"beta": 0.1}');

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['egbad', 'egbad_l0', 'egbad_l1', 'egbad_l5', 'egbad2']) n;
