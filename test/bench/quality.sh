#!/usr/bin/env bash
# test/bench/quality.sh: detection quality on the shared benchmark datasets.
#
#   test/bench/quality.sh [-m method] [-o options-json] [-s "seeds"] [dataset ...]
#
# For each dataset (default: every CSV in ../shared/data/tabular), loads the
# CSV into the running server (PGHOST/PGPORT/PGUSER as for psql), trains a
# model on all rows with the label column excluded (unsupervised), scores
# every row in SQL and computes AUROC (Mann-Whitney, ties averaged) and
# AUPRC (average precision, as sklearn's average_precision_score) in SQL.
# Prints one line per dataset: dataset rows dims auroc auprc train_seconds.
# With -s "1 2 3" it trains once per seed and prints the mean AUROC and
# AUPRC, their standard deviations and the mean training time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data_dir=${ANOMALY_DATA_DIR:-$here/../../../shared/data/tabular}
method=autoencoder
options='{}'
seeds=42
while getopts m:o:s: opt; do
	case $opt in
		m) method=$OPTARG ;;
		o) options=$OPTARG ;;
		s) seeds=$OPTARG ;;
		*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ ! -d "$data_dir" ]; then
	echo "no benchmark data in $data_dir" >&2
	exit 77
fi
datasets=("$@")
if [ ${#datasets[@]} -eq 0 ]; then
	for f in "$data_dir"/*.csv; do
		n=$(basename "$f" .csv)
		[ "$n" = published_results ] || datasets+=("$n")
	done
fi

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ "$(echo $seeds | wc -w)" -gt 1 ]; then
	printf '%-12s %7s %5s %7s %6s %7s %6s %8s\n' dataset rows dims auroc sd auprc sd train_s
else
	printf '%-12s %7s %5s %7s %7s %8s\n' dataset rows dims auroc auprc train_s
fi
for ds in "${datasets[@]}"; do
	csv=$data_dir/$ds.csv
	[ -f "$csv" ] || { echo "missing $csv" >&2; exit 1; }
	table="bench_$(echo "$ds" | tr -c 'a-z0-9\n' '_')"
	header=$(head -1 "$csv")
	cols=$(echo "$header" | tr ',' '\n' | grep -v '^label$' | sed 's/$/ float8/' | paste -sd, -)
	dims=$(echo "$header" | tr ',' '\n' | grep -vc '^label$')
	psql_q -c 'SET client_min_messages = warning' -c "DROP TABLE IF EXISTS $table" -c "CREATE TABLE $table ($cols, label int)"
	psql_q -c "\\copy $table FROM '$csv' WITH (FORMAT csv, HEADER true)"
	runs=""
	for seed in $seeds; do
		result=$(psql_q -At -F ' ' <<-SQL
	SET client_min_messages = warning;
	SELECT anomaly_drop_model('$table', if_exists => true);
	SELECT round(train_seconds::numeric, 2) FROM anomaly_create_model('$table', '$table',
	    method => '$method', exclude => '{label}', options => '$options'::jsonb || jsonb_build_object('seed', $seed));
	WITH s AS (
	    SELECT label, anomaly_score('$table', t) AS score FROM $table t
	), r AS (
	    SELECT label, score,
	           rank() OVER (ORDER BY score) + (count(*) OVER (PARTITION BY score) - 1) / 2.0 AS avg_rank
	    FROM s
	), auroc AS (
	    SELECT (sum(avg_rank) FILTER (WHERE label = 1)
	            - count(*) FILTER (WHERE label = 1) * (count(*) FILTER (WHERE label = 1) + 1) / 2.0)
	           / (count(*) FILTER (WHERE label = 1) * count(*) FILTER (WHERE label = 0)) AS v
	    FROM r
	), thresholds AS (   -- one point per distinct score, from the highest down
	    SELECT score,
	           sum(label) AS tp_here,
	           count(*) AS n_here
	    FROM s GROUP BY score
	), curve AS (
	    SELECT tp_here,
	           sum(tp_here) OVER w AS tp,
	           sum(n_here) OVER w AS n
	    FROM thresholds
	    WINDOW w AS (ORDER BY score DESC ROWS UNBOUNDED PRECEDING)
	), auprc AS (
	    SELECT sum(tp_here::float8 / (SELECT sum(label) FROM s) * tp / n) AS v FROM curve
	)
	SELECT (SELECT count(*) FROM s), round((SELECT v FROM auroc)::numeric, 4), round((SELECT v FROM auprc)::numeric, 4);
	SELECT anomaly_drop_model('$table');
	SQL
	)
		secs=$(echo "$result" | sed -n 2p)
		set -- $(echo "$result" | sed -n 3p)
		[ "$(echo $seeds | wc -w)" -gt 1 ] ||
			printf '%-12s %7s %5s %7s %7s %8s\n' "$ds" "$1" "$dims" "$2" "$3" "$secs"
		runs+="$1 $2 $3 $secs"$'\n'
	done
	if [ "$(echo $seeds | wc -w)" -gt 1 ]; then
		echo -n "$runs" | awk -v ds="$ds" -v dims="$dims" '
			{n++; rows = $1; a += $2; aa += $2 * $2; p += $3; pp += $3 * $3; t += $4}
			END {sa = aa / n - (a / n) ^ 2; sp = pp / n - (p / n) ^ 2;
			     printf "%-12s %7s %5s %7.4f %6.4f %7.4f %6.4f %8.2f\n", ds, rows, dims,
			            a / n, sqrt(sa > 0 ? sa : 0), p / n, sqrt(sp > 0 ? sp : 0), t / n}'
	fi
	psql_q -c "DROP TABLE $table"
done
