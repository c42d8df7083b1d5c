-- Training limits and least privilege in training (docs/security.md):
-- the memory budget, too few rows, all-NULL columns, a source that tries
-- to write, and the superuser's bound on training threads.
SET client_min_messages = warning;
CREATE TABLE sec AS
SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b FROM generate_series(1, 500) i;

-- the network, its optimiser and workspaces must fit in maintenance_work_mem
-- (one network: the default ensemble's forest alone takes most of 1MB)
SET maintenance_work_mem = '1MB';
SELECT anomaly.anomaly_create_model('sec_big', 'sec', method => 'autoencoder', exclude => '{id}',
    options => '{"hidden": [1024, 1024], "batch_size": 4096, "epochs": 1}');
-- the hint names the options that size the method's model
SELECT anomaly.anomaly_create_model('sec_big', 'sec', method => 'iforest', exclude => '{id}',
    options => '{"n_trees": 10000}');
SELECT anomaly.anomaly_create_model('sec_big', 'sec', exclude => '{id}',
    options => '{"members": "iforest,autoencoder,autoencoder,autoencoder,autoencoder,autoencoder,autoencoder,autoencoder", "hidden": [256]}');
-- what fits is trained as before
SELECT trained_rows FROM anomaly.anomaly_create_model('sec_small', 'sec', method => 'autoencoder', exclude => '{id}',
    options => '{"epochs": 1, "seed": 1}');
-- rows too wide for even two rows in half of maintenance_work_mem
DO $$ BEGIN
  EXECUTE 'CREATE TABLE sec_wide AS SELECT ' ||
    (SELECT string_agg(format('(i %% 3)::text AS t%s', k), ', ') FROM generate_series(1, 70) k) ||
    ' FROM generate_series(1, 10) i';
END $$;
SELECT anomaly.anomaly_create_model('sec_wide', 'sec_wide', options => '{"max_categories": 1000}');
DROP TABLE sec_wide;
RESET maintenance_work_mem;
SELECT count(*) FROM anomaly.models WHERE name = 'sec_big';

-- one row carries nothing to learn
SELECT anomaly.anomaly_create_model('sec_one', 'SELECT 1.0::float8 AS a, 2.0::float8 AS b');

-- a column that is NULL in every row is named
CREATE TABLE sec_nulls AS
SELECT i::float8 AS a, NULL::float8 AS b, NULL::text AS c FROM generate_series(1, 100) i;
SELECT anomaly.anomaly_create_model('sec_nulls', 'sec_nulls');
SELECT anomaly.anomaly_create_model('sec_nulls', 'sec_nulls', exclude => '{b}');
SELECT trained_rows FROM anomaly.anomaly_create_model('sec_nulls', 'sec_nulls', exclude => '{b,c}',
    options => '{"epochs": 1}');

-- the source runs read-only as a whole: a function in it cannot write
CREATE TABLE sec_side_effects (n int);
CREATE FUNCTION sec_sneaky(x float8) RETURNS float8 LANGUAGE plpgsql VOLATILE AS
$$ BEGIN INSERT INTO sec_side_effects VALUES (1); RETURN x; END $$;
SELECT anomaly.anomaly_create_model('sec_sneaky', 'SELECT sec_sneaky(a) AS a, b FROM sec');
SELECT count(*) AS rows_written FROM sec_side_effects;
-- and the transaction is writable again afterwards
INSERT INTO sec_side_effects VALUES (2);
SELECT count(*) AS rows_written FROM sec_side_effects;

-- training threads: only a superuser sets the maximum
CREATE ROLE anomaly_sec_user;
SET ROLE anomaly_sec_user;
SET anomaly.max_training_threads = 64;
SET anomaly.training_threads = 64;
RESET ROLE;
SET anomaly.max_training_threads = 1;
SET anomaly.training_threads = 3;
SELECT trained_rows FROM anomaly.anomaly_create_model('sec_threads', 'sec', exclude => '{id}',
    options => '{"epochs": 1, "seed": 1}');
RESET anomaly.training_threads;
RESET anomaly.max_training_threads;
DROP ROLE anomaly_sec_user;

SELECT anomaly.anomaly_drop_model(name) FROM anomaly.models WHERE name LIKE 'sec%' ORDER BY name;
DROP FUNCTION sec_sneaky(float8);
DROP TABLE sec, sec_nulls, sec_side_effects;
