-- anomaly_flag_trigger: score and flag rows as they are written.
SET client_min_messages = warning;
CREATE TABLE trg_train AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 AS b FROM generate_series(1, 500) i;
SELECT version FROM anomaly.anomaly_create_model('trg', 'trg_train', method => 'autoencoder', exclude => '{id}', options => '{"seed": 1, "epochs": 3}');

CREATE TABLE trg_rows (id int, a float8, b float8, score float8, flag boolean, s4 real, sn numeric, label text);
CREATE TRIGGER flag BEFORE INSERT OR UPDATE ON trg_rows
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score', 'flag');
INSERT INTO trg_rows (id, a, b) SELECT id, a, b FROM trg_train WHERE id <= 200;
INSERT INTO trg_rows (id, a, b) VALUES (1000, 40, -40);
-- the trigger's score is anomaly_score's, its flag anomaly_is_anomaly's
SELECT count(*) AS rows, count(*) FILTER (WHERE score = anomaly.anomaly_score('trg', r)) AS same_score,
       count(*) FILTER (WHERE flag = anomaly.anomaly_is_anomaly('trg', r)) AS same_flag
FROM trg_rows r;
SELECT id, flag FROM trg_rows WHERE id = 1000;
-- UPDATE rescores NEW
UPDATE trg_rows SET a = 0, b = 0 WHERE id = 1000;
SELECT id, score = anomaly.anomaly_score('trg', ARRAY[0, 0]::float8[]) AS rescored FROM trg_rows WHERE id = 1000;
-- the flag follows the deployed threshold, changed at any time
SELECT version FROM anomaly.anomaly_set_threshold('trg', -1);
INSERT INTO trg_rows (id, a, b) VALUES (1001, 0.1, 0.2) RETURNING id, flag;
DROP TRIGGER flag ON trg_rows;

-- real and numeric score columns, no flag column
CREATE TRIGGER flag4 BEFORE INSERT ON trg_rows
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 's4');
CREATE TRIGGER flagn BEFORE INSERT ON trg_rows
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'sn');
INSERT INTO trg_rows (id, a, b) VALUES (2000, 0.5, 1.0)
    RETURNING s4 = anomaly.anomaly_score('trg', ARRAY[0.5, 1.0]::float8[])::real AS real_ok,
              sn = anomaly.anomaly_score('trg', ARRAY[0.5, 1.0]::float8[])::numeric AS numeric_ok, score, flag;
DROP TRIGGER flag4 ON trg_rows;
DROP TRIGGER flagn ON trg_rows;

-- shadow scoring of a version that is not deployed
CREATE TABLE trg_shadow (a float8, b float8, s_live float8, s_v1 float8);
CREATE TRIGGER live BEFORE INSERT ON trg_shadow FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 's_live');
CREATE TRIGGER v1 BEFORE INSERT ON trg_shadow FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg@1', 's_v1');
INSERT INTO trg_shadow (a, b) VALUES (0.3, 0.6) RETURNING s_live = s_v1 AS same;

-- errors: each names what is wrong
CREATE TABLE trg_bad (a float8, b float8, score float8, flag boolean, t text);
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'nosuch');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 't');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score', 'a');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score', 'flag', 'extra');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('nosuch', 'score');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad AFTER INSERT ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE INSERT ON trg_bad FOR EACH STATEMENT EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DROP TRIGGER bad ON trg_bad;
CREATE TRIGGER bad BEFORE DELETE ON trg_bad FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score');
INSERT INTO trg_bad (a, b) VALUES (1, 1);
DELETE FROM trg_bad;
DROP TRIGGER bad ON trg_bad;
-- a table without the model's features
CREATE TABLE trg_nofeat (x float8, score float8);
CREATE TRIGGER bad BEFORE INSERT ON trg_nofeat FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score');
INSERT INTO trg_nofeat VALUES (1);
SELECT anomaly.anomaly_flag_trigger();

-- the reject pattern: a second trigger raises on flagged rows; with a
-- threshold set well above the training scores, normal rows pass
SELECT version FROM anomaly.anomaly_set_threshold('trg', (SELECT 3 * max(anomaly.anomaly_score('trg', t)) FROM trg_train t));
CREATE TABLE trg_guarded (a float8, b float8, score float8, flag boolean);
CREATE TRIGGER a_score BEFORE INSERT ON trg_guarded
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('trg', 'score', 'flag');
CREATE FUNCTION trg_reject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.flag THEN
        RAISE EXCEPTION 'row rejected as anomalous'
            USING ERRCODE = 'check_violation', DETAIL = format('Score %s.', NEW.score > 1000);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER b_reject BEFORE INSERT ON trg_guarded FOR EACH ROW EXECUTE FUNCTION trg_reject();
INSERT INTO trg_guarded (a, b) SELECT a, b FROM trg_train;
SELECT count(*) AS accepted, count(*) FILTER (WHERE flag) AS flagged FROM trg_guarded;
INSERT INTO trg_guarded (a, b) VALUES (400, -400);

-- anomaly_drop_model refuses while a trigger names the model
SELECT anomaly.anomaly_drop_model('trg');
SELECT anomaly.anomaly_drop_model('trg@1');
DROP TRIGGER a_score ON trg_guarded;
DROP TRIGGER live ON trg_shadow;
DROP TRIGGER v1 ON trg_shadow;
SELECT anomaly.anomaly_drop_model('trg');
SELECT anomaly.anomaly_drop_model('trg', force => true);
INSERT INTO trg_nofeat VALUES (1);
DROP TABLE trg_train, trg_rows, trg_shadow, trg_bad, trg_nofeat, trg_guarded;
DROP FUNCTION trg_reject();
