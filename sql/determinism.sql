-- The same seed and data give the same scores, bit for bit (one BLAS thread).
SET client_min_messages = warning;
SET anomaly.training_threads = 1;
CREATE TABLE det AS
SELECT i AS id, sin(i * 0.3) AS a, sin(i * 0.3) * 3 + cos(i * 0.05) AS b, (i % 11)::float8 AS c
FROM generate_series(1, 3000) i;

SELECT version FROM anomaly.anomaly_create_model('det1', 'det', exclude => '{id}', options => '{"seed": 42}');
SELECT version FROM anomaly.anomaly_create_model('det2', 'det', exclude => '{id}', options => '{"seed": 42}');
SELECT version FROM anomaly.anomaly_create_model('det3', 'det', exclude => '{id}', options => '{"seed": 43}');

-- the default ensemble holds a deterministic member (PCA): where it gives
-- the highest standardised score, another seed scores the row the same
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('det1', d) = anomaly.anomaly_score('det2', d)) AS same_seed_equal,
       count(*) FILTER (WHERE anomaly.anomaly_score('det1', d) <> anomaly.anomaly_score('det3', d)) > 1500 AS other_seed_mostly_differs
FROM det d;
SELECT (SELECT threshold FROM anomaly.models WHERE name = 'det1') =
       (SELECT threshold FROM anomaly.models WHERE name = 'det2') AS same_threshold;

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['det1', 'det2', 'det3']) n;
