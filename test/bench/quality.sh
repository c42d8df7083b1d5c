#!/usr/bin/env bash
# test/bench/quality.sh: detection quality on the shared benchmark datasets.
#
#   test/bench/quality.sh [-m method] [-o options-json] [-s "seeds"] [-p fraction] [dataset ...]
#
# For each dataset (default: every CSV in ../shared/data/tabular), loads the
# CSV into the running server (PGHOST/PGPORT/PGUSER as for psql), trains a
# model on a seeded random part of the rows (-p, default 0.6) with the label
# column excluded (unsupervised: the training part keeps its anomalies),
# scores the other rows in SQL and computes AUROC (Mann-Whitney, ties
# averaged) and AUPRC (average precision, as sklearn's
# average_precision_score) in SQL.  -p 1 trains and scores every row.
# The split of row i (0-based, file order) for seed s is the rule of
# bench_in_train below, shared with build/core_quality and
# test/bench/reference_split.py, so that the references see the same rows.
# Prints one line per dataset: dataset rows dims auroc auprc train_seconds
# (rows = rows scored).  With -s "1 2 3" it trains once per seed (the seed
# sets both the split and the model) and prints the mean AUROC, its
# standard deviation, the worst seed's AUROC, the mean AUPRC and its
# standard deviation, and the mean training time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data_dir=${ANOMALY_DATA_DIR:-$here/../../../shared/data/tabular}
method=autoencoder
options='{}'
seeds=42
fraction=0.6
while getopts m:o:s:p: opt; do
	case $opt in
		m) method=$OPTARG ;;
		o) options=$OPTARG ;;
		s) seeds=$OPTARG ;;
		p) fraction=$OPTARG ;;
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

# hash32((rid + seed * 0x9E3779B1) mod 2^32) / 2^32 < fraction; see core_quality.c
psql_q <<-'SQL'
	CREATE OR REPLACE FUNCTION bench_mix(x bigint) RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN (((x >> 16) # x) * 73244475) % 4294967296;
	CREATE OR REPLACE FUNCTION bench_hash32(x bigint) RETURNS bigint
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN (bench_mix(bench_mix(x)) >> 16) # bench_mix(bench_mix(x));
	CREATE OR REPLACE FUNCTION bench_in_train(rid bigint, seed bigint, fraction float8)
	RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN fraction >= 1
	    OR bench_hash32((rid + seed * 2654435761) % 4294967296) / 4294967296.0 < fraction;
	SQL

if [ "$(echo $seeds | wc -w)" -gt 1 ]; then
	printf '%-12s %7s %5s %7s %6s %7s %7s %6s %8s\n' dataset rows dims auroc sd worst auprc sd train_s
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
	psql_q -c 'SET client_min_messages = warning' -c "DROP TABLE IF EXISTS $table" -c "CREATE TABLE $table (rid int, $cols, label int)"
	awk 'NR > 1 {print NR - 2 "," $0}' "$csv" | psql_q -c "\\copy $table FROM STDIN WITH (FORMAT csv)"
	runs=""
	for seed in $seeds; do
		result=$(psql_q -At -F ' ' <<-SQL
	SET client_min_messages = warning;
	SELECT anomaly.anomaly_drop_model('$table', if_exists => true);
	SELECT round(train_seconds::numeric, 2) FROM anomaly.anomaly_create_model('$table',
	    'SELECT * FROM $table WHERE bench_in_train(rid, $seed, $fraction)',
	    method => '$method', exclude => '{label,rid}', options => '$options'::jsonb || jsonb_build_object('seed', $seed));
	WITH s AS (
	    SELECT label, anomaly.anomaly_score('$table', t) AS score FROM $table t
	    WHERE $fraction >= 1 OR NOT bench_in_train(rid, $seed, $fraction)
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
	SELECT anomaly.anomaly_drop_model('$table');
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
			{n++; rows = $1; a += $2; aa += $2 * $2; p += $3; pp += $3 * $3; t += $4
			 if (n == 1 || $2 < worst) worst = $2}
			END {sa = aa / n - (a / n) ^ 2; sp = pp / n - (p / n) ^ 2;
			     printf "%-12s %7s %5s %7.4f %6.4f %7.4f %7.4f %6.4f %8.2f\n", ds, rows, dims,
			            a / n, sqrt(sa > 0 ? sa : 0), worst, p / n, sqrt(sp > 0 ? sp : 0), t / n}'
	fi
	psql_q -c "DROP TABLE $table"
done
