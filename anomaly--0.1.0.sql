/* anomaly--0.1.0.sql: first release */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION anomaly" to load this file. \quit

-- The catalog: one row per model version.  Every name below is qualified,
-- so the script and the functions are safe whatever the search_path.
CREATE SCHEMA anomaly;
GRANT USAGE ON SCHEMA anomaly TO PUBLIC;

CREATE TABLE anomaly.model_versions (
    name          text        NOT NULL,
    version       integer     NOT NULL CHECK (version > 0),
    deployed      boolean     NOT NULL DEFAULT false,
    method        text        NOT NULL,
    features      text[]      NOT NULL,
    trained_rows  bigint      NOT NULL,
    train_seconds float8      NOT NULL,
    loss          float8,
    threshold     float8      NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    owner         regrole     NOT NULL,
    source        text        NOT NULL,
    exclude       text[]      NOT NULL DEFAULT '{}',
    options       jsonb       NOT NULL DEFAULT '{}',
    model         bytea       NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX model_versions_deployed ON anomaly.model_versions (name) WHERE deployed;
COMMENT ON TABLE anomaly.model_versions IS
    'anomaly: every trained model version, with its msgpack model document';

-- pg_dump keeps the models
SELECT pg_catalog.pg_extension_config_dump('anomaly.model_versions', '');

-- Anyone may read and score models; only the owner's roles change them.
ALTER TABLE anomaly.model_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_versions_read ON anomaly.model_versions
    FOR SELECT USING (true);
CREATE POLICY model_versions_owner ON anomaly.model_versions
    FOR ALL USING (pg_catalog.pg_has_role(CURRENT_USER, owner, 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role(CURRENT_USER, owner, 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON anomaly.model_versions TO PUBLIC;

CREATE VIEW anomaly.models AS
    SELECT name, version, deployed, method, features, trained_rows,
           train_seconds, loss, threshold, created_at, owner
    FROM anomaly.model_versions;
COMMENT ON VIEW anomaly.models IS 'anomaly: one row per model version';
GRANT SELECT ON anomaly.models TO PUBLIC;

-- Training

CREATE FUNCTION anomaly_create_model(
    name    text,
    source  text,
    method  text    DEFAULT 'autoencoder',
    exclude text[]  DEFAULT '{}',
    options jsonb   DEFAULT '{}',
    replace boolean DEFAULT false)
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_create_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly_create_model(text, text, text, text[], jsonb, boolean) IS
    'train a model on a table, view or query and deploy it as a new version';

-- Scoring

CREATE FUNCTION anomaly_score(model text, "row" record)
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_score_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION anomaly_score(text, record) IS
    'anomaly score of a row, columns matched by name; higher is more anomalous';

CREATE FUNCTION anomaly_score(model text, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_score_array'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION anomaly_score(text, float8[]) IS
    'anomaly score of an encoded feature vector, in the order of anomaly.models.features';

CREATE FUNCTION anomaly_is_anomaly(model text, "row" record)
RETURNS boolean
AS 'MODULE_PATHNAME', 'anomaly_is_anomaly_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION anomaly_is_anomaly(text, record) IS
    'true when the row''s score is above the deployed version''s threshold';

-- Management

CREATE FUNCTION anomaly_drop_model(model text, if_exists boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    model_owner regrole;
BEGIN
    IF model IS NULL THEN
        RAISE EXCEPTION 'model must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT m.owner INTO model_owner FROM anomaly.model_versions m
        WHERE m.name = anomaly_drop_model.model LIMIT 1;
    IF NOT FOUND THEN
        IF if_exists THEN
            RAISE NOTICE 'model "%" does not exist, skipping', model;
            RETURN;
        END IF;
        RAISE EXCEPTION 'model "%" does not exist', model
            USING ERRCODE = 'undefined_object',
                  HINT = 'List models in anomaly.models.';
    END IF;
    IF NOT pg_has_role(current_user, model_owner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of model "%"', model
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM anomaly.model_versions m WHERE m.name = anomaly_drop_model.model;
END
$$;
COMMENT ON FUNCTION anomaly_drop_model(text, boolean) IS
    'drop every version of a model';
