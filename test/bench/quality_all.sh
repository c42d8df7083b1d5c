#!/usr/bin/env bash
# test/bench/quality_all.sh: the quality table of docs/benchmarks.md, in one run (as root).
#
#   test/bench/quality_all.sh [-m "methods"] [-s "seeds"] [-p fraction] [-o outdir]
#
# Builds and installs the extension, starts a throwaway cluster, and runs
# test/bench/quality.sh for every method (default: every registered method
# and the default, auto) over the seeds (default "1 2 3") on the split
# (default 0.6: train on 60 % of each table, score the other 40 %), then the
# side-by-side references of ../shared/bench/reference (PyTorch's
# autoencoder and scikit-learn's IsolationForest) on the same splits, and
# prints test/bench/report.py's tables.  Raw results go to outdir (default
# a temporary directory, named at the end).  Takes about 15 minutes here.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

methods="autoencoder deep_svdd vae ocnn egbad algan iforest knn pca ecod auto"
seeds="1 2 3"
fraction=0.6
out=$(mktemp -d /tmp/anomaly-quality.XXXXXX)
while getopts m:s:p:o: opt; do
	case $opt in
		m) methods=$OPTARG ;;
		s) seeds=$OPTARG ;;
		p) fraction=$OPTARG ;;
		o) out=$OPTARG; mkdir -p "$out" ;;
		*) exit 2 ;;
	esac
done
data_dir=${ANOMALY_DATA_DIR:-$PWD/../shared/data/tabular}
if [ ! -d "$data_dir" ]; then
	echo "skipped: no benchmark data in $data_dir"
	exit 77
fi

need_root
install_build_deps
install_packages python3-numpy python3-sklearn python3-torch python3-threadpoolctl
build_and_install
trap cluster_stop EXIT
cluster_start
psql -X -q -c "CREATE EXTENSION anomaly"

runs=()
for m in $methods; do
	log "quality of $m"
	test/bench/quality.sh -m "$m" -s "$seeds" -p "$fraction" >"$out/$m.txt"
	runs+=("$m=$out/$m.txt")
done
for r in sklearn_iforest torch_ae; do
	log "reference $r"
	if /usr/bin/python3 test/bench/reference_split.py "$r" -s "$seeds" -p "$fraction" >"$out/$r.txt"; then
		runs+=("$r=$out/$r.txt")
	fi
done
test/bench/report.py "$data_dir/published_results.csv" "${runs[@]}"
echo
echo "raw results in $out"
