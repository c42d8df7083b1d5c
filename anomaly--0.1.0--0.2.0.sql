/* anomaly--0.1.0--0.2.0.sql: upgrade from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION anomaly UPDATE TO '0.2.0'" to load this file. \quit

-- The result must equal a fresh install of anomaly--0.2.0.sql, object for
-- object (test/sh/upgrade.sh compares them).  Stored documents are not
-- touched: the models score as before.

---- Schema ------------------------------------------------------------------

-- 0.1.0's functions lived in the extension's schema (public, usually), where any role
-- with CREATE could define an overload that an unqualified call resolved to, such as
-- public.anomaly_score(text, tx), which beats (text, record) by an exact type match, and
-- ran as the caller.  Every function now lives in schema anomaly, where only the
-- extension's owner creates objects; the end of this script makes it the extension's
-- schema.
ALTER FUNCTION @extschema@.anomaly_create_model(text, text, text, text[], jsonb, boolean)
    SET SCHEMA anomaly;
ALTER FUNCTION @extschema@.anomaly_score(text, record) SET SCHEMA anomaly;
ALTER FUNCTION @extschema@.anomaly_score(text, float8[]) SET SCHEMA anomaly;
ALTER FUNCTION @extschema@.anomaly_is_anomaly(text, record) SET SCHEMA anomaly;
-- now in C (it checks the name's owner and refuses while a trigger uses it)
DROP FUNCTION @extschema@.anomaly_drop_model(text, boolean);

---- Catalog -----------------------------------------------------------------

-- Ownership is per name, in its own table.  A name's owner is the role that
-- created its first version: in 0.1.0 another role could insert a later
-- version of someone else's model, and that must not take the name over.
CREATE TABLE anomaly.model_names (
    name         text    PRIMARY KEY,
    owner        regrole NOT NULL,
    last_version integer NOT NULL DEFAULT 0 CHECK (last_version >= 0)
);
COMMENT ON TABLE anomaly.model_names IS
    'anomaly: the owner role of each model name';
COMMENT ON COLUMN anomaly.model_names.last_version IS
    'the highest version number given under this name: numbers are never reused while the name exists';
INSERT INTO anomaly.model_names (name, owner, last_version)
    SELECT DISTINCT ON (v.name) v.name, v.owner,
           pg_catalog.max(v.version) OVER (PARTITION BY v.name)
    FROM anomaly.model_versions v
    ORDER BY v.name, v.version;

-- the per-version column records who trained it; the owner is per name
ALTER TABLE anomaly.model_versions RENAME COLUMN owner TO created_by;
-- an imported version has no source
ALTER TABLE anomaly.model_versions ALTER COLUMN source DROP NOT NULL;
COMMENT ON COLUMN anomaly.model_versions.threshold IS
    'score above which anomaly_is_anomaly is true; the only threshold used for scoring';
COMMENT ON COLUMN anomaly.model_versions.source IS
    'the training source; NULL for an imported version';

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

-- Writes go through the functions only.  0.1.0's row-level security goes:
-- it let any role write rows under its own name (squatting a name) while
-- reads were open to all; reads are now limited to the models a role may
-- read.  Existing models become private to their owners (anomaly_grant).
DROP POLICY model_versions_read ON anomaly.model_versions;
DROP POLICY model_versions_owner ON anomaly.model_versions;
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
SELECT pg_catalog.pg_extension_config_dump('anomaly.model_names',
    'WHERE EXISTS (SELECT FROM anomaly.model_versions v WHERE v.name OPERATOR(pg_catalog.=) model_names.name)');
SELECT pg_catalog.pg_extension_config_dump('anomaly.model_privileges',
    'WHERE EXISTS (SELECT FROM anomaly.model_versions v WHERE v.name OPERATOR(pg_catalog.=) model_privileges.name)');

-- The versions of the models a role may score (see model_versions_read);
-- features only of those it may read.  A security barrier: no function of
-- the caller's sees the rows filtered out.
CREATE OR REPLACE VIEW anomaly.models WITH (security_barrier) AS
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

-- same signature, the entry point that writes the 0.2.0 catalog
CREATE OR REPLACE FUNCTION anomaly.anomaly_create_model(
    name    text,
    source  text,
    method  text    DEFAULT 'auto',
    exclude text[]  DEFAULT '{}',
    options jsonb   DEFAULT '{}',
    replace boolean DEFAULT false)
RETURNS anomaly.models
AS 'MODULE_PATHNAME', 'anomaly_create_model_0_2'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

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

ALTER FUNCTION anomaly.anomaly_score(text, record) SUPPORT anomaly.anomaly_score_support;
ALTER FUNCTION anomaly.anomaly_is_anomaly(text, record) SUPPORT anomaly.anomaly_score_support;

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

---- The extension's schema --------------------------------------------------

-- A fresh install has schema = anomaly (anomaly.control): CREATE EXTENSION creates the
-- schema, which is then the extension's schema and not one of its members.  PostgreSQL has
-- no command to move a non-relocatable extension (ALTER EXTENSION SET SCHEMA is for
-- relocatable ones), so this script does what CREATE EXTENSION would have recorded: the
-- schema stops being a member, the extension depends on it and lives in it.  pg_dump then
-- writes CREATE EXTENSION anomaly WITH SCHEMA anomaly, which the control file accepts.
ALTER EXTENSION anomaly DROP SCHEMA anomaly;
DELETE FROM pg_catalog.pg_depend
WHERE classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
  AND objid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                    WHERE e.extname OPERATOR(pg_catalog.=) 'anomaly')
  AND refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
SELECT 'pg_catalog.pg_extension'::pg_catalog.regclass, e.oid, 0,
       'pg_catalog.pg_namespace'::pg_catalog.regclass, 'anomaly'::pg_catalog.regnamespace, 0, 'n'
FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'anomaly';
UPDATE pg_catalog.pg_extension SET extnamespace = 'anomaly'::pg_catalog.regnamespace
WHERE extname OPERATOR(pg_catalog.=) 'anomaly';
