-- Options are validated, each error names the option.
SET client_min_messages = warning;
CREATE TABLE opt AS SELECT i::float8 AS x, (i % 10)::float8 AS y FROM generate_series(1, 300) i;

SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"epoch": 3}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"epochs": 0}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"epochs": 2.5}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"epochs": "many"}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"batch_size": -1}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"learning_rate": 0}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"weight_decay": -0.1}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"contamination": 0.9}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"validation_fraction": 0.7}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"early_stopping_patience": -2}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"hidden": []}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"hidden": [32, "a"]}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"hidden": [1,2,3,4,5,6,7,8,9]}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"latent": 0}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"activation": "softmax"}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"scaler": "minmax"}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"seed": -1}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"max_rows": 0}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"max_categories": 0}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '[1, 2]');
SELECT anomaly.anomaly_create_model('o', 'opt', method => 'forest');
SELECT anomaly.anomaly_create_model(NULL, 'opt');
SELECT anomaly.anomaly_create_model('o', NULL);
SELECT anomaly.anomaly_create_model('o', '');
SELECT anomaly.anomaly_create_model(repeat('x', 64), 'opt');
SELECT count(*) FROM anomaly.model_versions;

-- every documented option is accepted
SELECT method, trained_rows FROM anomaly.anomaly_create_model('o', 'opt', options => '{
  "hidden": [8, 6], "latent": 2, "activation": "tanh", "epochs": 3, "batch_size": 16,
  "learning_rate": 0.01, "weight_decay": 0.0001, "seed": 9, "validation_fraction": 0.2,
  "early_stopping_patience": 2, "contamination": 0.05, "max_rows": 1000,
  "scaler": "robust", "max_categories": 5}');
SELECT round(threshold::numeric, 6) = round((SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY anomaly.anomaly_score('o', t)) FROM opt t)::numeric, 6) AS threshold_is_quantile
FROM anomaly.models WHERE name = 'o';
SELECT anomaly.anomaly_drop_model('o');

-- absurd sizes are refused before anything is allocated
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"hidden": [65536, 65536]}');
SELECT anomaly.anomaly_create_model('o', 'opt', options => '{"batch_size": 65536, "hidden": [65536]}');
SELECT count(*) FROM anomaly.model_versions;
