#!/usr/bin/env bash
# test/sh/dump_restore.sh: pg_dump and pg_restore keep models, with identical scores.
#
# A database with models of a superuser and of a non-superuser owner (one
# with a threshold set, one with two versions, a trigger using one) is
# dumped by the superuser and by the owner, restored by the superuser into
# new databases, and every score, flag, version, owner, threshold and grant
# must be the same there.  A role reads only the models it may read (row-
# level security on anomaly.model_versions), so the owner dumps with
# --enable-row-security, which dumps its own models, their names and their
# grants, and nothing of the superuser's; without the option pg_dump fails
# with PostgreSQL's row-level security error.
set -euo pipefail
src=anomaly_dump_src
work=
cleanup() {
	for db in $src anomaly_dump_su anomaly_dump_owner; do
		psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
	done
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS dump_alice" >/dev/null 2>&1 || true
	[ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
cleanup
work=$(mktemp -d); chmod 755 "$work"
psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE ROLE dump_alice LOGIN" \
	-c "CREATE DATABASE $src OWNER dump_alice"

psql -X -q -d "$src" -v ON_ERROR_STOP=1 -At <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION anomaly;
SET ROLE dump_alice;
CREATE TABLE tx AS
SELECT i AS id, sin(i * 0.1) * 10 AS amount, (i % 24) AS hour, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS shop
FROM generate_series(1, 500) i;
SELECT version FROM anomaly.anomaly_create_model('alice_ae', 'tx', exclude => '{id}', options => '{"seed": 1, "epochs": 2}');
SELECT version FROM anomaly.anomaly_create_model('alice_ae', 'tx', exclude => '{id}', options => '{"seed": 2, "epochs": 2}', replace => true);
SELECT version FROM anomaly.anomaly_set_threshold('alice_ae', 0.75);
SELECT anomaly.anomaly_grant('alice_ae', 'public');
CREATE TABLE incoming (amount float8, hour int, shop text, score float8, flag boolean);
CREATE TRIGGER score BEFORE INSERT ON incoming
    FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('alice_ae', 'score', 'flag');
RESET ROLE;
SELECT version FROM anomaly.anomaly_create_model('su_svdd', 'SELECT amount, hour FROM tx', method => 'deep_svdd', options => '{"seed": 3}');
SQL

# the scores, flags, catalog and grants of the models named like $2, as
# text (float8 prints exactly)
snapshot() {
	psql -X -q -d "$1" -v ON_ERROR_STOP=1 -v like="$2" -At <<'SQL'
SELECT name, version, deployed, owner, threshold, trained_rows, features FROM anomaly.models
WHERE name LIKE :'like' ORDER BY 1, 2;
SELECT name, grantee, privilege FROM anomaly.model_privileges WHERE name LIKE :'like' ORDER BY 1, 2, 3;
SELECT m.ref, t.id, anomaly.anomaly_score(m.ref, t), anomaly.anomaly_is_anomaly(m.ref, t)
FROM tx t, (VALUES ('alice_ae'), ('alice_ae@1'), ('su_svdd')) AS m(ref)
WHERE m.ref LIKE :'like' ORDER BY 1, 2;
SQL
}
snapshot "$src" '%' >"$work/su_expected.txt"
snapshot "$src" 'alice%' >"$work/owner_expected.txt"

# without --enable-row-security the owner's pg_dump refuses, as PostgreSQL does
if pg_dump -Fc -U dump_alice -d "$src" -f "$work/refused.dump" 2>"$work/refused.txt"; then
	echo "the owner's pg_dump without --enable-row-security should fail"; exit 1
fi
grep -q "row-level security" "$work/refused.txt" || { cat "$work/refused.txt"; exit 1; }

pg_dump -Fc -d "$src" -f "$work/su.dump"
pg_dump -Fc -U dump_alice --enable-row-security -d "$src" -f "$work/owner.dump"
for kind in su owner; do
	psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE anomaly_dump_$kind OWNER dump_alice"
	pg_restore -d "anomaly_dump_$kind" --exit-on-error "$work/$kind.dump"
	like='%'; [ "$kind" = su ] || like='alice%'
	snapshot "anomaly_dump_$kind" "$like" >"$work/$kind.txt"
	if ! cmp -s "$work/${kind}_expected.txt" "$work/$kind.txt"; then
		echo "restore of the $kind dump differs:"
		diff "$work/${kind}_expected.txt" "$work/$kind.txt" | head -20
		exit 1
	fi
	echo "$kind dump: $(wc -l <"$work/$kind.txt") lines identical"
done
# the owner's dump has no trace of the superuser's model, not even its name
n=$(psql -X -q -d anomaly_dump_owner -At -c "SELECT count(*) FROM anomaly.model_names WHERE name = 'su_svdd'")
[ "$n" = 0 ] || { echo "the owner's dump has the superuser's model name"; exit 1; }

# the restored trigger and ownership work
out=$(psql -X -q -d anomaly_dump_su -v ON_ERROR_STOP=1 -At <<'SQL'
INSERT INTO incoming (amount, hour, shop) VALUES (500, 3, 'z') RETURNING 'trigger flag ' || flag;
SET ROLE dump_alice;
SELECT 'alice deploys ' || version FROM anomaly.anomaly_deploy('alice_ae', 1);
SQL
)
echo "$out"
echo "$out" | grep -qx "trigger flag true"
echo "$out" | grep -qx "alice deploys 1"
