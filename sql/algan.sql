-- ALGAN: train from SQL, score, reproducibility, errors.
SET client_min_messages = warning;
-- a round blob of 2000 rows; the probes are a ring around it and far points
CREATE TABLE algan_src AS
SELECT i AS id, sqrt(-2 * ln((i % 997 + 0.5) / 997.0)) * cos(2 * pi() * ((i * 7919) % 1009 + 0.5) / 1009.0) AS a,
       sqrt(-2 * ln((i % 997 + 0.5) / 997.0)) * sin(2 * pi() * ((i * 7919) % 1009 + 0.5) / 1009.0) AS b
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows
FROM anomaly.anomaly_create_model('algan', 'algan_src', method => 'algan', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 30}');
-- a row far outside the data scores far above the threshold
SELECT anomaly.anomaly_score('algan', r) > m.threshold + 10 AS far_above, anomaly.anomaly_is_anomaly('algan', r) AS flagged
FROM (SELECT 30.0::float8 AS a, -40.0::float8 AS b) r, anomaly.models m WHERE m.name = 'algan';
-- the ring around the blob (radius 4) scores above the blob's centre
SELECT avg(anomaly.anomaly_score('algan', ARRAY[4 * cos(t), 4 * sin(t)])) >
       avg(anomaly.anomaly_score('algan', ARRAY[0.3 * cos(t), 0.3 * sin(t)])) AS ring_above_centre
FROM generate_series(0, 6.0, 0.5) t;
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('algan', s)) BETWEEN 5 AND 60 AS about_one_percent
FROM algan_src s;
SELECT abs(anomaly.anomaly_score('algan', s) - anomaly.anomaly_score('algan', ARRAY[s.a, s.b])) < 1e-12 AS same
FROM algan_src s WHERE id = 5;

-- the same seed gives the same model; options change it
SELECT version FROM anomaly.anomaly_create_model('algan2', 'algan_src', method => 'algan', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 30}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('algan', s) = anomaly.anomaly_score('algan2', s)) AS identical FROM algan_src s;
SELECT version FROM anomaly.anomaly_create_model('algan3', 'algan_src', method => 'algan', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 30, "alpha": 0.9, "sigma": 6}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('algan', s) = anomaly.anomaly_score('algan3', s)) < 2000 AS options_matter FROM algan_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'algan_src', method => 'algan', exclude => '{id}', options => '{"alpha": 0}');
SELECT anomaly.anomaly_create_model('bad', 'algan_src', method => 'algan', exclude => '{id}', options => '{"alpha": 1.5}');
SELECT anomaly.anomaly_create_model('bad', 'algan_src', method => 'algan', exclude => '{id}', options => '{"sigma": 0.5}');
SELECT anomaly.anomaly_create_model('bad', 'algan_src', method => 'algan', exclude => '{id}', options => '{"sigma": "wide"}');
SELECT anomaly.anomaly_create_model('bad', 'algan_src', method => 'algan', exclude => '{id}', options => '{"lambda": 0.1}');
SELECT count(*) AS no_bad_model FROM anomaly.models WHERE name = 'bad';

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['algan', 'algan2', 'algan3']) n;
