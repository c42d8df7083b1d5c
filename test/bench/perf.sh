#!/usr/bin/env bash
# test/bench/perf.sh: the figures of issue 10, each as a ratio measured in one run.
#
#   test/bench/perf.sh [rows] [section ...]     (default 1000000; PGHOST etc. as for psql)
#
# Sections (default all, in this order):
#   scan      serial sum(anomaly_score(m, t)) against the plain scan sum(f0 + ... + f29),
#             for the autoencoder 30-64-16-64-30 (one network, and the default five),
#             Deep SVDD 30-64-16 and the default method
#   parallel  the autoencoder's query with 2 workers against serial
#   write     the scores written in SQL (CREATE TABLE AS with the row and its score,
#             logged and unlogged; CREATE TABLE AS of a key and the score, serial,
#             unlogged and with 2 workers; UPDATE of a score column) against the
#             reference's export, PyTorch scoring, write-back round trip (pg_roundtrip.py,
#             its own throwaway cluster).  Run it on a server with wal_level = minimal
#             too: CREATE TABLE AS then skips the WAL (the line "server:" says which)
#   trigger   pgbench single-row inserts with anomaly_flag_trigger against the same
#             table without it (synchronous_commit on, then off)
#   train     training end to end (reading the table included) with
#             anomaly.training_threads 1 and 2 against PyTorch (torch_ref.py, its best
#             configuration: OpenBLAS capped to 1 thread) on the same network and data
#   memory    a training's peak anonymous memory on a table four times
#             maintenance_work_mem (sampled from /proc), then test/sh/memory_flat.sh with
#             10M rows scored and 100k one-row queries
#
# Data: the reference's synthetic transactions (gen_data.py, d = 30, seed 42).  Timings are
# the best of 3 unless said; ratios compare figures of this run only.  Must run on the
# server's host, as root (it reads /proc of the backend and runs the reference cluster).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
need_reference

rows=${1:-1000000}
shift || true
sections=${*:-scan parallel write trigger train memory}
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
	psql_q -c "SET client_min_messages = warning" \
		-c "DROP TABLE IF EXISTS bench_scored, bench_ins, bench_ins_plain" \
		-c "SELECT anomaly.anomaly_drop_model(m, if_exists => true) FROM unnest(ARRAY['bench_ae', 'bench_ae7', 'bench_svdd', 'bench_auto', 'bench_train']) m" \
		-c "DROP TABLE IF EXISTS bench_tx" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
has() { [[ " $sections " == *" $1 "* ]]; }

echo "rows $rows (d = 30); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo "server: $(psql_q -At -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'work_mem', 'maintenance_work_mem', 'synchronous_commit')")"
load_transactions "$rows" bench_tx "$work"
net='"hidden": [64], "latent": 16, "batch_size": 256, "learning_rate": 0.001, "validation_fraction": 0, "early_stopping_patience": 0'
# the autoencoder is one network, PyTorch's, unless said (its default averages five)
ae1="$net, \"networks\": 1"
train() {	# train NAME METHOD OPTIONS: a model on bench_tx
	psql_q -At -c "SET anomaly.progress = off" \
		-c "SELECT version FROM anomaly.anomaly_create_model('$1', 'bench_tx', '$2', exclude => '{label}', options => '$3', replace => true)" >/dev/null
}
if has scan || has parallel || has write || has trigger; then
	train bench_ae autoencoder "{\"seed\": 42, \"epochs\": 1, $ae1}"
fi

# JIT off: its compilation, a fixed cost of a second or so per query on a loaded
# machine, would blur the ratios, and scoring calls gain nothing from it
serial="SET jit = off; SET max_parallel_workers_per_gather = 0"
if has scan; then
	train bench_svdd deep_svdd "{\"seed\": 42, \"epochs\": 1, $net}"
	train bench_auto auto '{"seed": 42}'
	# the default number of networks (7), each the same 30-64-16-64-30: the cost of the mean
	train bench_ae7 autoencoder "{\"seed\": 42, \"epochs\": 1, $net}"
	# the scan is timed again next to each method, the load of a shared machine drifting
	for m in bench_ae:autoencoder bench_ae7:"autoencoder, 7 networks" bench_svdd:deep_svdd bench_auto:auto; do
		t_scan=$(timed "$serial" "SELECT sum($tx_sum) FROM bench_tx")
		t=$(timed "$serial" "SELECT sum(anomaly.anomaly_score('${m%%:*}', t)) FROM bench_tx t")
		printf '%-46s %s rows/s (%s s), %sx the scan (%s s)\n' "score serial, ${m#*:}" \
			"$(rate "$rows" "$t")" "$t" "$(ratio "$t" "$t_scan")" "$t_scan"
	done
fi

if has parallel; then
	two="SET jit = off; SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0"
	q="SELECT sum(anomaly.anomaly_score('bench_ae', t)) FROM bench_tx t"
	t1=$(timed "$serial" "$q")
	t2=$(timed "$two" "$q")
	s1=$(timed "$serial" "SELECT sum($tx_sum) FROM bench_tx")
	s2=$(timed "$two" "SELECT sum($tx_sum) FROM bench_tx")
	echo "score autoencoder, 2 workers / serial          $(ratio "$t1" "$t2")x throughput ($t1 s -> $t2 s)"
	echo "plain scan, 2 workers / serial                 $(ratio "$s1" "$s2")x throughput ($s1 s -> $s2 s)"
fi

if has write; then
	drop="$serial; DROP TABLE IF EXISTS bench_scored"
	score="anomaly.anomaly_score('bench_ae', t) AS score"
	t_ctas=$(timed "$drop" "CREATE TABLE bench_scored AS SELECT t.*, $score FROM bench_tx t")
	t_ctas_copy=$(timed "$drop" "CREATE TABLE bench_scored AS SELECT t.*, 0::float8 AS score FROM bench_tx t")
	t_unlogged=$(timed "$drop" "CREATE UNLOGGED TABLE bench_scored AS SELECT t.*, $score FROM bench_tx t")
	# the scores alone, by a key, as the round trip's table has one (id bigserial)
	psql_q -c "DROP TABLE bench_scored" -c "ALTER TABLE bench_tx ADD COLUMN id bigserial, ADD COLUMN score float8" \
		-c "VACUUM ANALYZE bench_tx"
	t_id=$(timed "$drop" "CREATE TABLE bench_scored AS SELECT t.id, $score FROM bench_tx t")
	t_id_unlogged=$(timed "$drop" "CREATE UNLOGGED TABLE bench_scored AS SELECT t.id, $score FROM bench_tx t")
	t_id_two=$(timed "SET jit = off; SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0; DROP TABLE IF EXISTS bench_scored" \
		"CREATE TABLE bench_scored AS SELECT t.id, $score FROM bench_tx t")
	# does the UPDATE score through the planner's column form?
	form=$(psql_q -At -c "EXPLAIN VERBOSE UPDATE bench_tx t SET score = anomaly.anomaly_score('bench_ae', t)" |
		grep -q anomaly_score_columns && echo "column form" || echo "record form")
	# once, on a table without dead rows, as the round trip's UPDATE
	t_update=$(psql_q -At -c '\timing on' -c "DROP TABLE bench_scored" -c "VACUUM FULL bench_tx" -c "$serial" \
		-c "UPDATE bench_tx t SET score = anomaly.anomaly_score('bench_ae', t)" 2>&1 |
		grep -o 'Time: [0-9.]*' | tail -1 | awk '{print $2 / 1000}')
	psql_q -c "ALTER TABLE bench_tx DROP COLUMN score, DROP COLUMN id" -c "VACUUM FULL bench_tx"
	port=$((20000 + RANDOM % 40000))
	/usr/bin/python3 "$reference_dir/pg_roundtrip.py" --data "$work/tx.csv" --port "$port" --naive-rows 1000 \
		>"$work/roundtrip.json" 2>"$work/roundtrip.err" || { tail "$work/roundtrip.err"; exit 1; }
	t_ref=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/roundtrip.json'))['roundtrip_copy_s'])")
	echo "reference round trip (COPY out, PyTorch, COPY in, UPDATE join)  $t_ref s"
	echo "server: wal_level $(psql_q -At -c 'SHOW wal_level'), fsync $(psql_q -At -c 'SHOW fsync') (wal_level minimal: CREATE TABLE AS writes no WAL)"
	echo "CREATE TABLE AS row + score                    $t_ctas s, $(ratio "$t_ref" "$t_ctas")x faster than the round trip (the same without scoring: $t_ctas_copy s)"
	echo "CREATE UNLOGGED TABLE AS row + score           $t_unlogged s, $(ratio "$t_ref" "$t_unlogged")x"
	echo "CREATE TABLE AS id + score                     $t_id s, $(ratio "$t_ref" "$t_id")x"
	echo "CREATE UNLOGGED TABLE AS id + score            $t_id_unlogged s, $(ratio "$t_ref" "$t_id_unlogged")x"
	echo "CREATE TABLE AS id + score, 2 workers          $t_id_two s, $(ratio "$t_ref" "$t_id_two")x"
	echo "UPDATE t SET score = anomaly_score(m, t)       $t_update s, $(ratio "$t_ref" "$t_update")x faster than the round trip ($form)"
fi

if has trigger; then
	cols=$(seq 0 29 | sed 's/^/f/' | paste -sd, -)
	vals=$(seq 0 29 | sed 's/.*/random()/' | paste -sd, -)
	psql_q -c "SET client_min_messages = warning" \
		-c "DROP TABLE IF EXISTS bench_ins, bench_ins_plain" \
		-c "CREATE TABLE bench_ins_plain (LIKE bench_tx, score float8, flag boolean)" \
		-c "CREATE TABLE bench_ins (LIKE bench_tx, score float8, flag boolean)" \
		-c "CREATE TRIGGER flag BEFORE INSERT ON bench_ins FOR EACH ROW EXECUTE FUNCTION anomaly.anomaly_flag_trigger('bench_ae', 'score', 'flag')"
	echo "INSERT INTO bench_ins ($cols) VALUES ($vals);" >"$work/ins.sql"
	echo "INSERT INTO bench_ins_plain ($cols) VALUES ($vals);" >"$work/plain.sql"
	tps() {	# tps SCRIPT [PGOPTIONS]: transactions per second, 10 s, one client
		PGOPTIONS=${2:-} pgbench -n -c 1 -T 10 -f "$1" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
	}
	for opts in "" "-c synchronous_commit=off"; do
		best_t=0 best_p=0
		for _ in 1 2 3; do
			p=$(tps "$work/plain.sql" "$opts")
			t=$(tps "$work/ins.sql" "$opts")
			best_p=$(awk -v a="$p" -v b="$best_p" 'BEGIN {print (a > b ? a : b)}')
			best_t=$(awk -v a="$t" -v b="$best_t" 'BEGIN {print (a > b ? a : b)}')
		done
		flagged=$(psql_q -At -c "SELECT count(*) FILTER (WHERE score IS NOT NULL) = count(*) FROM bench_ins")
		sc=on
		[ -n "$opts" ] && sc=off
		printf '%-46s %s / %s tps = %sx (every row scored: %s)\n' \
			"insert trigger / none, synchronous_commit $sc" \
			"$best_t" "$best_p" "$(ratio "$best_t" "$best_p")" "$flagged"
	done
fi

if has train; then
	opts="{\"seed\": 42, \"epochs\": 5, $ae1}"
	for threads in 1 2; do
		psql_q -At -c "SET anomaly.training_threads = $threads" -c "SET maintenance_work_mem = '2GB'" -c '\timing on' \
			-c "SELECT train_seconds FROM anomaly.anomaly_create_model('bench_train', 'bench_tx', 'autoencoder', exclude => '{label}', options => '$opts', replace => true)" \
			>"$work/train$threads.out" 2>"$work/train$threads.err"
		wall=$(grep -o 'Time: [0-9.]*' "$work/train$threads.out" | awk '{print $2 / 1000}')
		loop=$(grep -o '[0-9]* rows/s' "$work/train$threads.err" | awk '{print $1}' | sort -n | tail -1)
		eval "e2e$threads=$(awk -v n="$rows" -v s="$wall" 'BEGIN {printf "%d", n * 5 / s}')"
		eval "loop$threads=$loop"
	done
	# PyTorch's best of its two good configurations (RESULTS.md): 2 and 1 torch threads,
	# OpenBLAS capped to 1 (on a loaded machine, 2 OpenMP threads can spin-wait)
	torch=0
	for tt in 2 1; do
		/usr/bin/python3 "$reference_dir/torch_ref.py" --data "$work/tx.npz" --epochs 5 --threads "$tt" \
			--blas-threads 1 --score-reps 1 >"$work/torch.json" 2>"$work/torch.err" || { tail "$work/torch.err"; exit 1; }
		r=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/torch.json'))['ae_train_rows_per_s'])")
		echo "PyTorch AE training, $tt torch threads          $r rows x epochs / s"
		torch=$(awk -v a="$r" -v b="$torch" 'BEGIN {print (a > b ? a : b)}')
	done
	for threads in 1 2; do
		eval "e=\$e2e$threads l=\$loop$threads"
		echo "anomaly AE training, training_threads $threads      end to end $e ($(ratio "$e" "$torch")x PyTorch), epoch loop $l ($(ratio "$l" "$torch")x)"
	done
fi

if has memory; then
	# maintenance_work_mem a quarter of the table's heap: the training samples within it
	heap_mb=$(psql_q -At -c "SELECT pg_relation_size('bench_tx') / 1048576")
	mwm_mb=$((heap_mb / 4))
	psql_q -At -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(1)" -c "SET anomaly.progress = off" \
		-c "SET maintenance_work_mem = '${mwm_mb}MB'" \
		-c "SELECT version FROM anomaly.anomaly_create_model('bench_train', 'bench_tx', 'autoencoder', exclude => '{label}', options => '{\"seed\": 42, \"epochs\": 1, $ae1}', replace => true)" \
		>"$work/mem.out" 2>&1 &
	client=$!
	while [ ! -s "$work/mem.out" ]; do sleep 0.05; done
	pid=$(head -1 "$work/mem.out")
	base=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
	peak=$base
	while kill -0 "$client" 2>/dev/null; do
		now=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
		[ "${now:-0}" -gt "$peak" ] && peak=$now
		sleep 0.05
	done
	wait "$client"
	echo "training on a ${heap_mb} MB table, maintenance_work_mem ${mwm_mb} MB: peak RssAnon +$(((peak - base) / 1024)) MB over the idle backend"
	MEMORY_ROWS=10000000 bash "$here/../sh/memory_flat.sh" | grep -v "^mem "
fi
