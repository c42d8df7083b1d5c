-- Versions: replace => true adds a deployed version; without it a name is taken.
SET client_min_messages = warning;
CREATE TABLE rep AS
SELECT i AS id, cos(i * 0.2) AS a, cos(i * 0.2) * 2 + 1 AS b FROM generate_series(1, 500) i;

SELECT version, deployed FROM anomaly.anomaly_create_model('rep', 'rep', exclude => '{id}', options => '{"seed": 3, "epochs": 5}');
SELECT version FROM anomaly.anomaly_create_model('rep', 'rep', exclude => '{id}', options => '{"seed": 3, "epochs": 5}');
SELECT version, deployed FROM anomaly.anomaly_create_model('rep', 'rep', exclude => '{id}', options => '{"seed": 4, "epochs": 5}', replace => true);
SELECT name, version, deployed FROM anomaly.models ORDER BY version;

-- the deployed version scores; a new version is seen by the next query
CREATE TEMP TABLE before AS SELECT anomaly.anomaly_score('rep', r) AS s FROM rep r WHERE id = 10;
SELECT version FROM anomaly.anomaly_create_model('rep', 'SELECT a, b FROM rep WHERE id > 100', options => '{"seed": 5, "epochs": 5}', replace => true);
SELECT (SELECT s FROM before) <> anomaly.anomaly_score('rep', r) AS changed FROM rep r WHERE id = 10;
SELECT name, version, deployed, trained_rows FROM anomaly.models ORDER BY version;

-- a failed replace keeps the deployed version
SELECT version FROM anomaly.anomaly_create_model('rep', 'rep', options => '{"epochs": 0}', replace => true);
SELECT version, deployed FROM anomaly.models WHERE deployed;

SELECT anomaly.anomaly_drop_model('rep');
SELECT count(*) FROM anomaly.model_versions;
