-- A cancelled training leaves no catalog row and no memory behind.
SET client_min_messages = warning;
CREATE TABLE big AS
SELECT i AS id, sin(i * 0.001) AS a, cos(i * 0.002) AS b, (i % 17)::float8 AS c
FROM generate_series(1, 100000) i;

SET statement_timeout = '1s';
SELECT anomaly.anomaly_create_model('slow', 'big', exclude => '{id}', options => '{"epochs": 100000, "early_stopping_patience": 0}');
RESET statement_timeout;
SELECT count(*) AS catalog_rows FROM anomaly.model_versions WHERE name = 'slow';
SELECT count(*) AS training_contexts FROM pg_backend_memory_contexts WHERE name LIKE 'anomaly training%';

-- the backend trains normally afterwards
SELECT trained_rows FROM anomaly.anomaly_create_model('slow', 'SELECT a, b FROM big LIMIT 1000', options => '{"epochs": 1}');
SELECT anomaly.anomaly_drop_model('slow');
