-- Scoring is parallel safe: workers score with the same results.
SET client_min_messages = warning;
CREATE TABLE par AS
SELECT i AS id, sin(i * 0.01) AS a, sin(i * 0.01) * 2 + (i % 3) * 0.1 AS b
FROM generate_series(1, 50000) i;
ANALYZE par;
SELECT version FROM anomaly.anomaly_create_model('par', 'par', exclude => '{id}', options => '{"seed": 8, "epochs": 2}');

CREATE TEMP TABLE serial_scores AS SELECT id, anomaly.anomaly_score('par', p) AS s FROM par p;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT sum(anomaly.anomaly_score('par', p)) FROM par p;
SELECT count(*) AS scored, round(sum(anomaly.anomaly_score('par', p))::numeric, 6) = (SELECT round(sum(s)::numeric, 6) FROM serial_scores) AS same_sum
FROM par p;
EXPLAIN (COSTS OFF) SELECT id FROM par p WHERE anomaly.anomaly_is_anomaly('par', p);
SELECT count(*) = (SELECT count(*) FROM serial_scores s, anomaly.models m WHERE m.name = 'par' AND s.s > m.threshold) AS same_flags
FROM par p WHERE anomaly.anomaly_is_anomaly('par', p);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT anomaly.anomaly_drop_model('par');
