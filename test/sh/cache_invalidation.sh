#!/usr/bin/env bash
# test/sh/cache_invalidation.sh: a backend that believes its last validation of a
# cached model (cache.c: no catalog query until an invalidation) sees every change
# by its very next statement.
#
# One session (as the superuser, and as a role bob through SET ROLE) keeps the
# model cached and validated; a second session, run with \!, changes what the
# validation depends on: the role membership that gives bob the score privilege
# (REVOKE and GRANT of the role), the role's inheritance (ALTER ROLE NOINHERIT),
# the model's grant (anomaly_revoke), the model (a retrain, used by the next
# INSERT's anomaly_flag_trigger), and the catalog rows themselves, by hand.  In
# READ COMMITTED a retrain between two statements of one transaction is used by
# the second; in REPEATABLE READ the transaction keeps the version its snapshot
# sees, as before.  And in a warm session, statements do not query the catalog
# (pg_stat_xact_all_tables counts no scan of anomaly.model_versions), except in
# REPEATABLE READ, whose first statement validates for the transaction.
set -euo pipefail
other() {	# a statement in another session, as the superuser
	printf '\\! psql -X -q -At -c "SET client_min_messages = warning" -c "%s"\n' "$1"
}
# pending counts of the backend: compared within one transaction, which flushes none
lookups="SELECT coalesce(sum(coalesce(idx_scan, 0) + coalesce(seq_scan, 0)), 0) AS sum FROM pg_stat_xact_all_tables WHERE relid = 'anomaly.model_versions'::regclass"
ins="INSERT INTO ci_ins (a, b) VALUES (0.5, 0.25)"
score="SELECT anomaly.anomaly_score('ci_m', c) FROM ci c WHERE id = 7"
out=$(psql -X -q -At 2>&1 <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS ci, ci_ins;
DELETE FROM anomaly.model_privileges WHERE name = 'ci_m';
DELETE FROM anomaly.model_versions WHERE name = 'ci_m';
DELETE FROM anomaly.model_names WHERE name = 'ci_m';
DROP ROLE IF EXISTS ci_bob;
DROP ROLE IF EXISTS ci_team;
CREATE ROLE ci_team;
CREATE ROLE ci_bob IN ROLE ci_team;
CREATE TABLE ci AS SELECT i AS id, sin(i * 0.1) AS a, cos(i * 0.1) AS b FROM generate_series(1, 500) i;
CREATE TABLE ci_ins (a float8, b float8, score float8, flag boolean);
CREATE TRIGGER ci_flag BEFORE INSERT ON ci_ins FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('ci_m', 'score', 'flag');
GRANT SELECT ON ci TO ci_bob;
GRANT SELECT, INSERT ON ci_ins TO ci_bob;
SELECT 'trained ' || version FROM anomaly.anomaly_create_model('ci_m', 'ci', method => 'autoencoder', exclude => '{id}', options => '{"seed": 1, "epochs": 2}');
SELECT anomaly.anomaly_grant('ci_m', 'ci_team', 'score');

-- warm up: the loading transaction believes nothing, the next validates
$ins;
$ins;
$ins;
-- three tries: an autovacuum of the catalog in between invalidates too
BEGIN; $ins; $lookups \gset w_
$ins; $ins; $ins; SELECT 'warm lookups ' || (($lookups) - :w_sum); COMMIT;
BEGIN; $ins; $lookups \gset w_
$ins; $ins; $ins; SELECT 'warm lookups ' || (($lookups) - :w_sum); COMMIT;
BEGIN; $ins; $lookups \gset w_
$ins; $ins; $ins; SELECT 'warm lookups ' || (($lookups) - :w_sum); COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ; $lookups \gset r_
$ins; $ins; SELECT 'repeatable read lookups ' || (($lookups) > :r_sum); COMMIT;

-- a retrain in another session: the next INSERT's trigger uses it
$ins RETURNING score AS before \gset
$(other "SELECT 'retrained ' || version FROM anomaly.anomaly_create_model('ci_m', 'ci', method => 'autoencoder', exclude => '{id}', options => '{\\\"seed\\\": 2, \\\"epochs\\\": 2}', replace => true)")
$ins RETURNING CASE WHEN score <> :before THEN 'trigger uses the new version' ELSE 'trigger uses a stale version' END;

-- READ COMMITTED: a retrain between two statements of one transaction
BEGIN;
$score \gset rc_
$(other "SELECT 'retrained ' || version FROM anomaly.anomaly_create_model('ci_m', 'ci', method => 'autoencoder', exclude => '{id}', options => '{\\\"seed\\\": 3, \\\"epochs\\\": 2}', replace => true)")
SELECT CASE WHEN anomaly.anomaly_score('ci_m', c) <> :rc_anomaly_score THEN 'read committed: new version' ELSE 'read committed: stale version' END FROM ci c WHERE id = 7;
COMMIT;

-- REPEATABLE READ: the transaction keeps the version its snapshot sees
BEGIN ISOLATION LEVEL REPEATABLE READ;
$score \gset rr_
$(other "SELECT 'retrained ' || version FROM anomaly.anomaly_create_model('ci_m', 'ci', method => 'autoencoder', exclude => '{id}', options => '{\\\"seed\\\": 4, \\\"epochs\\\": 2}', replace => true)")
SELECT CASE WHEN anomaly.anomaly_score('ci_m', c) = :rr_anomaly_score THEN 'repeatable read: same version' ELSE 'repeatable read: version changed' END FROM ci c WHERE id = 7;
COMMIT;
SELECT CASE WHEN anomaly.anomaly_score('ci_m', c) <> :rr_anomaly_score THEN 'next transaction: new version' ELSE 'next transaction: stale version' END FROM ci c WHERE id = 7;

-- bob scores through his membership of ci_team, which has the grant
SET ROLE ci_bob;
SELECT 'bob scores ' || (($score) IS NOT NULL);
SELECT 'bob scores ' || (($score) IS NOT NULL);
$(other "REVOKE ci_team FROM ci_bob")
SELECT 'after membership revoke ' || (($score) IS NOT NULL);
$(other "GRANT ci_team TO ci_bob")
SELECT 'after membership grant ' || (($score) IS NOT NULL);
$(other "ALTER ROLE ci_bob NOINHERIT")
SELECT 'after noinherit ' || (($score) IS NOT NULL);
$(other "ALTER ROLE ci_bob INHERIT")
SELECT 'after inherit ' || (($score) IS NOT NULL);
$ins;
$ins;
$(other "SELECT 'revoked' FROM anomaly.anomaly_revoke('ci_m', 'ci_team', 'score')")
$ins;
$(other "SELECT 'granted' FROM anomaly.anomaly_grant('ci_m', 'ci_team', 'score')")
$ins RETURNING 'bob inserts again ' || (score IS NOT NULL);
RESET ROLE;

-- the superuser caches the model, then SET ROLE to bob without the grant
$(other "SELECT 'revoked' FROM anomaly.anomaly_revoke('ci_m', 'ci_team', 'score')")
SELECT 'superuser scores ' || (($score) IS NOT NULL);
SELECT 'superuser scores ' || (($score) IS NOT NULL);
SET ROLE ci_bob;
SELECT 'set role bob ' || (($score) IS NOT NULL);
RESET ROLE;

-- the catalog changed by hand, without the functions
SELECT count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ci_m', c)) < 500 AS some_normal FROM ci c;
$(other "UPDATE anomaly.model_versions SET threshold = -1 WHERE name = 'ci_m' AND deployed")
SELECT CASE WHEN count(*) FILTER (WHERE anomaly.anomaly_is_anomaly('ci_m', c)) = 500 THEN 'threshold set by hand used' ELSE 'stale threshold used' END FROM ci c;
$(other "DELETE FROM anomaly.model_versions WHERE name = 'ci_m'")
SELECT 'after delete by hand ' || (($score) IS NOT NULL);

DROP TABLE ci, ci_ins;
DELETE FROM anomaly.model_privileges WHERE name = 'ci_m';
DELETE FROM anomaly.model_names WHERE name = 'ci_m';
DROP ROLE ci_bob;
DROP ROLE ci_team;
SQL
)
echo "$out"
# here-strings, not pipes: grep -q closes the pipe early and pipefail
# would report echo's SIGPIPE as a failure
grep -q '^trained 1$' <<<"$out"
grep -q '^warm lookups 0$' <<<"$out"
grep -q '^repeatable read lookups true$' <<<"$out"
grep -q '^retrained 2$' <<<"$out"
grep -q '^trigger uses the new version$' <<<"$out"
grep -q '^read committed: new version$' <<<"$out"
grep -q '^repeatable read: same version$' <<<"$out"
grep -q '^next transaction: new version$' <<<"$out"
[ "$(grep -c '^bob scores true$' <<<"$out")" = 2 ]
grep -q '^after membership grant true$' <<<"$out"
grep -q '^after inherit true$' <<<"$out"
grep -q '^bob inserts again true$' <<<"$out"
[ "$(grep -c '^superuser scores true$' <<<"$out")" = 2 ]
grep -q '^threshold set by hand used$' <<<"$out"
# each change refused the very next statement
[ "$(grep -c 'permission denied to score with model "ci_m"' <<<"$out")" = 4 ]
! grep -q '^after membership revoke\|^after noinherit\|^set role bob\|stale\|changed' <<<"$out"
grep -q 'model "ci_m" does not exist' <<<"$out"
! grep -q '^after delete by hand' <<<"$out"
