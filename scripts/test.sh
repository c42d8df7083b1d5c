#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, from a fresh Debian 12 machine (as root).
#
# Installs what is missing, builds with warnings as errors, runs the core
# unit tests (no server), installs the extension, starts a throwaway
# cluster, runs the pg_regress suite and every script in test/sh/, stops
# the cluster (also on failure), and ends with "N passed, N failed".
# Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_root
install_build_deps
# python3-msgpack/numpy: reading exported models in test/sh scripts;
# pg_cron: scheduled retraining in test/sh/cron.sh
install_packages python3-msgpack python3-numpy postgresql-15-cron
# Citus: test/sh/citus.sh (a coordinator and two workers of its own)
install_citus

# pg_cron runs its jobs in background workers (the cluster has only a Unix
# socket) in the database the test scripts share
EXTRA_PG_CONF="shared_preload_libraries = 'pg_cron'
cron.use_background_workers = on
cron.database_name = 'anomaly_sh'
max_worker_processes = 16"

passed=0
failed=0
failures=()
record() {	# record NAME STATUS(0 pass, 77 skip, else fail)
	case "$2" in
		0) passed=$((passed + 1)); echo "ok - $1" ;;
		77) echo "skip - $1" ;;
		*) failed=$((failed + 1)); failures+=("$1"); echo "not ok - $1" ;;
	esac
}
finish() {
	cluster_stop
	if [ ${#failures[@]} -gt 0 ]; then
		printf 'failed: %s\n' "${failures[*]}"
	fi
	echo "$passed passed, $failed failed"
}
trap finish EXIT

log "building (warnings are errors)"
make -s clean >/dev/null
if ! make -s WERROR=1 >/dev/null; then
	record build 1
	exit 1
fi

log "core unit tests"
unit_out=$(make -s unit WERROR=1 2>&1)
unit_rc=$?
echo "$unit_out" | grep -E '^not ok' || true
unit_counts=$(echo "$unit_out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
if [ -n "$unit_counts" ]; then
	passed=$((passed + $(echo "$unit_counts" | cut -d' ' -f1)))
	failed=$((failed + $(echo "$unit_counts" | cut -d' ' -f3)))
	[ "$unit_rc" = 0 ] || failures+=("unit")
	echo "unit: $unit_counts"
else
	echo "$unit_out" | tail -20
	record unit 1
fi

make -s install >/dev/null || { record install 1; exit 1; }
cluster_start || { record cluster 1; exit 1; }

log "pg_regress"
make -s installcheck >/tmp/anomaly-installcheck.$$ 2>&1
regress_rc=$?
while read -r line; do
	name=$(echo "$line" | awk '{print $2}')
	if echo "$line" | grep -q 'FAILED'; then record "regress/$name" 1; else record "regress/$name" 0; fi
done < <(grep -E '^(test|ok|not ok) ' /tmp/anomaly-installcheck.$$ | grep -E '\.\.\. ')
if [ "$regress_rc" != 0 ]; then
	cat /tmp/anomaly-installcheck.$$ | tail -5
	[ -f test/regress_out/regression.diffs ] && head -60 test/regress_out/regression.diffs
	grep -q FAILED /tmp/anomaly-installcheck.$$ || record regress 1
fi
rm -f /tmp/anomaly-installcheck.$$

# the scripts share one database with the extension installed
psql -X -q -c "CREATE DATABASE anomaly_sh" && \
	psql -X -q -d anomaly_sh -c "CREATE EXTENSION anomaly" || { record setup-sh 1; exit 1; }
export PGDATABASE=anomaly_sh
for t in test/sh/*.sh; do
	[ -e "$t" ] || continue
	log "$t"
	bash "$t"
	rc=$?
	record "$(basename "$t" .sh)" "$rc"
done

[ "$failed" = 0 ]
