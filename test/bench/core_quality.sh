#!/usr/bin/env bash
# test/bench/core_quality.sh: build/core_quality over every shared dataset.
#
#   test/bench/core_quality.sh method [key=value ...]
#
# Runs the core-only quality driver (no server; make build/core_quality
# first) on each CSV of ../shared/data/tabular (ANOMALY_DATA_DIR overrides)
# and prints one line per dataset, dataset auroc auprc train_seconds, then
# the means.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data_dir=${ANOMALY_DATA_DIR:-$here/../../../shared/data/tabular}
bin=$here/../../build/core_quality
[ $# -ge 1 ] || { echo "usage: $0 method [key=value ...]" >&2; exit 2; }
[ -x "$bin" ] || { echo "build $bin first (make build/core_quality)" >&2; exit 2; }
method=$1
shift
printf '%-12s %7s %7s %8s\n' dataset auroc auprc train_s
for csv in "$data_dir"/*.csv; do
	ds=$(basename "$csv" .csv)
	[ "$ds" = published_results ] && continue
	"$bin" "$method" "$csv" "$@" | awk -v ds="$ds" '{
		for (i = 1; i < NF; i++) v[$i] = $(i + 1)
		printf "%-12s %7.4f %7.4f %8.2f\n", ds, v["auroc"], v["auprc"], v["seconds"]
	}'
done | awk '{ print; n++; a += $2; p += $3; t += $4 }
	END { printf "%-12s %7.4f %7.4f %8.2f\n", "mean", a / n, p / n, t }'
