-- Extreme values never evade detection: a score that would be NaN is
-- +Infinity, and scaled inputs are clamped (docs/security.md).
SET client_min_messages = warning;
CREATE TABLE nf AS
SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b FROM generate_series(1, 500) i;
SELECT version FROM anomaly.anomaly_create_model('nf', 'nf', exclude => '{id}',
    options => '{"epochs": 2, "seed": 1}');
CREATE TABLE nf_probe (label text, a float8, b float8);
INSERT INTO nf_probe VALUES
    ('a = 1e300', 1e300, 0.5),
    ('a = -1e300', -1e300, 0.5),
    ('b = 1e300', 0.5, 1e300),
    ('both at the float8 limits', 1.7976931348623157e308, -1.7976931348623157e308),
    ('a = 1e20', 1e20, 0.5);
SELECT p.label,
       anomaly.anomaly_is_anomaly('nf', p) AS is_anomaly,
       anomaly.anomaly_score('nf', p) > m.threshold AS above_threshold,
       anomaly.anomaly_score('nf', p) = anomaly.anomaly_score('nf', p) AS not_nan
FROM nf_probe p, anomaly.models m
WHERE m.name = 'nf'
ORDER BY p.label;
-- the array form takes the same path
SELECT anomaly.anomaly_score('nf', ARRAY[1e300, 0.5]::float8[]) >
       (SELECT threshold FROM anomaly.models WHERE name = 'nf') AS array_form;
-- NaN and Infinity are refused with the column named, as in training
SELECT anomaly.anomaly_score('nf', ROW('nan', 'NaN', 0.5)::nf_probe);
SELECT anomaly.anomaly_drop_model('nf');
DROP TABLE nf, nf_probe;
