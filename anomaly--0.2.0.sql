/* anomaly--0.2.0.sql: install script of version 0.2.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION anomaly" to load this file. \quit

-- Every change here is also a step in the upgrade script of this version
-- (anomaly--0.1.0--0.2.0.sql), and test/sh/upgrade.sh checks that a fresh
-- install and an upgraded one have the same objects.  Every name below is
-- qualified, so the script is safe whatever the search_path.

---- Catalog -----------------------------------------------------------------

-- CREATE EXTENSION creates schema anomaly (schema = anomaly in anomaly.control), which
-- holds every object; only the extension's owner creates objects in it.
GRANT USAGE ON SCHEMA anomaly TO PUBLIC;

-- One row per model version.  Nobody but the extension's owner writes it:
-- the functions below check the caller against the name's owner and write
-- as the catalog's owner (see src/pg/catalog.c).  A role reads the rows of
-- the models it may read (row-level security; see anomaly_grant).
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
    created_by    regrole     NOT NULL,
    source        text,
    exclude       text[]      NOT NULL DEFAULT '{}',
    options       jsonb       NOT NULL DEFAULT '{}',
    model         bytea       NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX model_versions_deployed ON anomaly.model_versions (name) WHERE deployed;
COMMENT ON TABLE anomaly.model_versions IS
    'anomaly: every trained model version, with its msgpack model document';
COMMENT ON COLUMN anomaly.model_versions.threshold IS
    'score above which anomaly_is_anomaly is true; the only threshold used for scoring';
COMMENT ON COLUMN anomaly.model_versions.source IS
    'the training source; NULL for an imported version';

-- One row per model name: its owner, whose members alone change the model.
CREATE TABLE anomaly.model_names (
    name         text    PRIMARY KEY,
    owner        regrole NOT NULL,
    last_version integer NOT NULL DEFAULT 0 CHECK (last_version >= 0)
);
COMMENT ON TABLE anomaly.model_names IS
    'anomaly: the owner role of each model name';
COMMENT ON COLUMN anomaly.model_names.last_version IS
    'the highest version number given under this name: numbers are never reused while the name exists';

-- Who else may score a model or read it (its source, features, document):
-- anomaly_grant and anomaly_revoke write it.  'read' includes 'score'.
CREATE TABLE anomaly.model_privileges (
    name       text    NOT NULL,
    grantee    regrole NOT NULL,
    privilege  text    NOT NULL CHECK (privilege IN ('score', 'read')),
    granted_by regrole NOT NULL,
    PRIMARY KEY (name, grantee, privilege)
);
COMMENT ON TABLE anomaly.model_privileges IS
    'anomaly: privileges on models granted by their owners; grantee - is PUBLIC';
COMMENT ON COLUMN anomaly.model_privileges.grantee IS
    'the role granted the privilege, or - (OID 0) for PUBLIC';

REVOKE ALL ON anomaly.model_versions, anomaly.model_names, anomaly.model_privileges FROM PUBLIC;
GRANT SELECT ON anomaly.model_versions, anomaly.model_names, anomaly.model_privileges TO PUBLIC;

-- A role sees the versions of the models it may read: those of a role it
-- has the privileges of (superusers: all), and those granted 'read' to it
-- or to PUBLIC.  The catalog's owner bypasses this (the functions look up
-- models as the owner and check the caller's privileges themselves).
ALTER TABLE anomaly.model_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_versions_read ON anomaly.model_versions FOR SELECT USING (
    EXISTS (SELECT FROM anomaly.model_names n
            WHERE n.name OPERATOR(pg_catalog.=) model_versions.name
              AND pg_catalog.pg_has_role(n.owner, 'USAGE'))
    OR EXISTS (SELECT FROM anomaly.model_privileges p
               WHERE p.name OPERATOR(pg_catalog.=) model_versions.name
                 AND p.privilege OPERATOR(pg_catalog.=) 'read'
                 AND (p.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
                      OR pg_catalog.pg_has_role(p.grantee, 'USAGE'))));

-- pg_dump keeps the models (a non-superuser dumps with --enable-row-security
-- the models it may read, and only their names and privileges)
SELECT pg_catalog.pg_extension_config_dump('anomaly.model_versions', '');
SELECT pg_catalog.pg_extension_config_dump('anomaly.model_names',
    'WHERE EXISTS (SELECT FROM anomaly.model_versions v WHERE v.name OPERATOR(pg_catalog.=) model_names.name)');
SELECT pg_catalog.pg_extension_config_dump('anomaly.model_privileges',
    'WHERE EXISTS (SELECT FROM anomaly.model_versions v WHERE v.name OPERATOR(pg_catalog.=) model_privileges.name)');

-- The versions of the models a role may score (see model_versions_read);
-- features only of those it may read.  A security barrier: no function of
-- the caller's sees the rows filtered out.
CREATE VIEW anomaly.models WITH (security_barrier) AS
    SELECT v.name, v.version, v.deployed, v.method,
           CASE WHEN a.may_read THEN v.features END AS features,
           v.trained_rows, v.train_seconds, v.loss, v.threshold, v.created_at, n.owner
    FROM anomaly.model_versions v
         LEFT JOIN anomaly.model_names n ON n.name OPERATOR(pg_catalog.=) v.name
         CROSS JOIN LATERAL (
             SELECT pg_catalog.pg_has_role(n.owner, 'USAGE')
                    OR EXISTS (SELECT FROM anomaly.model_privileges p
                               WHERE p.name OPERATOR(pg_catalog.=) v.name
                                 AND p.privilege OPERATOR(pg_catalog.=) 'read'
                                 AND (p.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
                                      OR pg_catalog.pg_has_role(p.grantee, 'USAGE'))) AS may_read,
                    EXISTS (SELECT FROM anomaly.model_privileges p
                            WHERE p.name OPERATOR(pg_catalog.=) v.name
                              AND (p.grantee::pg_catalog.oid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
                                   OR pg_catalog.pg_has_role(p.grantee, 'USAGE'))) AS granted
         ) a
    WHERE a.may_read OR a.granted;
COMMENT ON VIEW anomaly.models IS
    'anomaly: one row per version of each model the current role may score (features: if it may read it)';
GRANT SELECT ON anomaly.models TO PUBLIC;

---- Training ----------------------------------------------------------------

CREATE FUNCTION anomaly.anomaly_create_model(
    name    text,
    source  text,
    method  text    DEFAULT 'auto',
    exclude text[]  DEFAULT '{}',
    options jsonb   DEFAULT '{}',
    replace boolean DEFAULT false)
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_create_model_0_2'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_create_model(text, text, text, text[], jsonb, boolean) IS
    'train a model on a table, view or query and deploy it as a new version';

CREATE FUNCTION anomaly.anomaly_retrain(name text, options jsonb DEFAULT '{}')
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_retrain'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_retrain(text, jsonb) IS
    'train a new version with the deployed version''s source, method, features and options (given options override), and deploy it';

---- Scoring -----------------------------------------------------------------

-- The planner rewrites a record-form call on a table's whole row into the column form,
-- with just the model's columns (score_support.c): forming the row as a composite and
-- deforming it again costs more than scoring it.
CREATE FUNCTION anomaly.anomaly_score_support(internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'anomaly_score_support'
LANGUAGE C STRICT;
COMMENT ON FUNCTION anomaly.anomaly_score_support(internal) IS
    'planner support: anomaly_score(m, t) on a table''s whole row becomes a call on the model''s columns';

CREATE FUNCTION anomaly.anomaly_score_columns(model text, columns text[], VARIADIC "any")
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_score_columns'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION anomaly.anomaly_score_columns(text, text[], "any") IS
    'anomaly score of the columns given, named by columns; what the planner makes of anomaly_score(model, row)';

CREATE FUNCTION anomaly.anomaly_is_anomaly_columns(model text, columns text[], VARIADIC "any")
RETURNS boolean
AS 'MODULE_PATHNAME', 'anomaly_is_anomaly_columns'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION anomaly.anomaly_is_anomaly_columns(text, text[], "any") IS
    'anomaly_is_anomaly of the columns given, named by columns; what the planner makes of anomaly_is_anomaly(model, row)';

CREATE FUNCTION anomaly.anomaly_percentile_columns(model text, columns text[], VARIADIC "any")
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_percentile_columns'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION anomaly.anomaly_percentile_columns(text, text[], "any") IS
    'anomaly_percentile of the columns given, named by columns; what the planner makes of anomaly_percentile(model, row)';

CREATE FUNCTION anomaly.anomaly_score(model text, "row" record)
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_score_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT anomaly.anomaly_score_support;
COMMENT ON FUNCTION anomaly.anomaly_score(text, record) IS
    'anomaly score of a row, columns matched by name; higher is more anomalous';

CREATE FUNCTION anomaly.anomaly_score(model text, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_score_array'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION anomaly.anomaly_score(text, float8[]) IS
    'anomaly score of an encoded feature vector, in the order of anomaly.models.features';

CREATE FUNCTION anomaly.anomaly_is_anomaly(model text, "row" record)
RETURNS boolean
AS 'MODULE_PATHNAME', 'anomaly_is_anomaly_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT anomaly.anomaly_score_support;
COMMENT ON FUNCTION anomaly.anomaly_is_anomaly(text, record) IS
    'true when the row''s score is above the deployed version''s threshold';

CREATE FUNCTION anomaly.anomaly_flag_trigger()
RETURNS trigger
AS 'MODULE_PATHNAME', 'anomaly_flag_trigger'
LANGUAGE C;
COMMENT ON FUNCTION anomaly.anomaly_flag_trigger() IS
    'BEFORE INSERT OR UPDATE row trigger: arguments model, score column [, flag column]';

---- Versions and thresholds -------------------------------------------------

CREATE FUNCTION anomaly.anomaly_deploy(model text, version integer)
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_deploy'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_deploy(text, integer) IS
    'make a stored version the one used for scoring';

CREATE FUNCTION anomaly.anomaly_set_threshold(model text, threshold float8)
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_set_threshold'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_set_threshold(text, float8) IS
    'set the threshold of the deployed version (or of version n with ''model@n'')';

CREATE FUNCTION anomaly.anomaly_drop_model(model text, if_exists boolean DEFAULT false,
                                   force boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'anomaly_drop_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_drop_model(text, boolean, boolean) IS
    'drop every version of a model, or one version with ''model@n''';

---- Privileges --------------------------------------------------------------

CREATE FUNCTION anomaly.anomaly_grant(model text, role text, privilege text DEFAULT 'score')
RETURNS void
AS 'MODULE_PATHNAME', 'anomaly_grant'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_grant(text, text, text) IS
    'let a role (or PUBLIC) score a model (''score'') or also read its source, features and document (''read'')';

CREATE FUNCTION anomaly.anomaly_revoke(model text, role text, privilege text DEFAULT 'score')
RETURNS void
AS 'MODULE_PATHNAME', 'anomaly_revoke'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_revoke(text, text, text) IS
    'revoke a privilege on a model from a role (or PUBLIC): ''score'' (the default) revokes both, ''read'' leaves ''score'' if granted';

---- Export and import -------------------------------------------------------

CREATE FUNCTION anomaly.anomaly_export_model(model text, version integer DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'anomaly_export_model'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION anomaly.anomaly_export_model(text, integer) IS
    'the msgpack document of the deployed version (or of a given version), with its current threshold';

CREATE FUNCTION anomaly.anomaly_import_model(name text, model bytea, replace boolean DEFAULT false)
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_import_model'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_import_model(text, bytea, boolean) IS
    'store an exported model document as a new deployed version, owned by the caller';

---- Evaluation, explanations and calibration --------------------------------

CREATE FUNCTION anomaly.anomaly_evaluate(model text, source text, label_column text)
RETURNS TABLE(auroc float8, auprc float8, f1_best float8, threshold_best float8,
              precision_at_threshold float8, recall_at_threshold float8,
              n bigint, n_anomalies bigint)
AS 'MODULE_PATHNAME', 'anomaly_evaluate'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE ROWS 1;
COMMENT ON FUNCTION anomaly.anomaly_evaluate(text, text, text) IS
    'AUROC, average precision, best F1 and precision/recall at the threshold of a model against a boolean or 0/1 label column of a table, view or query';

CREATE FUNCTION anomaly.anomaly_explain(model text, "row" record)
RETURNS TABLE(feature text, value float8, contribution float8)
AS 'MODULE_PATHNAME', 'anomaly_explain'
LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION anomaly.anomaly_explain(text, record) IS
    'each feature column''s contribution to the row''s score, highest first';

CREATE FUNCTION anomaly.anomaly_percentile(model text, "row" record)
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_percentile_row'
LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT anomaly.anomaly_score_support;
COMMENT ON FUNCTION anomaly.anomaly_percentile(text, record) IS
    'the fraction of the training rows'' scores below the row''s score';

CREATE FUNCTION anomaly.anomaly_percentile(model text, features float8[])
RETURNS float8
AS 'MODULE_PATHNAME', 'anomaly_percentile_array'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION anomaly.anomaly_percentile(text, float8[]) IS
    'the fraction of the training rows'' scores below the score of an encoded feature vector';

---- Distributed PostgreSQL (Citus) -----------------------------------------

-- What scoring needs of the three catalog tables, for Citus workers, whose
-- catalog is empty (see docs/scaling.md and src/pg/distributed.c).
-- anomaly_distribute_catalog() makes them reference tables and fills them;
-- from then on the trigger below writes every catalog change to them in
-- the same transaction.  Without Citus they stay empty and unused.  Only
-- the catalog's owner reads them: they hold the documents of every model.
CREATE TABLE anomaly.replica_versions (
    name      text    NOT NULL,
    version   integer NOT NULL,
    deployed  boolean NOT NULL,
    threshold float8  NOT NULL,
    model     bytea   NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE anomaly.replica_names (
    name  text    PRIMARY KEY,
    owner regrole NOT NULL
);
CREATE TABLE anomaly.replica_privileges (
    name      text    NOT NULL,
    grantee   regrole NOT NULL,
    privilege text    NOT NULL,
    PRIMARY KEY (name, grantee, privilege)
);
COMMENT ON TABLE anomaly.replica_versions IS
    'anomaly: copy of the scoring columns of model_versions, for Citus workers';
COMMENT ON TABLE anomaly.replica_names IS
    'anomaly: copy of model_names, for Citus workers';
COMMENT ON TABLE anomaly.replica_privileges IS
    'anomaly: copy of the scoring columns of model_privileges, for Citus workers';
REVOKE ALL ON anomaly.replica_versions, anomaly.replica_names, anomaly.replica_privileges FROM PUBLIC;

CREATE FUNCTION anomaly.anomaly_replicate_catalog()
RETURNS trigger
AS 'MODULE_PATHNAME', 'anomaly_replicate_catalog'
LANGUAGE C;
COMMENT ON FUNCTION anomaly.anomaly_replicate_catalog() IS
    'row trigger on the catalog tables: the same change on their replicas, once distributed';
CREATE TRIGGER replicate AFTER INSERT OR UPDATE OR DELETE ON anomaly.model_versions
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_replicate_catalog();
CREATE TRIGGER replicate AFTER INSERT OR UPDATE OR DELETE ON anomaly.model_names
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_replicate_catalog();
CREATE TRIGGER replicate AFTER INSERT OR UPDATE OR DELETE ON anomaly.model_privileges
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_replicate_catalog();

CREATE FUNCTION anomaly.anomaly_distribute_catalog()
RETURNS bigint
AS 'MODULE_PATHNAME', 'anomaly_distribute_catalog'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION anomaly.anomaly_distribute_catalog() IS
    'on a Citus coordinator: replicate the model catalog to every worker, so that scoring pushed down to shards finds the models; returns the number of versions';
