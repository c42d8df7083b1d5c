-- Ownership per model name, with two non-superuser roles: only members of
-- a name's owner role change any version of it; nobody writes the catalog
-- tables directly; a name cannot be squatted.
SET client_min_messages = warning;
CREATE ROLE regress_alice;
CREATE ROLE regress_bob;
CREATE ROLE regress_alice_team;
GRANT regress_alice TO regress_alice_team;
CREATE TABLE own_src AS SELECT i::float8 AS x, (i * 2 % 7)::float8 AS y FROM generate_series(1, 200) i;
GRANT SELECT ON own_src TO PUBLIC;
CREATE SCHEMA regress_evil AUTHORIZATION regress_bob;

SET ROLE regress_alice;
SELECT name, version, owner FROM anomaly.anomaly_create_model('alices', 'own_src', options => '{"epochs": 1, "seed": 1}');
-- (model privileges are tested in model_privileges)
SELECT anomaly.anomaly_grant('alices', 'regress_bob', 'read');
RESET ROLE;

SET ROLE regress_bob;
-- bob may read and score, as granted
SELECT anomaly.anomaly_score('alices', s) IS NOT NULL AS can_score FROM own_src s LIMIT 1;
SELECT name, version, owner FROM anomaly.models WHERE name = 'alices';
-- but changes nothing of alice's model
SELECT anomaly.anomaly_create_model('alices', 'own_src', options => '{"epochs": 1}');
SELECT anomaly.anomaly_create_model('alices', 'own_src', options => '{"epochs": 1}', replace => true);
SELECT anomaly.anomaly_retrain('alices');
SELECT anomaly.anomaly_deploy('alices', 1);
SELECT anomaly.anomaly_set_threshold('alices', 0);
SELECT anomaly.anomaly_set_threshold('alices@1', 0);
SELECT anomaly.anomaly_import_model('alices', anomaly.anomaly_export_model('alices'), replace => true);
SELECT anomaly.anomaly_drop_model('alices');
SELECT anomaly.anomaly_drop_model('alices@1');
-- nor writes the catalog directly: no squatting "version 99"
INSERT INTO anomaly.model_versions SELECT name, 99, false, method, features, trained_rows, train_seconds,
    loss, threshold, created_at, 'regress_bob', source, exclude, options, model
    FROM anomaly.model_versions WHERE name = 'alices';
UPDATE anomaly.model_versions SET threshold = 0;
DELETE FROM anomaly.model_versions;
INSERT INTO anomaly.model_names VALUES ('squat', 'regress_bob');
UPDATE anomaly.model_names SET owner = 'regress_bob';
DELETE FROM anomaly.model_names;
TRUNCATE anomaly.model_versions;
-- a search_path that shadows operators changes nothing: every name in the
-- functions is schema-qualified, and catalog writes run on pg_catalog only
CREATE FUNCTION regress_evil.texteq(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR regress_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_evil.texteq);
SET search_path = regress_evil, public, pg_catalog;
SELECT version FROM anomaly.anomaly_create_model('bobs', 'own_src', options => '{"epochs": 1, "seed": 2}');
SELECT version FROM anomaly.anomaly_set_threshold('bobs', 5);
SELECT anomaly.anomaly_drop_model('alices');
RESET search_path;
SELECT name, version, threshold = 5 AS threshold_5, owner FROM anomaly.models ORDER BY name, version;
-- bob's own model: he owns the name, and may import over it
SELECT version, owner FROM anomaly.anomaly_import_model('bobs', anomaly.anomaly_export_model('alices'), replace => true);
-- the importing role owns a copy
SELECT version, owner FROM anomaly.anomaly_import_model('bobs_copy_of_alices', anomaly.anomaly_export_model('alices'));
RESET ROLE;

-- a member of alice's role may change her model
SET ROLE regress_alice_team;
SELECT version, owner FROM anomaly.anomaly_create_model('alices', 'own_src', options => '{"epochs": 1, "seed": 3}', replace => true);
SELECT version FROM anomaly.anomaly_deploy('alices', 1);
SELECT version, threshold FROM anomaly.anomaly_set_threshold('alices', 0.5);
SELECT version FROM anomaly.anomaly_retrain('alices');
SELECT anomaly.anomaly_drop_model('alices@2');
-- versions are created by the member, the name stays alice's
SELECT version, deployed, created_by FROM anomaly.model_versions WHERE name = 'alices' ORDER BY version;
SELECT DISTINCT owner FROM anomaly.models WHERE name = 'alices';
-- training reads the source with the caller's privileges
SELECT anomaly.anomaly_create_model('stolen', 'SELECT * FROM pg_authid');
RESET ROLE;

-- superusers may change any model
SELECT version FROM anomaly.anomaly_set_threshold('bobs', 1);
SELECT anomaly.anomaly_drop_model('bobs');
SET ROLE regress_bob;
SELECT anomaly.anomaly_drop_model('bobs_copy_of_alices');
RESET ROLE;
DROP SCHEMA regress_evil CASCADE;
SET ROLE regress_alice;
SELECT anomaly.anomaly_drop_model('alices');
RESET ROLE;
SELECT count(*) FROM anomaly.model_versions;
SELECT count(*) FROM anomaly.model_names;
DROP TABLE own_src;
DROP ROLE regress_alice_team, regress_alice, regress_bob;
