#!/usr/bin/env bash
# test/sh/standby.sh: scoring on a hot standby (issue 11).
#
# A primary and a streaming-replication standby made with pg_basebackup -R, each a cluster of
# its own on a Unix socket, as the postgres OS user, stopped on exit.  Trains on the primary;
# the standby scores every row (as the owner and as a role granted 'score') with exactly the
# primary's scores, which it could not do had scoring tried to write anything (a standby
# refuses every write).  A retrain on the primary is seen, once replayed, by the next query
# of a standby session that had already scored with the old version (its cache).  Training,
# retraining, deploying, thresholds, grants, imports and drops on the standby fail with
# SQLSTATE 25006 and a message that says to do it on the primary; so does training in a
# read-only transaction on the primary, before any training runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

port=$(random_port)
primary=$(node_dir primary); standby=$(node_dir standby)
cleanup() {
	for d in "$standby" "$primary"; do node_stop "$d"; rm -rf "$d"; done
}
trap cleanup EXIT

node_init "$primary" "$port" "shared_buffers = 64MB
wal_level = replica
max_wal_senders = 4"
node_start "$primary"

qp() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At -h "$primary" -p "$port" -U postgres -d postgres "$@"; }
qs() { psql -X -q -v ON_ERROR_STOP=1 -At -h "$standby" -p $((port + 1)) -U postgres -d postgres "$@"; }
# the standby has replayed everything the primary has written so far
wait_replay() {
	local target
	target=$(qp -c "SELECT pg_current_wal_lsn()")
	for _ in $(seq 1 100); do
		[ "$(qs -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" = t ] && return 0
		sleep 0.2
	done
	fail "the standby did not replay up to $target"
}

qp <<'SQL'
CREATE EXTENSION anomaly;
CREATE ROLE scorer LOGIN;
CREATE TABLE tx AS
SELECT i AS id, sin(i * 0.1) * 10 + (i % 7) AS amount, i % 24 AS hour, i % 3 = 0 AS online,
       (ARRAY['a', 'b', 'c'])[1 + i % 3] AS shop
FROM generate_series(1, 5000) i;
GRANT SELECT ON tx TO scorer;
SELECT version FROM anomaly.anomaly_create_model('m', 'tx', exclude => '{id}', options => '{"seed": 1, "epochs": 3}');
SELECT anomaly.anomaly_grant('m', 'scorer');
SQL

runuser -u postgres -- "$PG_BIN/pg_basebackup" -D "$standby/data" -R -X stream -c fast \
	-h "$primary" -p "$port" -U postgres
cat >>"$standby/data/postgresql.conf" <<CONF
port = $((port + 1))
unix_socket_directories = '$standby'
hot_standby = on
CONF
node_start "$standby"
wait_replay
expect "the standby is in recovery" t "$(qs -c "SELECT pg_is_in_recovery()")"

digest="SELECT md5(string_agg(concat_ws(' ', anomaly.anomaly_score('m', t), anomaly.anomaly_is_anomaly('m', t),
               anomaly.anomaly_percentile('m', t)), ',' ORDER BY id)) FROM tx t"
expect "standby scores = primary scores" "$(qp -c "$digest")" "$(qs -c "$digest")"
expect "a granted role scores on the standby" "$(qp -c "$digest")" "$(qs -c "SET ROLE scorer" -c "$digest")"
expect "explain on the standby" "$(qp -c "SELECT count(*) FROM anomaly.anomaly_explain('m', (SELECT t FROM tx t WHERE id = 7))")" \
	"$(qs -c "SELECT count(*) FROM anomaly.anomaly_explain('m', (SELECT t FROM tx t WHERE id = 7))")"
expect "export on the standby" "$(qp -c "SELECT md5(anomaly.anomaly_export_model('m'))")" \
	"$(qs -c "SELECT md5(anomaly.anomaly_export_model('m'))")"

# one standby session: scores, the primary retrains, the same session scores again
v1=$(qp -c "$digest")
cat >"$standby/retrain.sh" <<SH
set -e
psql -X -q -At -h "$primary" -p $port -U postgres -d postgres -c "SET client_min_messages = warning" \\
	-c "SELECT version FROM anomaly.anomaly_retrain('m', '{\\"seed\\": 2}')" >/dev/null
$(declare -f qp qs fail wait_replay)
port=$port primary=$primary standby=$standby
wait_replay
SH
out=$(qs <<SQL
$digest;
\\! bash $standby/retrain.sh
$digest;
SQL
)
v2=$(qp -c "$digest")
[ "$v1" != "$v2" ] || fail "the retrained version scores as the first"
expect "standby session, before the retrain" "$v1" "$(echo "$out" | sed -n 1p)"
expect "the same session after replay: the new version" "$v2" "$(echo "$out" | sed -n 2p)"
expect "version on the standby" 2 "$(qs -c "SELECT version FROM anomaly.models WHERE name = 'm' AND deployed")"

# nothing changes models on the standby, and each refusal says where to do it
refused() {	# refused NAME SQL: fails with 25006 on the standby
	local err
	if err=$(qs -v VERBOSITY=verbose -c "$2" 2>&1); then fail "$1 ran on the standby"; fi
	grep -q "ERROR:  25006: cannot change models on a standby server" <<<"$err" || { echo "$err"; fail "$1: unexpected error"; }
	grep -q "HINT:  Do it on the primary" <<<"$err" || { echo "$err"; fail "$1: no hint"; }
	echo "ok: $1 refused on the standby"
}
refused "training" "SELECT anomaly.anomaly_create_model('s', 'tx', options => '{\"epochs\": 200}')"
refused "a retrain" "SELECT anomaly.anomaly_retrain('m')"
refused "a deploy" "SELECT anomaly.anomaly_deploy('m', 1)"
refused "a threshold" "SELECT anomaly.anomaly_set_threshold('m', 1)"
refused "a grant" "SELECT anomaly.anomaly_grant('m', 'public')"
refused "an import" "SELECT anomaly.anomaly_import_model('copy', anomaly.anomaly_export_model('m'))"
refused "a drop" "SELECT anomaly.anomaly_drop_model('m')"
grep -E "ERROR:  (cannot execute|cannot acquire)" "$standby/server.log" && fail "the standby logged a write attempt"
echo "ok: no write was attempted on the standby"

# on the primary, a read-only transaction refuses before training
err=$(qp -v VERBOSITY=verbose -c "SET client_min_messages = notice" -c "SET default_transaction_read_only = on" \
	-c "SELECT anomaly.anomaly_create_model('ro', 'tx', options => '{\"epochs\": 200}')" 2>&1) \
	&& fail "trained in a read-only transaction"
grep -q "ERROR:  25006: cannot change models in a read-only transaction" <<<"$err" || { echo "$err"; fail "unexpected error"; }
grep -q "NOTICE\|epoch" <<<"$err" && fail "training ran before the refusal"
echo "ok: a read-only transaction refuses before training"
expect "the primary still scores" "$v2" "$(qp -c "$digest")"
