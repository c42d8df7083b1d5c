-- anomaly_retrain: the stored source, method, exclude list and options;
-- the previous version's feature columns; given options override.
SET client_min_messages = warning;
CREATE TABLE rt AS
SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b, (ARRAY['x', 'y'])[1 + i % 2] AS c
FROM generate_series(1, 300) i;
SELECT version, method, features FROM anomaly.anomaly_create_model('rt', 'SELECT * FROM rt WHERE id > 10',
    method => 'deep_svdd', exclude => '{id}', options => '{"seed": 1, "epochs": 2}');

-- new columns in the source are not silently made features
ALTER TABLE rt ADD COLUMN score float8 DEFAULT 0, ADD COLUMN flag boolean DEFAULT false;
SELECT version, deployed, method, features, trained_rows FROM anomaly.anomaly_retrain('rt');
SELECT source, exclude, options FROM anomaly.model_versions WHERE name = 'rt' ORDER BY version;

-- the same seed and data give the same model: retraining is reproducible
SELECT count(*) AS same FROM rt r WHERE anomaly.anomaly_score('rt@1', r) = anomaly.anomaly_score('rt@2', r);

-- given options override, and are stored for the next retrain
SELECT version FROM anomaly.anomaly_retrain('rt', '{"epochs": 1, "seed": 9}');
SELECT version FROM anomaly.anomaly_retrain('rt');
SELECT version, options FROM anomaly.model_versions WHERE name = 'rt' ORDER BY version;
SELECT count(*) AS same FROM rt r WHERE anomaly.anomaly_score('rt@3', r) = anomaly.anomaly_score('rt@4', r);
SELECT anomaly.anomaly_retrain('rt', '{"epochs": 0}');
SELECT anomaly.anomaly_retrain('rt', '{"nosuch": 1}');
SELECT anomaly.anomaly_retrain('rt', '[1]');
SELECT version, deployed FROM anomaly.models WHERE name = 'rt' AND deployed;

-- a feature column that has gone is an error naming it
ALTER TABLE rt DROP COLUMN b;
SELECT anomaly.anomaly_retrain('rt');
SELECT version FROM anomaly.models WHERE name = 'rt' AND deployed;

SELECT anomaly.anomaly_retrain('nosuch');
SELECT anomaly.anomaly_retrain(NULL);

-- an imported model has no source to retrain from
SELECT version FROM anomaly.anomaly_import_model('rt_copy', anomaly.anomaly_export_model('rt'));
SELECT anomaly.anomaly_retrain('rt_copy');

-- anomaly.progress = off: no NOTICE per epoch
SET client_min_messages = notice;
SET anomaly.progress = off;
CREATE TABLE rt2 AS SELECT i AS a, i % 7 AS b FROM generate_series(1, 100) i;
SELECT version FROM anomaly.anomaly_create_model('rt2', 'rt2', options => '{"epochs": 3}');
SET anomaly.progress = nonsense;
RESET anomaly.progress;
SET client_min_messages = warning;

-- no deployed version (a superuser's edit of the catalog): retraining and a
-- threshold for the deployed version have nothing to start from
UPDATE anomaly.model_versions SET deployed = false WHERE name = 'rt';
SELECT anomaly.anomaly_retrain('rt');
SELECT anomaly.anomaly_set_threshold('rt', 1.0);

SELECT anomaly.anomaly_drop_model('rt');
SELECT anomaly.anomaly_drop_model('rt_copy');
SELECT anomaly.anomaly_drop_model('rt2');
DROP TABLE rt, rt2;
