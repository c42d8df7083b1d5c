#!/usr/bin/env bash
# test/bench/throughput.sh: training and scoring speed against the PyTorch reference.
#
#   test/bench/throughput.sh [rows] [method]   (default 100000 autoencoder; PGHOST etc. as for psql)
#
# Uses the reference's synthetic transactions (d = 30, 0.2 % anomalies) from
# ../shared/bench/reference/gen_data.py, so that the figures compare with
# ../shared/bench/reference/RESULTS.md: the same 30-64-16-64-30 autoencoder
# (or the 30-64-16 Deep SVDD encoder with method deep_svdd), 5 epochs,
# batch 256, Adam 1e-3, ReLU (as PyTorch; the autoencoder defaults to leaky
# ReLU), no validation split, one BLAS thread.
# Prints training rows x epochs / s (epoch loop only, and end to end with
# reading the table), scoring rows / s (serial, and with 2 parallel workers),
# the in-database lower bound sum(f0 + ... + f29), and AUROC / AUPRC; and,
# for the autoencoder, the training loss of each epoch and the time until it
# first reaches PyTorch's final loss on the same data and budget (read from
# the newest ../shared/bench/reference/results-*.jsonl for this row count;
# the epoch loop's seconds, at epoch granularity).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
need_reference
rows=${1:-100000}
method=${2:-autoencoder}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

load_transactions "$rows" bench_tx "$work"
sumexpr=$tx_sum
psql_q -c "SET client_min_messages = warning" -c "SELECT anomaly.anomaly_drop_model('bench_tx', if_exists => true)" >/dev/null

# training: NOTICEs carry the epoch loop's rows/s; maintenance_work_mem
# large enough to train on every row rather than a sample; one network for the
# autoencoder, PyTorch's (its default averages five)
one=""
[ "$method" = autoencoder ] && one=', "networks": 1'
psql_q -At -c "SET anomaly.training_threads = 1" -c "SET maintenance_work_mem = '2GB'" -c "SELECT train_seconds FROM anomaly.anomaly_create_model('bench_tx', 'bench_tx', method => '$method', exclude => '{label}', options => '{\"seed\": 42, \"hidden\": [64], \"latent\": 16, \"epochs\": 5, \"batch_size\": 256, \"learning_rate\": 0.001, \"activation\": \"relu\", \"validation_fraction\": 0, \"early_stopping_patience\": 0$one}')" \
	>"$work/train.out" 2>"$work/train.err"
train_s=$(tail -1 "$work/train.out")
# epoch-mean training losses, and the epoch loop's cumulative seconds (rows / rate per epoch)
losses=$(grep -o 'epoch [0-9]*/[0-9]*: loss [0-9.e-]*' "$work/train.err" | awk '{print $4}' | paste -sd' ' -)
elapsed=$(grep -o 'loss [0-9.e-]*, [0-9]* rows/s' "$work/train.err" |
	awk -v n="$rows" '{t += n / $3; printf "%s%.3f", (NR > 1 ? " " : ""), t}')
torch_loss=
results=$(ls -t "${ANOMALY_REFERENCE_DIR:-$here/../../../shared/bench/reference}"/results-*.jsonl 2>/dev/null | head -1 || true)
if [ "$method" = autoencoder ] && [ -n "$results" ]; then
	torch_loss=$(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("bench") == "torch_ref" and r.get("n") == int(sys.argv[2]) and r.get("ae_loss_per_epoch"):
        print(r["ae_loss_per_epoch"][-1]); break
' "$results" "$rows" || true)
fi
to_loss=$(awk -v target="${torch_loss:-nan}" -v l="$losses" -v t="$elapsed" 'BEGIN {
	n = split(l, L, " "); split(t, T, " ")
	for (i = 1; i <= n; i++) if (target != "nan" && L[i] + 0 <= target + 0) { printf "%s s (epoch %d)", T[i], i; exit }
	print (target == "nan" ? "- (no PyTorch figure for this row count)" : "- (not reached in 5 epochs)") }')
epoch_rate=$(grep -o '[0-9]* rows/s' "$work/train.err" | awk '{print $1}' | sort -n | tail -1)
e2e_rate=$(awk -v n="$rows" -v s="$train_s" 'BEGIN {printf "%d", n * 5 / s}')

serial=("SET max_parallel_workers_per_gather = 0" "SELECT sum(anomaly.anomaly_score('bench_tx', t)) FROM bench_tx t")
parallel=("SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0" "SELECT sum(anomaly.anomaly_score('bench_tx', t)) FROM bench_tx t")
lower=("SET max_parallel_workers_per_gather = 0" "SELECT sum($sumexpr) FROM bench_tx")
t_serial=$(timed "${serial[@]}")
t_parallel=$(timed "${parallel[@]}")
t_lower=$(timed "${lower[@]}")

quality=$(psql_q -At -F ' ' <<'SQL'
WITH s AS (SELECT label, anomaly.anomaly_score('bench_tx', t) AS score FROM bench_tx t),
r AS (SELECT label, rank() OVER (ORDER BY score) + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS rk FROM s),
g AS (SELECT score, sum(label) AS tp_here, count(*) AS n_here FROM s GROUP BY score),
c AS (SELECT tp_here, sum(tp_here) OVER w AS tp, sum(n_here) OVER w AS n FROM g
      WINDOW w AS (ORDER BY score DESC ROWS UNBOUNDED PRECEDING))
SELECT round(((SELECT sum(rk) FROM r WHERE label = 1) - p * (p + 1) / 2.0) / (p * (total - p)), 4),
       round((SELECT sum(tp_here::float8 / p * tp / n) FROM c)::numeric, 4)
FROM (SELECT sum(label) AS p, count(*) AS total FROM s) k;
SQL
)
psql_q -c "SET client_min_messages = warning" -c "SELECT anomaly.anomaly_drop_model('bench_tx')" -c "DROP TABLE bench_tx" >/dev/null

echo "method                              $method"
echo "rows                                $rows (d = 30)"
echo "train, epoch loop (rows x epochs/s)  $epoch_rate"
echo "train, end to end (rows x epochs/s)  $e2e_rate  ($train_s s for 5 epochs incl. reading the table)"
echo "score, serial (rows/s)               $(rate "$rows" "$t_serial")  ($t_serial s)"
echo "score, 2 workers (rows/s)            $(rate "$rows" "$t_parallel")  ($t_parallel s)"
echo "sum(f0+..+f29), serial (rows/s)      $(rate "$rows" "$t_lower")  ($t_lower s)"
echo "score time / plain scan time         $(awk -v a="$t_serial" -v b="$t_lower" 'BEGIN {printf "%.2f", a / b}')"
echo "AUROC AUPRC                          $quality"
echo "training loss per epoch              $losses"
echo "PyTorch's final loss (5 epochs)      ${torch_loss:--}"
echo "time to PyTorch's final loss         $to_loss"
