-- Train an autoencoder, score rows, map columns by name, drop.
SET client_min_messages = warning;

-- two correlated measurements and a noisy third, fully deterministic
CREATE TABLE sensor AS
SELECT i AS id,
       sin(i * 0.1) * 10 + 50 AS temp,
       sin(i * 0.1) * 20 + 100 + cos(i * 0.37) AS pressure,
       (i % 7)::float8 AS load
FROM generate_series(1, 2000) i;

SELECT name, version, deployed, method, features, trained_rows, owner = current_user::regrole AS mine,
       threshold > 0 AS positive_threshold, loss IS NOT NULL AS has_loss
FROM anomaly.anomaly_create_model('sensor_ae', 'sensor', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 30}');

SELECT name, version, deployed, method, features, trained_rows FROM anomaly.models;

-- a row that breaks the temp/pressure correlation scores above every training row
SELECT anomaly.anomaly_score('sensor_ae', r) > (SELECT max(anomaly.anomaly_score('sensor_ae', s)) FROM sensor s) AS outlier_far_above,
       anomaly.anomaly_is_anomaly('sensor_ae', r) AS flagged
FROM (SELECT 1 AS id, 60.0::float8 AS temp, 80.0::float8 AS pressure, 3.0::float8 AS load) r,
     anomaly.models m WHERE m.name = 'sensor_ae';

-- about 1% of the training rows are above the threshold (contamination 0.01)
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('sensor_ae', s)) BETWEEN 15 AND 25 AS about_one_percent
FROM sensor s;

-- columns are matched by name: order and extra columns do not matter
SELECT abs(anomaly.anomaly_score('sensor_ae', s) -
           anomaly.anomaly_score('sensor_ae', (SELECT r FROM (SELECT s.load, 'x'::text AS note, s.pressure, s.temp) r))) < 1e-12 AS same
FROM sensor s WHERE id = 17;

-- the array form takes the features in model order
SELECT abs(anomaly.anomaly_score('sensor_ae', s) - anomaly.anomaly_score('sensor_ae', ARRAY[s.temp, s.pressure, s.load])) < 1e-12 AS same
FROM sensor s WHERE id = 17;

-- scores are deterministic from one call to the next
SELECT count(DISTINCT anomaly.anomaly_score('sensor_ae', s)) AS distinct_scores FROM (SELECT * FROM sensor WHERE id = 5 UNION ALL SELECT * FROM sensor WHERE id = 5) s;

-- errors name what is wrong
SELECT anomaly.anomaly_score('sensor_ae', r) FROM (SELECT 1.0::float8 AS temp, 2.0::float8 AS pressure) r;
SELECT anomaly.anomaly_score('sensor_ae', r) FROM (SELECT 'hot'::text AS temp, 2.0::float8 AS pressure, 1::int AS load) r;
SELECT anomaly.anomaly_score('sensor_ae', r) FROM (SELECT 'NaN'::float8 AS temp, 2.0::float8 AS pressure, 1::int AS load) r;
SELECT anomaly.anomaly_score('sensor_ae', ARRAY[1.0, 2.0]);
SELECT anomaly.anomaly_score('sensor_ae', ARRAY[1.0, 'Infinity', 2.0]);
SELECT anomaly.anomaly_score('sensor_ae', ARRAY[1.0, NULL, 2.0]);
SELECT anomaly.anomaly_score('no_such_model', s) FROM sensor s WHERE id = 1;
SELECT anomaly.anomaly_score('', s) FROM sensor s WHERE id = 1;

-- STRICT: NULL in, NULL out
SELECT anomaly.anomaly_score('sensor_ae', NULL::float8[]) IS NULL AS null_score;

SELECT anomaly.anomaly_drop_model('sensor_ae');
SELECT count(*) FROM anomaly.models;
SELECT anomaly.anomaly_score('sensor_ae', s) FROM sensor s WHERE id = 1;
SELECT anomaly.anomaly_drop_model('sensor_ae');
SELECT anomaly.anomaly_drop_model('sensor_ae', if_exists => true);
SELECT anomaly.anomaly_drop_model(NULL);

-- the model can come from a column: each row is scored by its own model
SELECT version FROM anomaly.anomaly_create_model('m_even', 'SELECT temp, pressure, load FROM sensor WHERE id % 2 = 0', options => '{"seed": 1, "epochs": 2}');
SELECT version FROM anomaly.anomaly_create_model('m_odd', 'SELECT temp, pressure, load FROM sensor WHERE id % 2 = 1', options => '{"seed": 2, "epochs": 2}');
CREATE TEMP TABLE per_row AS
SELECT s.*, CASE WHEN id % 2 = 0 THEN 'm_even' ELSE 'm_odd' END AS model FROM sensor s WHERE id <= 100;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE anomaly.anomaly_score(p.model, p) =
                        CASE WHEN p.model = 'm_even' THEN anomaly.anomaly_score('m_even', p) ELSE anomaly.anomaly_score('m_odd', p) END) AS same
FROM per_row p;
SELECT anomaly.anomaly_score(CASE WHEN id = 3 THEN 'nope' ELSE 'm_odd' END, p) FROM per_row p WHERE id IN (1, 3) ORDER BY id;
SELECT anomaly.anomaly_drop_model('m_even');
SELECT anomaly.anomaly_drop_model('m_odd');
