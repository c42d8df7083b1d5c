-- Variational autoencoder: scores, determinism, errors.
SET client_min_messages = warning;
CREATE TABLE vae_src AS
SELECT i AS id, sin(i * 0.1) AS a, sin(i * 0.1) * 2 + cos(i * 0.07) * 0.1 AS b, cos(i * 0.3) AS c,
       (ARRAY['x', 'y', 'z'])[1 + i % 3] AS kind
FROM generate_series(1, 2000) i;

SELECT name, method, features, trained_rows
FROM anomaly.anomaly_create_model('vae', 'vae_src', method => 'vae', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15}');
SELECT anomaly.anomaly_score('vae', r) > 2 * m.threshold AS outlier_far_above, anomaly.anomaly_is_anomaly('vae', r) AS flagged
FROM (SELECT 5.0::float8 AS a, -9.0::float8 AS b, 4.0::float8 AS c, 'x' AS kind) r, anomaly.models m WHERE m.name = 'vae';
-- scoring is deterministic (z = mu): the same row always gets the same score
SELECT count(DISTINCT anomaly.anomaly_score('vae', s)) AS distinct_scores
FROM (SELECT * FROM vae_src WHERE id = 9 UNION ALL SELECT * FROM vae_src WHERE id = 9) s;
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('vae', s)) BETWEEN 10 AND 30 AS about_one_percent FROM vae_src s;

-- the three scores: elbo and recon_kl add the KL term to the reconstruction
SELECT version FROM anomaly.anomaly_create_model('vae_elbo', 'vae_src', method => 'vae', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15, "score": "elbo"}');
SELECT version FROM anomaly.anomaly_create_model('vae_rkl', 'vae_src', method => 'vae', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15, "score": "recon_kl"}');
SELECT bool_and(anomaly.anomaly_score('vae_elbo', s) >= anomaly.anomaly_score('vae_rkl', s) - 1e-9) AS elbo_at_least_recon_kl,
       bool_and(anomaly.anomaly_score('vae_rkl', s) >= anomaly.anomaly_score('vae', s) - 1e-9) AS recon_kl_at_least_recon
FROM vae_src s WHERE id <= 200;

-- the same seed gives the same model
SELECT version FROM anomaly.anomaly_create_model('vae2', 'vae_src', method => 'vae', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 15}');
SELECT count(*) FILTER (WHERE anomaly.anomaly_score('vae', s) = anomaly.anomaly_score('vae2', s)) AS identical FROM vae_src s;

-- errors name the option
SELECT anomaly.anomaly_create_model('bad', 'vae_src', method => 'vae', exclude => '{id}', options => '{"beta": -1}');
SELECT anomaly.anomaly_create_model('bad', 'vae_src', method => 'vae', exclude => '{id}', options => '{"beta": "high"}');
SELECT anomaly.anomaly_create_model('bad', 'vae_src', method => 'vae', exclude => '{id}', options => '{"score": "likelihood"}');
SELECT anomaly.anomaly_create_model('bad', 'vae_src', method => 'vae', exclude => '{id}', options => '{"nu": 0.1}');

SELECT anomaly.anomaly_drop_model(n) FROM unnest(ARRAY['vae', 'vae_elbo', 'vae_rkl', 'vae2']) n;

-- a small beta keeps the latent code in use: a row that breaks the a/b
-- correlation, while each value is ordinary, stands out
SELECT version FROM anomaly.anomaly_create_model('vae_small_beta', 'vae_src', method => 'vae', exclude => '{id}',
                          options => '{"seed": 1, "epochs": 30, "beta": 0.02, "score": "recon_kl"}');
SELECT anomaly.anomaly_score('vae_small_beta', r) > m.threshold AS broken_correlation_flagged
FROM (SELECT 1.0::float8 AS a, -2.0::float8 AS b, 0.5::float8 AS c, 'x' AS kind) r, anomaly.models m
WHERE m.name = 'vae_small_beta';
SELECT anomaly.anomaly_drop_model('vae_small_beta');
