#!/usr/bin/env bash
# scripts/demo.sh: from a fresh Debian 12 machine (as root) to flagged frauds.
#
# Installs what is missing, builds and installs the extension, starts a
# throwaway cluster, creates a table of synthetic card transactions with a
# few injected frauds, trains the default model on it, prints the most
# anomalous rows, evaluates the model against the fraud labels and
# explains why the top fraud was flagged, then stops the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_root
install_build_deps
build_and_install
trap cluster_stop EXIT
cluster_start

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION anomaly;

-- 20,000 ordinary card transactions: amounts follow the merchant category,
-- purchases happen in the daytime, close to home.
CREATE TABLE transactions AS
SELECT i AS id,
       round((CASE cat WHEN 'grocery' THEN 40 WHEN 'fuel' THEN 60
                       WHEN 'restaurant' THEN 35 ELSE 80 END
              * exp(0.35 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())))::numeric, 2) AS amount,
       8 + (random() * 12)::int AS hour,
       abs(5 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())) AS km_from_home,
       cat AS merchant_category,
       random() < 0.9 AS card_present,
       false AS is_fraud
FROM (SELECT i, (ARRAY['grocery','fuel','restaurant','online'])[1 + (i % 4)] AS cat
      FROM generate_series(1, 20000) i) s;

-- 12 frauds: large online or electronics purchases at night, far away, card absent.
INSERT INTO transactions
SELECT 100000 + i, round((900 + random() * 3000)::numeric, 2), (random() * 4)::int,
       800 + random() * 4000, CASE WHEN i % 2 = 0 THEN 'online' ELSE 'electronics' END,
       false, true
FROM generate_series(1, 12) i;

\echo
\echo 'Training: SELECT anomaly.anomaly_create_model(''card_fraud'', ''transactions'', exclude => ''{id,is_fraud}'') ...'
SET client_min_messages = warning;
SELECT name, version, method, trained_rows, round(train_seconds::numeric, 2) AS train_seconds,
       round(threshold::numeric, 4) AS threshold
FROM anomaly.anomaly_create_model('card_fraud', 'transactions',
                          exclude => '{id,is_fraud}', options => '{"seed": 7}');

\echo 'The 15 most anomalous transactions (is_fraud was not shown to the model):'
SELECT id, amount, hour, round(km_from_home::numeric, 1) AS km, merchant_category AS category,
       card_present, is_fraud,
       round(anomaly.anomaly_score('card_fraud', t)::numeric, 3) AS score,
       anomaly.anomaly_is_anomaly('card_fraud', t) AS flagged
FROM transactions t
ORDER BY anomaly.anomaly_score('card_fraud', t) DESC
LIMIT 15;

\echo 'Frauds caught among the flagged rows:'
SELECT count(*) FILTER (WHERE is_fraud AND anomaly.anomaly_is_anomaly('card_fraud', t)) AS frauds_flagged,
       count(*) FILTER (WHERE is_fraud) AS frauds,
       count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('card_fraud', t)) AS rows_flagged
FROM transactions t;

\echo 'The model against the labels: anomaly.anomaly_evaluate(''card_fraud'', ''transactions'', ''is_fraud'')'
SELECT round(auroc::numeric, 4) AS auroc, round(auprc::numeric, 4) AS auprc,
       round(f1_best::numeric, 3) AS f1_best, round(threshold_best::numeric, 4) AS threshold_best,
       round(precision_at_threshold::numeric, 3) AS precision, round(recall_at_threshold::numeric, 3) AS recall,
       n, n_anomalies
FROM anomaly.anomaly_evaluate('card_fraud', 'transactions', 'is_fraud');

\echo 'Why the top-scoring fraud was flagged: anomaly.anomaly_explain(''card_fraud'', t)'
SELECT t.id, round(anomaly.anomaly_percentile('card_fraud', t)::numeric, 4) AS percentile,
       e.feature, round(e.value::numeric, 2) AS value, round(e.contribution::numeric, 4) AS contribution
FROM (SELECT * FROM transactions t WHERE is_fraud
      ORDER BY anomaly.anomaly_score('card_fraud', t) DESC LIMIT 1) t,
     anomaly.anomaly_explain('card_fraud', t) e;
SQL
