#!/usr/bin/env bash
# Instructions executed by csvcheck and by the bare-parse baseline on the
# 20,000-row input, counted by valgrind (callgrind) with one worker thread.
#
#   benches/instructions.sh [OTHER_BUILD...]
#
# The machines are shared and their timings move by a tenth from one run
# to the next; an instruction count moves by a fraction of a percent (the
# tables' hashes are seeded at random), so it is the figure to compare a
# change by. Each OTHER_BUILD (a csvcheck binary, say of an earlier commit)
# is counted on the same commands, for a before/after comparison. Needs
# valgrind (`apt-get install valgrind`); takes about a minute a build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }

cargo build --release --quiet --bin csvcheck --example baseline --example gen
data=target/gen/20k
[ -f "$data/users.csv" ] || target/release/examples/gen --rows 20000 --errors 2 --out "$data" >/dev/null

# The instructions of one command, every thread's, one worker thread.
count() {
    local out
    out=$(mktemp)
    RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>"$out.log" || true
    grep -o 'Collected : [0-9]*' "$out.log" | grep -o '[0-9]*$'
    rm -f "$out" "$out.log"
}

base=$(count target/release/examples/baseline "$data/users.csv")
echo "| command | instructions | × baseline |"
echo "|---|---|---|"
awk -v n="$base" 'BEGIN { printf "| baseline | %.1f M | 1.0 |\n", n / 1e6 }'
for build in target/release/csvcheck "$@"; do
    for args in "--format json -o /dev/null" "--quiet"; do
        n=$(count "$build" check --org "$data/org.json" $args "$data/users.csv")
        awk -v name="$build ${args%% -o*}" -v n="$n" -v base="$base" \
            'BEGIN { printf "| %s | %.1f M | %.1f |\n", name, n / 1e6, n / base }'
    done
done
