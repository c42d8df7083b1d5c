-- Only its owner's roles replace or drop a model; others score it once granted.
SET client_min_messages = warning;
CREATE TABLE priv AS SELECT i::float8 AS x, (i * 2 % 7)::float8 AS y FROM generate_series(1, 200) i;
SELECT version FROM anomaly.anomaly_create_model('owned', 'priv', options => '{"epochs": 1}');
CREATE ROLE anomaly_intruder;
GRANT SELECT ON priv TO anomaly_intruder;
SELECT anomaly.anomaly_grant('owned', 'anomaly_intruder');
SET ROLE anomaly_intruder;
SELECT anomaly.anomaly_score('owned', p) IS NOT NULL AS can_score FROM priv p LIMIT 1;
SELECT anomaly.anomaly_create_model('owned', 'priv', options => '{"epochs": 1}', replace => true);
SELECT anomaly.anomaly_drop_model('owned');
UPDATE anomaly.model_versions SET deployed = false;
DELETE FROM anomaly.model_versions;
SELECT anomaly.anomaly_grant('owned', 'anomaly_intruder', 'read');
INSERT INTO anomaly.model_privileges VALUES ('owned', 'anomaly_intruder', 'read', 'anomaly_intruder');
-- training reads the source with the caller's privileges
SELECT anomaly.anomaly_create_model('stolen', 'SELECT * FROM pg_authid');
RESET ROLE;
SELECT name, version, deployed FROM anomaly.models;
SELECT anomaly.anomaly_drop_model('owned');
DROP TABLE priv;
DROP ROLE anomaly_intruder;
