-- anomaly_evaluate: metrics against a label column, hand-computed with ties.
SET client_min_messages = notice;
SET anomaly.progress = off;
-- PCA on one column symmetric around 0: the score grows with |x|, and equal
-- values tie.  No randomness, so the ranks below are exact.
CREATE TABLE ev_train AS SELECT i::float8 AS x FROM generate_series(-10, 10) i;
SELECT version FROM anomaly.anomaly_create_model('ev', 'ev_train', method => 'pca');

-- Seven labelled rows, scores in the order 5 > 4 = 4 > 2 = 2 = 2 > 0:
--   x      5  4  4  2  2  2  0
--   label  1  1  0  1  0  0  0
-- AUROC: 3 x 4 pairs; the anomaly at 5 wins 4, at 4 wins 3 and ties 1, at 2
-- wins 1 and ties 2: 9.5 / 12.  Average precision, one point per distinct
-- score: (1 x 1/3) + (2/3 x 1/3) + (1/2 x 1/3) = 13/18.  Best F1 2/3, first
-- reached by flagging the rows above the score of 2.
CREATE TABLE ev_rows (id int, x float8, label boolean, label_int int, label_text text);
INSERT INTO ev_rows VALUES
    (1, 5, true, 1, 'yes'), (2, 4, true, 1, 'yes'), (3, 4, false, 0, 'no'), (4, 2, true, 1, 'yes'),
    (5, 2, false, 0, 'no'), (6, 2, false, 0, 'no'), (7, 0, false, 0, 'no');
-- the deployed threshold: just the score of 2, so 5, 4, 4 are flagged
SELECT threshold > 0 AS set FROM anomaly.anomaly_set_threshold('ev', anomaly.anomaly_score('ev', ARRAY[2.0]));

SELECT abs(auroc - 9.5 / 12) < 1e-12 AS auroc_ok, abs(auprc - 13.0 / 18) < 1e-12 AS auprc_ok,
       abs(f1_best - 2.0 / 3) < 1e-12 AS f1_ok,
       threshold_best = anomaly.anomaly_score('ev', ARRAY[2.0]) AS threshold_best_is_score_of_2,
       abs(precision_at_threshold - 2.0 / 3) < 1e-12 AS precision_ok,
       abs(recall_at_threshold - 2.0 / 3) < 1e-12 AS recall_ok, n, n_anomalies
FROM anomaly.anomaly_evaluate('ev', 'SELECT x, label FROM ev_rows', 'label');
-- 0/1 integers are labels too; the table name is a source; other columns are ignored
SELECT round(auroc::numeric, 6) AS auroc, round(auprc::numeric, 6) AS auprc, n, n_anomalies
FROM anomaly.anomaly_evaluate('ev', 'ev_rows', 'label_int');
-- a threshold above every score: no row flagged, precision undefined (NULL), recall 0
SELECT threshold > 0 AS set FROM anomaly.anomaly_set_threshold('ev', 1e9);
SELECT precision_at_threshold IS NULL AS precision_null, recall_at_threshold
FROM anomaly.anomaly_evaluate('ev', 'ev_rows', 'label');

-- NULL labels are skipped and counted
SELECT n, n_anomalies FROM anomaly.anomaly_evaluate('ev',
    'SELECT x, CASE WHEN id IN (6, 7) THEN NULL ELSE label END AS label FROM ev_rows', 'label');

-- errors name the column or say what is wrong
SELECT * FROM anomaly.anomaly_evaluate('ev', 'ev_rows', 'no_such_column');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'ev_rows', 'label_text');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'SELECT x, 2 AS label FROM ev_rows', 'label');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'SELECT x, false AS label FROM ev_rows', 'label');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'SELECT x, 1 AS label FROM ev_rows', 'label');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'SELECT x, NULL::boolean AS label FROM ev_rows', 'label');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'SELECT label FROM ev_rows', 'label');
SELECT * FROM anomaly.anomaly_evaluate('ev', 'WITH d AS (DELETE FROM ev_rows RETURNING x, label) SELECT * FROM d', 'label');
SELECT * FROM anomaly.anomaly_evaluate('no_such_model', 'ev_rows', 'label');
SELECT count(*) AS rows_untouched FROM ev_rows;

-- the source is read with the caller's privileges
CREATE ROLE anomaly_ev_reader;
GRANT USAGE ON SCHEMA public TO anomaly_ev_reader;
SELECT anomaly.anomaly_grant('ev', 'anomaly_ev_reader');
SET ROLE anomaly_ev_reader;
SELECT * FROM anomaly.anomaly_evaluate('ev', 'ev_rows', 'label');
RESET ROLE;
REVOKE USAGE ON SCHEMA public FROM anomaly_ev_reader;
DROP ROLE anomaly_ev_reader;

SELECT anomaly.anomaly_drop_model('ev');
DROP TABLE ev_train, ev_rows;
