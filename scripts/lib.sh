#!/usr/bin/env bash
# scripts/lib.sh: shared helpers of demo.sh and test.sh (sourced, not run).
#
# Installs build dependencies, builds and installs the extension, and runs a
# throwaway PostgreSQL 15 cluster in a temporary directory as the postgres
# OS user, on a Unix socket only.  The cluster is stopped and removed by
# cluster_stop, which callers register with `trap`.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-5433}

log() { printf '==> %s\n' "$*" >&2; }

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "run this as root: it installs packages and the extension" >&2
		exit 1
	fi
}

# apt-get install what is missing (package names as arguments)
install_packages() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

install_build_deps() {
	install_packages build-essential postgresql-15 postgresql-server-dev-15 \
		libopenblas-dev libmsgpack-dev
}

# Citus 13.2.2 for test/sh/citus.sh: Debian has no package, so it is built from the source
# in ../shared/vendor/citus (install.sh, a few minutes) unless this version is installed.
# Never fails: without the source or when the build fails, test/sh/citus.sh skips.
install_citus() {
	local vendor=${CITUS_VENDOR:-../shared/vendor/citus}
	local so
	so=$("$PG_BIN/pg_config" --pkglibdir)/citus.so
	if [ -f "$so" ] && grep -qa "Citus 13\.2\.2 " "$so"; then
		return 0
	fi
	if [ ! -f "$vendor/install.sh" ]; then
		log "Citus: $vendor/install.sh not found; test/sh/citus.sh will skip"
		return 0
	fi
	log "building and installing Citus 13.2.2 (a few minutes, once)"
	FORCE=1 bash "$vendor/install.sh" || log "Citus: the build failed; test/sh/citus.sh will skip"
}

build_and_install() {
	log "building and installing the extension"
	make -s ${MAKE_FLAGS:-} >/dev/null
	make -s install >/dev/null
}

# ---- clusters of a test's own (test/sh/citus.sh, standby.sh, parallel bench) ----
#
# node_init DIR PORT [CONF]: a new cluster in DIR/data (as postgres), listening on the
# Unix socket DIR only, with CONF appended to postgresql.conf.  node_start DIR,
# node_stop DIR (fast, ignores a cluster that is not running).  DIR is owned by postgres.
# Each cluster's socket directory is its own, so ports only need to differ per directory;
# random_port picks one in 20000-60000.

random_port() { echo $((20000 + RANDOM % 40000)); }

node_dir() {	# a new directory for a node, owned by postgres
	local d
	d=$(mktemp -d "/tmp/anomaly-${1:-node}.XXXXXX")
	chown postgres: "$d"
	chmod 700 "$d"
	echo "$d"
}

node_init() {
	local dir=$1 port=$2 conf=${3:-}
	(cd "$dir" && runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" --auth=trust \
		--no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1) \
		|| { cat "$dir/initdb.log" >&2; return 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
$conf
CONF
}

node_start() {
	local dir=$1
	(cd "$dir" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
		-w -t 60 start >/dev/null) || { tail -20 "$dir/server.log" >&2; return 1; }
}

node_stop() {
	local dir=$1
	[ -n "$dir" ] && [ -d "$dir/data" ] || return 0
	(cd "$dir" && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop \
		>/dev/null 2>&1) || true
}

# ---- a Citus cluster of a test's own: a coordinator and two workers ----
#
# citus_start [COORDINATOR_CONF]: sets CITUS_PORT (the coordinator's; workers: +1, +2) and
# CITUS_DIRS (coordinator, worker 1, worker 2), starts the three clusters with citus
# preloaded (COORDINATOR_CONF may preload more, citus first), creates extension citus in
# database postgres of each and adds the workers.  citus_stop stops and removes them.
# qc runs psql on the coordinator, qw N on worker N (unaligned, no headers, stop on error).
citus_installed() {
	[ -f "$("$PG_BIN/pg_config" --pkglibdir)/citus.so" ] &&
		[ -f "$("$PG_BIN/pg_config" --sharedir)/extension/citus.control" ]
}

citus_start() {
	local coord_conf=${1:-"shared_preload_libraries = 'citus'"}
	local common="max_prepared_transactions = 50
max_worker_processes = 16
max_parallel_workers = 8
shared_buffers = 64MB
track_functions = 'all'"
	CITUS_PORT=$(random_port)
	CITUS_DIRS=("$(node_dir citus-coord)" "$(node_dir citus-w1)" "$(node_dir citus-w2)")
	node_init "${CITUS_DIRS[0]}" "$CITUS_PORT" "$common
$coord_conf" || return 1
	for n in 1 2; do
		node_init "${CITUS_DIRS[$n]}" $((CITUS_PORT + n)) "$common
shared_preload_libraries = 'citus'" || return 1
	done
	for n in 0 1 2; do node_start "${CITUS_DIRS[$n]}" || return 1; done
	for n in 1 2; do qw "$n" -c "CREATE EXTENSION citus" || return 1; done
	qc -c "CREATE EXTENSION citus" \
		-c "SELECT citus_set_coordinator_host('${CITUS_DIRS[0]}', $CITUS_PORT)" \
		-c "SELECT 1 FROM citus_add_node('${CITUS_DIRS[1]}', $((CITUS_PORT + 1)))" \
		-c "SELECT 1 FROM citus_add_node('${CITUS_DIRS[2]}', $((CITUS_PORT + 2)))" >/dev/null
}

citus_stop() {
	local d
	for d in "${CITUS_DIRS[@]}"; do node_stop "$d"; rm -rf "$d"; done
	CITUS_DIRS=()
}

qc() {
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At \
		-h "${CITUS_DIRS[0]}" -p "$CITUS_PORT" -U postgres -d postgres "$@"
}

qw() {
	local n=$1
	shift
	psql -X -q -v ON_ERROR_STOP=1 -At -h "${CITUS_DIRS[$n]}" -p $((CITUS_PORT + n)) \
		-U postgres -d postgres "$@"
}

# cluster_start: sets CLUSTER_DIR, PGHOST, PGPORT, PGUSER for the callers
cluster_start() {
	CLUSTER_DIR=$(node_dir cluster)
	log "starting a throwaway cluster in $CLUSTER_DIR"
	node_init "$CLUSTER_DIR" "$PG_PORT" "max_worker_processes = 8
max_parallel_workers = 4
shared_buffers = 128MB
${EXTRA_PG_CONF:-}" || return 1
	node_start "$CLUSTER_DIR" || return 1
	export PGHOST="$CLUSTER_DIR" PGPORT="$PG_PORT" PGUSER=postgres PGDATABASE=postgres
}

cluster_stop() {
	if [ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR/data" ]; then
		node_stop "$CLUSTER_DIR"
		rm -rf "$CLUSTER_DIR"
	fi
	CLUSTER_DIR=
}

# ---- checks of the test scripts ----

fail() { echo "FAIL: $*"; exit 1; }

expect() {	# expect NAME EXPECTED ACTUAL
	[ -n "$2" ] || fail "$1: nothing to compare with"
	if [ "$2" = "$3" ]; then echo "ok: $1"; else fail "$1: expected '$2', got '$3'"; fi
}

fails_with() {	# fails_with NAME PATTERN COMMAND...: COMMAND fails, its error matches PATTERN
	local name=$1 pattern=$2 err
	shift 2
	if err=$("$@" 2>&1 >/dev/null); then fail "$name: it succeeded"; fi
	grep -q -- "$pattern" <<<"$err" || { echo "$err"; fail "$name: unexpected error"; }
	echo "ok: $name"
}
