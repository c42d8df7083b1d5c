-- Damaged catalog rows and changed tables give clear errors, never a crash.
SET client_min_messages = warning;
CREATE TABLE rob AS SELECT i AS id, sin(i) AS a, cos(i) AS b, (i % 5)::float8 AS c FROM generate_series(1, 300) i;
SELECT version FROM anomaly.anomaly_create_model('rob', 'rob', method => 'autoencoder', exclude => '{id}', options => '{"epochs": 1, "seed": 1}');
SELECT anomaly.anomaly_score('rob', r) IS NOT NULL AS ok FROM rob r WHERE id = 1;

-- a dropped feature column is missing from the row; other dropped columns do not matter
ALTER TABLE rob DROP COLUMN c;
SELECT anomaly.anomaly_score('rob', r) FROM rob r WHERE id = 1;
ALTER TABLE rob ADD COLUMN c float8 DEFAULT 1;
SELECT anomaly.anomaly_score('rob', r) IS NOT NULL AS ok FROM rob r WHERE id = 1;
ALTER TABLE rob DROP COLUMN id;
SELECT anomaly.anomaly_score('rob', r) IS NOT NULL AS ok FROM rob r LIMIT 1;

-- corrupt, truncated and foreign model documents are refused with the field named
CREATE TEMP TABLE saved AS SELECT model FROM anomaly.model_versions WHERE name = 'rob';
UPDATE anomaly.model_versions SET model = '\x00'::bytea WHERE name = 'rob';
SELECT anomaly.anomaly_score('rob', r) FROM rob r LIMIT 1;
UPDATE anomaly.model_versions SET model = substr((SELECT model FROM saved), 1, 200) WHERE name = 'rob';
SELECT anomaly.anomaly_score('rob', r) FROM rob r LIMIT 1;
UPDATE anomaly.model_versions SET model = '\x81a3666f6fa3626172'::bytea WHERE name = 'rob';  -- {"foo": "bar"}
SELECT anomaly.anomaly_score('rob', r) FROM rob r LIMIT 1;
UPDATE anomaly.model_versions SET model = '\xdfffffffff'::bytea WHERE name = 'rob';  -- a map claiming 4 billion entries
SELECT anomaly.anomaly_score('rob', r) FROM rob r LIMIT 1;
UPDATE anomaly.model_versions SET model = (SELECT model FROM saved) WHERE name = 'rob';
SELECT anomaly.anomaly_score('rob', r) IS NOT NULL AS restored FROM rob r LIMIT 1;

-- a model dropped by another session is gone at the next query
SELECT anomaly.anomaly_drop_model('rob');
SELECT anomaly.anomaly_score('rob', r) FROM rob r LIMIT 1;
DROP TABLE rob;
