-- PCA (Mahalanobis distance over principal components): training, scoring, options.
SET client_min_messages = warning;
CREATE TABLE pca_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c,
       1 AS constant
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows, loss
FROM anomaly.anomaly_create_model('pca', 'pca_src', method => 'pca', exclude => '{id}');
-- ordinary values that break the a-b correlation score high
SELECT anomaly.anomaly_score('pca', r) > m.threshold AS outlier_above, anomaly.anomaly_is_anomaly('pca', r) AS flagged
FROM (SELECT 0.5::float8 AS a, -1.0::float8 AS b, 0.0::float8 AS c, 1 AS constant) r,
     anomaly.models m WHERE m.name = 'pca';
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('pca', s)) BETWEEN 10 AND 30 AS about_one_percent FROM pca_src s;
SELECT abs(anomaly.anomaly_score('pca', s) - anomaly.anomaly_score('pca', ARRAY[s.a, s.b, s.c, s.constant])) < 1e-12 AS same
FROM pca_src s WHERE id = 5;
-- the constant column gets a floored eigenvalue: a different value is finite and very anomalous
SELECT anomaly.anomaly_score('pca', r) > 1e4 AS huge, anomaly.anomaly_score('pca', r) < 'infinity' AS finite
FROM (SELECT 0.0::float8 AS a, 0.0::float8 AS b, 0.0::float8 AS c, 2 AS constant) r;

-- one component (the largest) misses the broken correlation
SELECT version FROM anomaly.anomaly_create_model('pca1', 'pca_src', method => 'pca', exclude => '{id}',
                          options => '{"n_components": 1}');
SELECT anomaly.anomaly_is_anomaly('pca1', r) AS flagged_by_one
FROM (SELECT 0.5::float8 AS a, -1.0::float8 AS b, 0.0::float8 AS c, 1 AS constant) r;
SELECT version FROM anomaly.anomaly_create_model('pca_share', 'pca_src', method => 'pca', exclude => '{id}',
                          options => '{"n_components": 0.99, "seed": 3}');

-- no randomness: another seed gives the same scores
SELECT version FROM anomaly.anomaly_create_model('pca2', 'pca_src', method => 'pca', exclude => '{id}',
                          options => '{"seed": 7}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('pca', s) = anomaly.anomaly_score('pca2', s)) AS identical FROM pca_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'pca_src', method => 'pca', options => '{"n_components": 0}');
SELECT anomaly.anomaly_create_model('bad', 'pca_src', method => 'pca', options => '{"n_components": 1.5}');
SELECT anomaly.anomaly_create_model('bad', 'pca_src', method => 'pca', exclude => '{id}', options => '{"n_components": 9}');
SELECT anomaly.anomaly_create_model('bad', 'pca_src', method => 'pca', options => '{"epochs": 5}');
SELECT anomaly.anomaly_create_model('bad', 'pca_src', method => 'pca', options => '{"k": 5}');
SELECT count(*) AS no_bad_model FROM anomaly.models WHERE name = 'bad';

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['pca', 'pca1', 'pca_share', 'pca2']) n;
