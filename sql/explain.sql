-- anomaly_explain and anomaly_percentile.
SET client_min_messages = warning;
SET anomaly.progress = off;
CREATE TABLE ex_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b,
       (i % 5 = 0) AS online,
       (ARRAY['books', 'food', 'fuel'])[1 + i % 3] AS shop
FROM generate_series(1, 600) i;
-- a row that breaks the a-b correlation, and one with a NULL and an unknown shop
CREATE TABLE ex_rows (id int, a float8, b float8, online boolean, shop text);
INSERT INTO ex_rows VALUES (1, 0.5, -1.0, false, 'books'), (2, NULL, 0.1, true, 'toys'),
                           (3, 0.1, 0.2, false, NULL);

-- PCA: the terms z_i (P z)_i of the Mahalanobis distance add up to the score
SELECT version FROM anomaly.anomaly_create_model('ex_pca', 'ex_src', method => 'pca', exclude => '{id}');
SELECT e.feature, e.value, round(e.contribution::numeric, 1) AS contribution
FROM ex_rows r, anomaly.anomaly_explain('ex_pca', r) e WHERE r.id = 1;
-- one row per column, one-hot groups summed back; NULL values shown as NULL
SELECT r.id, e.feature, e.value IS NULL AS value_null
FROM ex_rows r, anomaly.anomaly_explain('ex_pca', r) e WHERE r.id > 1 ORDER BY r.id, e.feature;
SELECT r.id, abs(sum(e.contribution) - anomaly.anomaly_score('ex_pca', r)) < 1e-6 * anomaly.anomaly_score('ex_pca', r)
       AS adds_up
FROM ex_rows r, anomaly.anomaly_explain('ex_pca', r) e GROUP BY r.id, r.* ORDER BY r.id;

-- every method explains; the additive ones add up to the score
SELECT version FROM anomaly.anomaly_create_model('ex_ae', 'ex_src', method => 'autoencoder', exclude => '{id}',
    options => '{"seed": 1, "epochs": 5}');
SELECT version FROM anomaly.anomaly_create_model('ex_ecod', 'ex_src', method => 'ecod', exclude => '{id}');
SELECT version FROM anomaly.anomaly_create_model('ex_if', 'ex_src', method => 'iforest', exclude => '{id}',
    options => '{"seed": 1}');
SELECT version FROM anomaly.anomaly_create_model('ex_knn', 'ex_src', method => 'knn', exclude => '{id}');
SELECT version FROM anomaly.anomaly_create_model('ex_auto', 'ex_src', exclude => '{id}',
    options => '{"seed": 1, "epochs": 3}');
SELECT version FROM anomaly.anomaly_create_model('ex_svdd', 'ex_src', method => 'deep_svdd', exclude => '{id}',
    options => '{"seed": 1, "epochs": 3}');
SELECT m, count(*) AS n_rows,
       abs(sum(e.contribution) - anomaly.anomaly_score(m, r)) <= 1e-4 * abs(anomaly.anomaly_score(m, r)) AS adds_up,
       bool_and(e.contribution < 'infinity' AND e.contribution > '-infinity') AS finite
FROM unnest(ARRAY['ex_ae', 'ex_ecod', 'ex_if', 'ex_knn', 'ex_auto']) m, ex_rows r,
     anomaly.anomaly_explain(m, r) e
WHERE r.id = 1 GROUP BY m, r.* ORDER BY m;
-- integrated gradients (Deep SVDD): finite, one row per column, ordered
SELECT count(*) AS n_rows, bool_and(e.contribution < 'infinity') AS finite
FROM ex_rows r, anomaly.anomaly_explain('ex_svdd', r) e WHERE r.id = 1;
SELECT bool_and(c1 >= c2) AS ordered
FROM (SELECT e.contribution AS c1, lead(e.contribution) OVER () AS c2
      FROM ex_rows r, anomaly.anomaly_explain('ex_svdd', r) e WHERE r.id = 1) s WHERE c2 IS NOT NULL;

-- errors
SELECT * FROM anomaly.anomaly_explain('no_such_model', (SELECT r FROM ex_rows r WHERE id = 1));
SELECT * FROM anomaly.anomaly_explain('ex_pca', (SELECT r FROM (SELECT 1.0::float8 AS a) r));

-- percentile: 0 below every training score, 1 above, monotone in the score
SELECT anomaly.anomaly_percentile('ex_pca', r) AS far_row FROM ex_rows r WHERE id = 1;
SELECT round(anomaly.anomaly_percentile('ex_ecod', r)::numeric, 3) AS typical_row
FROM (SELECT 0.0::float8 AS a, 0.0::float8 AS b, false AS online, 'food' AS shop) r;
SELECT version FROM anomaly.anomaly_create_model('ex_plain', 'SELECT a, b FROM ex_src', method => 'pca');
SELECT anomaly.anomaly_percentile('ex_plain', ARRAY[100.0, -100.0]) AS above_max,
       anomaly.anomaly_percentile('ex_plain', ARRAY[0.0, 0.0]) < 0.2 AS near_centre_low;
SELECT bool_and(p >= prev) AS monotone, min(p) >= 0 AND max(p) <= 1 AS in_range,
       count(DISTINCT p) > 100 AS spread
FROM (SELECT p, lag(p) OVER (ORDER BY s, p) AS prev
      FROM (SELECT anomaly.anomaly_score('ex_plain', t) AS s, anomaly.anomaly_percentile('ex_plain', t) AS p
            FROM ex_src t) a) b WHERE prev IS NOT NULL;
SELECT anomaly.anomaly_percentile('ex_plain', t) = anomaly.anomaly_percentile('ex_plain', ARRAY[t.a, t.b]) AS same
FROM ex_src t WHERE id = 7;
-- a training row at the lowest score is at 0, at the highest at 1
SELECT min(anomaly.anomaly_percentile('ex_plain', t)) AS lowest, max(anomaly.anomaly_percentile('ex_plain', t)) AS highest
FROM ex_src t;

-- contamination => 'auto': a threshold from the score distribution; few rows flagged
SELECT version FROM anomaly.anomaly_create_model('ex_autothr', 'ex_src', method => 'pca', exclude => '{id}',
    options => '{"contamination": "auto"}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ex_autothr', s)) < 6 AS few_flagged FROM ex_src s;
SELECT anomaly.anomaly_is_anomaly('ex_autothr', r) AS breaks_correlation FROM ex_rows r WHERE id = 1;
SELECT anomaly.anomaly_create_model('bad', 'ex_src', options => '{"contamination": "often"}');

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['ex_pca', 'ex_ae', 'ex_ecod', 'ex_if', 'ex_knn',
    'ex_auto', 'ex_svdd', 'ex_plain', 'ex_autothr']) n;
DROP TABLE ex_src, ex_rows;
