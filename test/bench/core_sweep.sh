#!/bin/sh
# test/bench/core_sweep.sh: build/core_quality over every shared table.
#
#   test/bench/core_sweep.sh METHOD "SEEDS" [key=value ...]
#
# Runs build/core_quality (make build/core_quality) for each CSV of
# ../shared/data/tabular (or $ANOMALY_DATA_DIR) and each seed, one after
# the other (the machine is shared), printing its lines: training on all
# rows, z-scored, scoring the same rows; with split=0.6 on the seed's split
# (split_seed is the seed), scoring the held-out rows.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data_dir=${ANOMALY_DATA_DIR:-$here/../../../shared/data/tabular}
method=$1
seeds=$2
shift 2
for f in "$data_dir"/*.csv; do
	case $f in */published_results.csv) continue ;; esac
	for s in $seeds; do
		"$here/../../build/core_quality" "$method" "$f" seed="$s" split_seed="$s" "$@"
	done
done
