#!/usr/bin/env bash
# test/sh/upgrade.sh: ALTER EXTENSION anomaly UPDATE from 0.1.0 keeps models scoring identically.
#
# Installs 0.1.0 in a new database, trains models there (one squatted by a
# second role, which 0.1.0 allowed), records every score and flag, updates
# the extension and checks that the same models give the same scores and
# flags, that the name's first owner keeps it, and that the upgraded
# extension has exactly the objects of a fresh install of the new version.
# Also checks that META.json carries the version of anomaly.control.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" anomaly.control)
grep -q "\"version\": \"$version\"" META.json || { echo "META.json does not say version $version"; exit 1; }
grep -q "\"file\": \"anomaly--$version.sql\"" META.json || { echo "META.json names another script"; exit 1; }

up=anomaly_upgrade
fresh=anomaly_fresh
cleanup() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $up" -c "DROP DATABASE IF EXISTS $fresh" \
		-c "DROP DATABASE IF EXISTS ${up}_restored" \
		-c "DROP ROLE IF EXISTS upgrade_alice" -c "DROP ROLE IF EXISTS upgrade_bob" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $up" -c "CREATE DATABASE $fresh" \
	-c "CREATE ROLE upgrade_alice" -c "CREATE ROLE upgrade_bob"

psql -X -q -d "$up" -v ON_ERROR_STOP=1 -At <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION anomaly VERSION '0.1.0';
SELECT 'installed ' || extversion FROM pg_extension WHERE extname = 'anomaly';
CREATE TABLE tx AS
SELECT i AS id, sin(i * 0.1) * 10 AS amount, (i % 24) AS hour, (i % 3 = 0) AS online,
       (ARRAY['a', 'b', 'c'])[1 + i % 3] AS shop
FROM generate_series(1, 600) i;
GRANT SELECT ON tx TO PUBLIC;
SELECT version FROM anomaly_create_model('up_ae', 'tx', exclude => '{id}', options => '{"seed": 1, "epochs": 3}');
SELECT version FROM anomaly_create_model('up_ae', 'tx', exclude => '{id}', options => '{"seed": 2, "epochs": 3}', replace => true);
SELECT version FROM anomaly_create_model('up_svdd', 'SELECT amount, hour FROM tx', method => 'deep_svdd', options => '{"seed": 3}');
-- 0.1.0: two sources of truth; the catalog threshold now is the one used
UPDATE anomaly.model_versions SET threshold = 0.5 WHERE name = 'up_svdd';
-- 0.1.0 let another role add a version of someone else's model
SET ROLE upgrade_alice;
SELECT version FROM anomaly_create_model('up_alice', 'tx', exclude => '{id}', options => '{"seed": 4, "epochs": 1}');
SET ROLE upgrade_bob;
INSERT INTO anomaly.model_versions
SELECT name, 99, false, method, features, trained_rows, train_seconds, loss, threshold, created_at,
       'upgrade_bob', source, exclude, options, model
FROM anomaly.model_versions WHERE name = 'up_alice';
RESET ROLE;
CREATE TABLE before AS
SELECT t.id, m.name, anomaly_score(m.name, t) AS score, anomaly_is_anomaly(m.name, t) AS flag
FROM tx t, (VALUES ('up_ae'), ('up_svdd'), ('up_alice')) AS m(name);
SELECT 'v1 rows ' || count(*) FROM before;
SQL

out=$(psql -X -q -d "$up" -v ON_ERROR_STOP=1 -At <<'SQL'
SET client_min_messages = warning;
ALTER EXTENSION anomaly UPDATE;
SELECT 'updated to ' || extversion FROM pg_extension WHERE extname = 'anomaly';
SELECT 'same scores ' || (count(*) FILTER (WHERE anomaly.anomaly_score(b.name, t) = b.score) = count(*))
FROM before b JOIN tx t USING (id);
SELECT 'same flags ' || (count(*) FILTER (WHERE anomaly.anomaly_is_anomaly(b.name, t) = b.flag) = count(*))
FROM before b JOIN tx t USING (id);
SELECT 'flags by catalog threshold ' || (count(*) FILTER (WHERE flag = (score > 0.5)) = count(*))
FROM before WHERE name = 'up_svdd';
SELECT 'owner ' || name || ' ' || owner FROM anomaly.model_names ORDER BY name;
SELECT 'versions ' || string_agg(version || ':' || deployed, ',' ORDER BY version) FROM anomaly.models WHERE name = 'up_ae';
-- the squatter cannot take the name over, the owner still retrains
SET ROLE upgrade_bob;
DO $$ BEGIN PERFORM anomaly.anomaly_drop_model('up_alice'); EXCEPTION WHEN insufficient_privilege THEN RAISE WARNING 'bob refused'; END $$;
SET ROLE upgrade_alice;
SELECT 'alice retrained ' || version FROM anomaly.anomaly_retrain('up_alice');
RESET ROLE;
-- old models keep working with the new functions
SELECT 'retrained ' || version FROM anomaly.anomaly_retrain('up_ae');
SELECT 'rolled back ' || version FROM anomaly.anomaly_deploy('up_ae', 2);
SELECT 'same after rollback ' || (count(*) FILTER (WHERE anomaly.anomaly_score('up_ae', t) = b.score) = count(*))
FROM before b JOIN tx t USING (id) WHERE b.name = 'up_ae';
SELECT 'export import ' || (anomaly.anomaly_import_model('up_copy', anomaly.anomaly_export_model('up_svdd'))).version;
SQL
)
echo "$out"
echo "$out" | grep -qx "updated to $version"
echo "$out" | grep -qx "same scores true"
echo "$out" | grep -qx "same flags true"
echo "$out" | grep -qx "flags by catalog threshold true"
echo "$out" | grep -qx "owner up_alice upgrade_alice"
echo "$out" | grep -qx "owner up_ae postgres"
echo "$out" | grep -qx "versions 1:false,2:true"
echo "$out" | grep -qx "alice retrained 100"
echo "$out" | grep -qx "retrained 3"
echo "$out" | grep -qx "rolled back 2"
echo "$out" | grep -qx "same after rollback true"
echo "$out" | grep -qx "export import 1"

# the upgraded extension has the objects of a fresh install, one for one
psql -X -q -d "$fresh" -v ON_ERROR_STOP=1 -c "CREATE EXTENSION anomaly"
describe() {
	psql -X -q -d "$1" -v ON_ERROR_STOP=1 -At <<'SQL'
WITH ext AS (SELECT oid, extconfig FROM pg_extension WHERE extname = 'anomaly'),
members AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
       || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
       || E'\nacl ' || coalesce(p.proacl::text, '-')
FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' rls ' || c.relrowsecurity
       || ' acl ' || coalesce(c.relacl::text, '-')
       || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
       || coalesce(E'\nview ' || pg_get_viewdef(c.oid), '')
FROM pg_class c WHERE c.relnamespace = 'anomaly'::regnamespace
UNION ALL
SELECT 'column ' || a.attrelid::regclass || ' ' || a.attnum || ' ' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' notnull ' || a.attnotnull
       || ' default ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
       || ' comment ' || coalesce(col_description(a.attrelid, a.attnum), '-')
FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid AND c.relnamespace = 'anomaly'::regnamespace
     LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'anomaly'::regnamespace
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index
WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'anomaly'::regnamespace)
UNION ALL
SELECT 'policy ' || tablename || ' ' || policyname FROM pg_policies WHERE schemaname = 'anomaly'
UNION ALL
SELECT 'config ' || c::regclass FROM ext, unnest(ext.extconfig) c
UNION ALL
SELECT 'schema acl ' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname = 'anomaly'
UNION ALL
SELECT 'extension schema ' || extnamespace::regnamespace FROM pg_extension WHERE extname = 'anomaly'
UNION ALL
SELECT 'extension depends on ' || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) || ' ' || d.deptype::text
FROM pg_depend d, ext WHERE d.classid = 'pg_extension'::regclass AND d.objid = ext.oid
UNION ALL
SELECT 'public function ' || p.oid::regprocedure FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'anomaly\_%'
ORDER BY 1;
SQL
}
describe "$up" >/tmp/anomaly-upgrade-described.$$
describe "$fresh" >/tmp/anomaly-fresh-described.$$
if ! diff -u /tmp/anomaly-fresh-described.$$ /tmp/anomaly-upgrade-described.$$; then
	echo "the upgraded extension differs from a fresh install (- fresh, + upgraded)"
	rm -f /tmp/anomaly-*-described.$$
	exit 1
fi
echo "fresh and upgraded installs match ($(wc -l </tmp/anomaly-fresh-described.$$) lines)"
rm -f /tmp/anomaly-*-described.$$

# the upgraded database dumps as CREATE EXTENSION anomaly WITH SCHEMA anomaly, and restores
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE ${up}_restored"
pg_dump -Fc -d "$up" | pg_restore -d "${up}_restored" --exit-on-error
restored=$(psql -X -q -d "${up}_restored" -v ON_ERROR_STOP=1 -At <<'SQL'
SELECT 'restored schema ' || extnamespace::regnamespace FROM pg_extension WHERE extname = 'anomaly';
SELECT 'restored scores ' || (count(*) FILTER (WHERE anomaly.anomaly_score('up_svdd', t) = b.score) = count(*))
FROM before b JOIN tx t USING (id) WHERE b.name = 'up_svdd';
SQL
)
echo "$restored"
echo "$restored" | grep -qx "restored schema anomaly"
echo "$restored" | grep -qx "restored scores true"
