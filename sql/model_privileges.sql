-- Model privileges (issue 8): without a grant from the owner, another role
-- neither reads a model (source, features, document) nor scores with it.
SET client_min_messages = warning;
CREATE ROLE anomaly_alice;
CREATE ROLE anomaly_bob;
CREATE TABLE mp_tx AS
SELECT i AS id, sin(i * 0.1) * 10 AS amount, (i % 24) AS hour,
       (ARRAY['ann', 'ben', 'cid'])[1 + i % 3] AS customer
FROM generate_series(1, 300) i;
GRANT SELECT ON mp_tx TO anomaly_alice;
-- bob has rows of the same shape, but no access to alice's table
CREATE TABLE mp_bob AS SELECT * FROM mp_tx WHERE id <= 5;
GRANT SELECT, INSERT ON mp_bob TO anomaly_bob;
CREATE TABLE mp_flagged (amount float8, hour int, customer text, score float8);
CREATE TRIGGER mp_flag BEFORE INSERT ON mp_flagged
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('mp_m', 'score');
GRANT INSERT, SELECT ON mp_flagged TO anomaly_bob;
SET ROLE anomaly_alice;
SELECT version FROM anomaly.anomaly_create_model('mp_m',
    'SELECT amount, hour, customer FROM mp_tx -- api_key=sk-SECRET',
    options => '{"seed": 1, "epochs": 1}');
SELECT name, features FROM anomaly.models;
SELECT count(*) AS alice_reads FROM anomaly.model_versions WHERE source LIKE '%SECRET%';

-- bob: no grant
SET ROLE anomaly_bob;
SELECT count(*) AS visible_versions FROM anomaly.model_versions;
SELECT count(*) AS visible_models FROM anomaly.models;
SELECT name, owner FROM anomaly.model_names;
SELECT anomaly.anomaly_score('mp_m', b) FROM mp_bob b LIMIT 1;
SELECT anomaly.anomaly_score('mp_m@1', b) FROM mp_bob b LIMIT 1;
SELECT anomaly.anomaly_score('mp_m', ARRAY[1, 2, 0, 0, 1, 0]::float8[]);
SELECT anomaly.anomaly_is_anomaly('mp_m', b) FROM mp_bob b LIMIT 1;
SELECT anomaly.anomaly_percentile('mp_m', b) FROM mp_bob b LIMIT 1;
SELECT * FROM anomaly.anomaly_explain('mp_m', (SELECT b FROM mp_bob b LIMIT 1));
SELECT * FROM anomaly.anomaly_evaluate('mp_m', 'SELECT *, id = 1 AS label FROM mp_bob', 'label');
SELECT length(anomaly.anomaly_export_model('mp_m'));
INSERT INTO mp_flagged (amount, hour, customer) VALUES (1, 2, 'ann');
-- nor can bob grant himself, or write the catalog
SELECT anomaly.anomaly_grant('mp_m', 'anomaly_bob', 'read');
INSERT INTO anomaly.model_privileges VALUES ('mp_m', 'anomaly_bob', 'read', 'anomaly_alice');

-- alice grants 'score': bob scores, sees the version without its features, still reads nothing
SET ROLE anomaly_alice;
SELECT anomaly.anomaly_grant('mp_m', 'anomaly_bob');
SELECT name, grantee, privilege, granted_by FROM anomaly.model_privileges;
SET ROLE anomaly_bob;
SELECT anomaly.anomaly_score('mp_m', b) > 0 AS scores, anomaly.anomaly_is_anomaly('mp_m', b) IS NOT NULL AS flags,
       anomaly.anomaly_percentile('mp_m', b) BETWEEN 0 AND 1 AS percentile
FROM mp_bob b ORDER BY id LIMIT 1;
SELECT count(*) AS explained FROM anomaly.anomaly_explain('mp_m', (SELECT b FROM mp_bob b LIMIT 1));
SELECT n FROM anomaly.anomaly_evaluate('mp_m', 'SELECT *, id = 1 AS label FROM mp_bob', 'label');
INSERT INTO mp_flagged (amount, hour, customer) VALUES (1, 2, 'ann') RETURNING score > 0 AS trigger_scored;
SELECT name, version, features, owner FROM anomaly.models;
SELECT count(*) AS visible_versions FROM anomaly.model_versions;
SELECT length(anomaly.anomaly_export_model('mp_m'));

-- 'read': bob reads the source and exports; revoking 'read' leaves 'score'
SET ROLE anomaly_alice;
SELECT anomaly.anomaly_grant('mp_m', 'anomaly_bob', 'read');
SET ROLE anomaly_bob;
SELECT source FROM anomaly.model_versions;
SELECT features FROM anomaly.models;
SELECT length(anomaly.anomaly_export_model('mp_m')) > 100 AS exported;
SET ROLE anomaly_alice;
SELECT anomaly.anomaly_revoke('mp_m', 'anomaly_bob', 'read');
SET ROLE anomaly_bob;
SELECT length(anomaly.anomaly_export_model('mp_m'));
SELECT anomaly.anomaly_score('mp_m', b) > 0 AS still_scores FROM mp_bob b LIMIT 1;

-- a revoke holds from the next statement, though bob's backend has the model cached
SET ROLE anomaly_alice;
SELECT anomaly.anomaly_revoke('mp_m', 'anomaly_bob');
SET ROLE anomaly_bob;
SELECT anomaly.anomaly_score('mp_m', b) FROM mp_bob b LIMIT 1;
SELECT count(*) AS visible_models FROM anomaly.models;

-- PUBLIC
SET ROLE anomaly_alice;
SELECT anomaly.anomaly_grant('mp_m', 'public');
SET ROLE anomaly_bob;
SELECT anomaly.anomaly_score('mp_m', b) > 0 AS public_scores FROM mp_bob b LIMIT 1;
SET ROLE anomaly_alice;
SELECT anomaly.anomaly_revoke('mp_m', 'PUBLIC');

-- mistakes
SELECT anomaly.anomaly_grant('mp_m', 'anomaly_bob', 'write');
SELECT anomaly.anomaly_grant('mp_m@1', 'anomaly_bob');
SELECT anomaly.anomaly_grant('mp_m', 'anomaly_nobody');
SELECT anomaly.anomaly_grant('mp_none', 'anomaly_bob');

-- dropping the model drops its grants: a model of the same name starts private
SELECT anomaly.anomaly_grant('mp_m', 'anomaly_bob');
SELECT anomaly.anomaly_drop_model('mp_m', force => true);
SELECT count(*) AS grants_left FROM anomaly.model_privileges;
SELECT version FROM anomaly.anomaly_create_model('mp_m', 'SELECT amount, hour, customer FROM mp_tx',
    options => '{"seed": 1, "epochs": 1}');
SET ROLE anomaly_bob;
SELECT anomaly.anomaly_score('mp_m', b) FROM mp_bob b LIMIT 1;

-- superusers read and score everything
RESET ROLE;
SELECT count(*) AS superuser_reads FROM anomaly.model_versions WHERE name = 'mp_m';
SELECT anomaly.anomaly_score('mp_m', b) > 0 AS superuser_scores FROM mp_bob b LIMIT 1;
SELECT anomaly.anomaly_drop_model('mp_m', force => true);
DROP TABLE mp_tx, mp_bob, mp_flagged;
DROP ROLE anomaly_alice;
DROP ROLE anomaly_bob;
