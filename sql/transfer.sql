-- Export and import: the document moves with its current threshold; an
-- import is validated in full before anything is written.
SET client_min_messages = warning;
CREATE TABLE tr AS
SELECT i AS id, sin(i * 0.1) AS a, (i % 3 = 0) AS b, (ARRAY['p', 'q', 'r'])[1 + i % 3] AS c
FROM generate_series(1, 300) i;
SELECT version FROM anomaly.anomaly_create_model('tr', 'tr', method => 'autoencoder', exclude => '{id}', options => '{"seed": 1, "epochs": 2}');

-- the exported bytes are the stored document while the threshold is unchanged
SELECT anomaly.anomaly_export_model('tr') = model AS as_stored
FROM anomaly.model_versions WHERE name = 'tr' AND version = 1;

-- an import scores and flags like the original
SELECT name, version, deployed, method, features, owner FROM anomaly.anomaly_import_model('tr_copy', anomaly.anomaly_export_model('tr'));
SELECT count(*) AS same_scores FROM tr t WHERE anomaly.anomaly_score('tr', t) = anomaly.anomaly_score('tr_copy', t);
SELECT m.source IS NULL AS no_source, m.trained_rows = o.trained_rows AS same_rows,
       m.threshold = o.threshold AS same_threshold
FROM anomaly.model_versions m, anomaly.model_versions o
WHERE m.name = 'tr_copy' AND o.name = 'tr';

-- a changed threshold travels with the export
SELECT version FROM anomaly.anomaly_set_threshold('tr', 0.25);
SELECT anomaly.anomaly_export_model('tr') = model AS as_stored
FROM anomaly.model_versions WHERE name = 'tr' AND version = 1;
SELECT version, threshold FROM anomaly.anomaly_import_model('tr_copy', anomaly.anomaly_export_model('tr'), replace => true);
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('tr', t) = anomaly.anomaly_is_anomaly('tr_copy', t)) AS same_flags FROM tr t;

-- versions
SELECT anomaly.anomaly_export_model('tr', 1) = anomaly.anomaly_export_model('tr@1') AS same;
SELECT anomaly.anomaly_export_model('tr', 2);
SELECT anomaly.anomaly_export_model('tr@1', 1);
SELECT anomaly.anomaly_export_model('tr', 0);
SELECT anomaly.anomaly_export_model('nosuch');
SELECT anomaly.anomaly_export_model(NULL) IS NULL AS null_in_null_out;

-- a taken name needs replace => true
SELECT anomaly.anomaly_import_model('tr_copy', anomaly.anomaly_export_model('tr'));
SELECT anomaly.anomaly_import_model('bad@1', anomaly.anomaly_export_model('tr'));
SELECT anomaly.anomaly_import_model('x', NULL);

-- invalid documents are rejected before anything is written
SELECT anomaly.anomaly_import_model('bad', '\x'::bytea);
SELECT anomaly.anomaly_import_model('bad', '\x80'::bytea);
SELECT anomaly.anomaly_import_model('bad', '\xc1c1c1'::bytea);
-- every truncation of a real document is rejected
DO $$
DECLARE
    doc bytea := anomaly.anomaly_export_model('tr');
    rejected int := 0;
    total int := 0;
BEGIN
    FOR n IN 1 .. length(doc) - 1 BY 37 LOOP
        total := total + 1;
        BEGIN
            PERFORM anomaly.anomaly_import_model('bad', substring(doc FROM 1 FOR n));
        EXCEPTION WHEN invalid_binary_representation THEN
            rejected := rejected + 1;
        END;
    END LOOP;
    RAISE WARNING 'truncations rejected: %', rejected = total;
END
$$;
-- a NaN threshold (a float64 after the "threshold" key) is rejected too
SELECT anomaly.anomaly_import_model('bad', overlay(anomaly.anomaly_export_model('tr') PLACING '\x7ff8000000000000'::bytea
    FROM position(convert_to('threshold', 'UTF8') IN anomaly.anomaly_export_model('tr')) + 10));
SELECT count(*) FROM anomaly.models WHERE name = 'bad';

SELECT anomaly.anomaly_drop_model('tr');
SELECT anomaly.anomaly_drop_model('tr_copy');
DROP TABLE tr;
