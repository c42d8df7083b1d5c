#!/usr/bin/env bash
# test/sh/fuzz.sh: a bounded libFuzzer run of the model decoder and of option parsing.
#
# Builds the fuzz targets from the core sources with clang
# (-fsanitize=fuzzer,address,undefined; `make fuzz`), writes a seed corpus
# of a small real model of every registered method and of option lines,
# and fuzzes the decoder (scoring what it accepts: a NaN score aborts) for
# FUZZ_MODEL_SECONDS (45) and option parsing for FUZZ_OPTIONS_SECONDS (15).
# Any crash, sanitizer report, NaN score, leak, allocation beyond
# -malloc_limit_mb or RSS beyond -rss_limit_mb fails the test.  Exit 77
# (skipped) when clang's libFuzzer is not available.  The documented long
# run (docs/security.md) is this script with FUZZ_MODEL_SECONDS raised.
set -uo pipefail
cd "$(dirname "$0")/../.."

model_seconds=${FUZZ_MODEL_SECONDS:-45}
options_seconds=${FUZZ_OPTIONS_SECONDS:-15}
# inputs up to 64 KB: the decoder may allocate 64 MB + 4 x 64 KB (its budget),
# and msgpack-c's tree 24 x 64 KB; no single allocation may exceed 80 MB
max_len=65536
malloc_limit_mb=80
rss_limit_mb=${FUZZ_RSS_LIMIT_MB:-768}

if ! command -v clang >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	. scripts/lib.sh
	install_packages clang >/dev/null 2>&1 || true
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe/p.c"
if ! command -v clang >/dev/null 2>&1 ||
	! clang -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >/dev/null 2>&1; then
	echo "skipped: clang with libFuzzer is not available"
	exit 77
fi

nice make -s fuzz >"$probe/build.log" 2>&1 || { cat "$probe/build.log"; exit 1; }
mkdir -p "$probe/seeds_model" "$probe/seeds_options" "$probe/model" "$probe/options"
./build/fuzz/make_seeds "$probe/seeds_model" "$probe/seeds_options" || exit 1
methods=$(ls "$probe/seeds_model" | wc -l)
[ "$methods" -ge 4 ] || { echo "only $methods seed models"; exit 1; }

run() {	# run NAME SECONDS CORPUS SEEDS
	local name=$1 seconds=$2 log="$probe/$1.log"
	nice ./build/fuzz/"$name" -max_total_time="$seconds" -max_len=$max_len \
		-malloc_limit_mb=$malloc_limit_mb -rss_limit_mb=$rss_limit_mb -timeout=10 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/ "$3" "$4" >"$log" 2>&1
	local rc=$?
	local runs peak
	runs=$(grep -oE '^Done [0-9]+ runs' "$log" | awk '{print $2}')
	peak=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$log" | awk '{print $2}')
	if [ "$rc" != 0 ] || [ -z "$runs" ]; then
		echo "$name failed (exit $rc):"
		grep -E 'ERROR|SUMMARY|fuzz_|==[0-9]+==|Test unit written' "$log" | head -20
		tail -5 "$log"
		echo "the failing input is kept in build/fuzz/"
		return 1
	fi
	echo "$name: $runs executions in $seconds s, peak RSS ${peak:-?} MB, no crash, no sanitizer report"
}

status=0
run fuzz_model "$model_seconds" "$probe/model" "$probe/seeds_model" || status=1
run fuzz_options "$options_seconds" "$probe/options" "$probe/seeds_options" || status=1
exit $status
