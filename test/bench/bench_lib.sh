#!/usr/bin/env bash
# test/bench/bench_lib.sh: helpers of the server benchmarks (sourced, not run).
#
# The benchmarks talk to a running server through psql's environment
# (PGHOST, PGPORT, PGUSER, PGDATABASE) and compare with the reference
# harness in ../shared/bench/reference (ANOMALY_REFERENCE_DIR overrides).

bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
reference_dir=${ANOMALY_REFERENCE_DIR:-$bench_here/../../../shared/bench/reference}

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# exit 77 unless the reference harness is there
need_reference() {
	if [ ! -f "$reference_dir/gen_data.py" ]; then
		echo "skipped: $reference_dir/gen_data.py not found (needs ../shared/bench/reference)" >&2
		exit 77
	fi
}

# load_transactions ROWS TABLE DIR: the reference's synthetic transactions
# (d = 30, 0.2 % anomalies, seed 42) into TABLE (f0..f29 float8, label int);
# DIR receives tx.csv and tx.npz.  Sets tx_sum, the expression f0 + ... + f29.
load_transactions() {
	local rows=$1 table=$2 dir=$3 cols
	/usr/bin/python3 "$reference_dir/gen_data.py" -n "$rows" --out "$dir/tx" >/dev/null 2>&1
	cols=$(head -1 "$dir/tx.csv" | tr ',' '\n' | grep -v '^label$' | sed 's/$/ float8/' | paste -sd, -)
	tx_sum=$(head -1 "$dir/tx.csv" | tr ',' '\n' | grep -v '^label$' | paste -sd+ -)
	psql_q -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS $table" \
		-c "CREATE TABLE $table ($cols, label int)" \
		-c "\\copy $table FROM '$dir/tx.csv' WITH (FORMAT csv, HEADER true)" \
		-c "VACUUM ANALYZE $table"
}

# timed SQL...: the best of 3 wall times, in seconds, of the last statement
# (the ones before it are settings, run in the same session)
timed() {
	local best= t
	for _ in 1 2 3; do
		t=$(psql_q -At -c '\timing on' "${@/#/-c}" 2>&1 | grep -o 'Time: [0-9.]*' | tail -1 | awk '{print $2 / 1000}')
		best=$(awk -v a="$t" -v b="${best:-$t}" 'BEGIN {print (a < b ? a : b)}')
	done
	echo "$best"
}

# ratio A B: A / B with two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# rate ROWS SECONDS: rows per second
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%d", n / s}'; }
