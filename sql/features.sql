-- Feature discovery: types, exclude, NULLs, categoricals, bad values.
SET client_min_messages = warning;
CREATE TYPE channel AS ENUM ('web', 'store', 'phone');
CREATE DOMAIN money_amount AS numeric(12, 2);
CREATE TABLE tx AS
SELECT i AS id,
       (10 + (i % 13) * 3)::money_amount AS amount,
       (i % 24)::smallint AS hour,
       (i % 5 = 0) AS foreign_card,
       (ARRAY['grocery', 'fuel', 'travel', 'grocery', 'fuel', 'grocery'])[1 + i % 6] AS merchant,
       (ARRAY['web', 'store', 'phone'])[1 + i % 3]::channel AS channel,
       now() AS seen_at
FROM generate_series(1, 600) i;
UPDATE tx SET merchant = 'casino' WHERE id = 7;
UPDATE tx SET amount = NULL WHERE id % 50 = 0;
UPDATE tx SET merchant = NULL WHERE id % 60 = 0;

-- a timestamp cannot be a feature: the error names it
SELECT anomaly.anomaly_create_model('tx', 'tx', exclude => '{id}');
-- exclude must name existing columns
SELECT anomaly.anomaly_create_model('tx', 'tx', exclude => '{id, seen_at, nope}');
SELECT anomaly.anomaly_create_model('tx', 'tx', exclude => '{id, NULL}');

-- categories: most frequent first, at most max_categories, then "(other)"
SELECT features, trained_rows
FROM anomaly.anomaly_create_model('tx', 'tx', exclude => '{id, seen_at}',
                          options => '{"seed": 2, "epochs": 3, "max_categories": 3}');

-- NULLs score like the training mean (numbers) or "other" (categories)
SELECT anomaly.anomaly_score('tx', t) IS NOT NULL AS scored FROM tx t WHERE id IN (50, 60) ORDER BY id;
SELECT abs(anomaly.anomaly_score('tx', r1) - anomaly.anomaly_score('tx', r2)) < 1e-9 AS null_is_other
FROM (SELECT 1::numeric AS amount, 2 AS hour, true AS foreign_card, NULL::text AS merchant, 'web'::channel AS channel) r1,
     (SELECT 1::numeric AS amount, 2 AS hour, true AS foreign_card, 'never seen'::text AS merchant, 'web'::channel AS channel) r2;
-- an unseen category is "other", a varchar column serves a text feature
SELECT anomaly.anomaly_score('tx', r) IS NOT NULL AS scored
FROM (SELECT 1::numeric AS amount, 2::bigint AS hour, false AS foreign_card, 'casino'::varchar AS merchant, 'phone'::channel AS channel) r;
-- booleans must stay booleans, categories text
SELECT anomaly.anomaly_score('tx', r) FROM (SELECT 1::numeric AS amount, 2 AS hour, 1 AS foreign_card, 'x' AS merchant, 'web'::channel AS channel) r;
SELECT anomaly.anomaly_score('tx', r) FROM (SELECT 1::numeric AS amount, 2 AS hour, true AS foreign_card, 5 AS merchant, 'web'::channel AS channel) r;

-- sources: a query, VALUES, WITH, and a missing relation
SELECT features FROM anomaly.anomaly_create_model('q1', 'SELECT amount::float8 AS amount, hour FROM tx WHERE amount IS NOT NULL', options => '{"epochs": 2}');
SELECT features, trained_rows FROM anomaly.anomaly_create_model('q2', 'VALUES (1.0, 2.0), (2.0, 4.1), (3.0, 6.2)', options => '{"epochs": 2}');
SELECT trained_rows FROM anomaly.anomaly_create_model('q3', 'WITH s AS (SELECT hour FROM tx) SELECT * FROM s', options => '{"epochs": 2}');
SELECT anomaly.anomaly_create_model('q4', 'no_such_table');
SELECT anomaly.anomaly_create_model('q4', 'SELECT hour FROM tx WHERE false');
SELECT anomaly.anomaly_create_model('q4', 'SELECT id FROM tx', exclude => '{id}');
SELECT anomaly.anomaly_create_model('q4', 'SELECT 1 AS a, 1 AS a');
SELECT anomaly.anomaly_create_model('q4', 'WITH d AS (DELETE FROM tx RETURNING hour) SELECT * FROM d');
SELECT count(*) AS rows_kept FROM tx;

-- NaN and Infinity are rejected, naming the column
SELECT anomaly.anomaly_create_model('q4', 'SELECT hour, CASE WHEN hour = 3 THEN ''NaN''::float8 ELSE 1 END AS ratio FROM tx');
SELECT anomaly.anomaly_create_model('q4', 'SELECT hour, CASE WHEN hour = 3 THEN ''Infinity''::numeric ELSE 1 END AS ratio FROM tx');
SELECT name FROM anomaly.models ORDER BY name;

-- max_rows samples the source
SELECT trained_rows FROM anomaly.anomaly_create_model('q5', 'tx', exclude => '{id, seen_at}', options => '{"max_rows": 100, "epochs": 1}');

SELECT anomaly.anomaly_drop_model(name) FROM anomaly.models ORDER BY name;
