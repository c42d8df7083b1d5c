-- Versions: deploy (roll back / forward), shadow scoring with 'name@n',
-- thresholds in the catalog only, keeping the last N versions, dropping one.
SET client_min_messages = warning;
CREATE TABLE ver AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.3) AS b FROM generate_series(1, 400) i;
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 1, "epochs": 2}');
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 2, "epochs": 2}', replace => true);
SELECT version, deployed FROM anomaly.models WHERE name = 'ver' ORDER BY version;

-- 'ver@1' scores version 1 while version 2 is deployed
SELECT anomaly.anomaly_score('ver@1', v) <> anomaly.anomaly_score('ver', v) AS differ,
       anomaly.anomaly_score('ver@2', v) = anomaly.anomaly_score('ver', v) AS deployed_is_2
FROM ver v WHERE id = 7;
CREATE TEMP TABLE v1 AS SELECT id, anomaly.anomaly_score('ver@1', v) AS s FROM ver v;

-- roll back in one statement; the next query scores with version 1
SELECT version, deployed FROM anomaly.anomaly_deploy('ver', 1);
SELECT count(*) AS same_as_v1 FROM ver v JOIN v1 USING (id) WHERE anomaly.anomaly_score('ver', v) = v1.s;
SELECT version, deployed FROM anomaly.models WHERE name = 'ver' ORDER BY version;
SELECT version, deployed FROM anomaly.anomaly_deploy('ver', 1);   -- already deployed: no change
SELECT anomaly.anomaly_deploy('ver', 9);
SELECT anomaly.anomaly_deploy('ver@2', 2);
SELECT anomaly.anomaly_deploy('nosuch', 1);

-- thresholds: the catalog column is the one anomaly_is_anomaly uses
SELECT version, threshold FROM anomaly.anomaly_set_threshold('ver', 1e6);
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ver', v)) AS flagged FROM ver v;
SELECT version, threshold FROM anomaly.anomaly_set_threshold('ver', -1);
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ver', v)) AS flagged FROM ver v;
-- a version that is not deployed has its own threshold
SELECT version, threshold FROM anomaly.anomaly_set_threshold('ver@2', 1e6);
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ver@2', v)) AS flagged_v2,
       count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ver', v)) AS flagged_v1 FROM ver v;
SELECT version, threshold FROM anomaly.models WHERE name = 'ver' ORDER BY version;
SELECT anomaly.anomaly_set_threshold('ver', 'NaN');
SELECT anomaly.anomaly_set_threshold('ver', 'Infinity');
SELECT anomaly.anomaly_set_threshold('ver@7', 1);

-- references that are not valid
SELECT anomaly.anomaly_score('ver@0', v) FROM ver v WHERE id = 1;
SELECT anomaly.anomaly_score('ver@5', v) FROM ver v WHERE id = 1;
SELECT anomaly.anomaly_score('@5', v) FROM ver v WHERE id = 1;
SELECT anomaly.anomaly_create_model('a@b', 'ver', options => '{"epochs": 1}');

-- anomaly.keep_versions: older undeployed versions go when a new one is stored
SET anomaly.keep_versions = 2;
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 3, "epochs": 1}', replace => true);
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 4, "epochs": 1}', replace => true);
SELECT version, deployed FROM anomaly.models WHERE name = 'ver' ORDER BY version;
-- with 1, only the new (deployed) version stays
SET anomaly.keep_versions = 1;
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 5, "epochs": 1}', replace => true);
SET anomaly.keep_versions = 0;
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 6, "epochs": 1}', replace => true);
SELECT version, deployed FROM anomaly.models WHERE name = 'ver' ORDER BY version;
RESET anomaly.keep_versions;
SET anomaly.keep_versions = -1;

-- dropping one version: not the deployed one
SELECT anomaly.anomaly_drop_model('ver@6');
SELECT anomaly.anomaly_drop_model('ver@5');
SELECT anomaly.anomaly_drop_model('ver@5');
SELECT anomaly.anomaly_drop_model('ver@5', if_exists => true);
SELECT version, deployed FROM anomaly.models WHERE name = 'ver' ORDER BY version;

-- a dropped newest version's number is not given again: 'ver@7' names one model
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 7, "epochs": 1}', replace => true);
SELECT version, deployed FROM anomaly.anomaly_deploy('ver', 6);
SELECT anomaly.anomaly_drop_model('ver@7');
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 8, "epochs": 1}', replace => true);
SELECT version, deployed FROM anomaly.models WHERE name = 'ver' ORDER BY version;
SELECT last_version FROM anomaly.model_names WHERE name = 'ver';

SELECT anomaly.anomaly_drop_model('ver');
SELECT count(*) FROM anomaly.model_versions WHERE name = 'ver';
SELECT count(*) FROM anomaly.model_names WHERE name = 'ver';
-- a new model under a dropped name starts again at 1
SELECT version FROM anomaly.anomaly_create_model('ver', 'ver', exclude => '{id}', options => '{"seed": 9, "epochs": 1}');
SELECT anomaly.anomaly_drop_model('ver');
DROP TABLE ver;
