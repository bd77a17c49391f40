#!/usr/bin/env bash
# A profile-guided (PGO) build of the csvcheck binary: the one to deploy
# where speed matters (a pipeline that checks many partner files).
#
#   benches/pgo.sh        # then: target/pgo/use/release/csvcheck
#
# Three steps: a build that counts how often each branch and function of
# csvcheck runs; that build run on generated files (checks in every report
# format, against an org as JSON and as an export CSV, `plan` and `fix`);
# then a release build that lays its code out and inlines by those counts.
# The checks behave exactly as in a plain `cargo build --release`: only the
# machine code differs. A million-row check takes 10 to 13% less CPU time
# (README, Performance).
#
# The training files are generated with another seed than the benches'
# inputs (42), so that no figure is measured on the file that trained the
# build. Needs `llvm-profdata`, which rustup installs as the llvm-tools
# component (this script asks for it); takes three to six minutes (two
# release builds).
#
# RUSTFLAGS given to the script reach both builds, so that, say,
#
#   RUSTFLAGS="-C target-cpu=x86-64-v3" benches/pgo.sh
#
# builds for the processors that run it (1.4% less wall time at a million
# rows; the binary then runs on x86-64 processors of 2013 on only).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup component add llvm-tools >/dev/null 2>&1 || true
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
    echo "needs llvm-profdata: rustup component add llvm-tools" >&2
    exit 2
fi

out=$PWD/target/pgo
train=$out/train
cargo build --release --quiet --example gen
gen() { [ -f "$train/$1/users.csv" ] || target/release/examples/gen "${@:2}" --seed 7 --errors 2 --out "$train/$1" >/dev/null; }
gen 20k --rows 20000
gen 200k --rows 200000 --org-users 20000

# The counting build. Its build scripts run during the build and count
# too: their counts are removed before the training runs.
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$out/raw" cargo build --release --quiet --bin csvcheck --target-dir "$out/gen"
rm -rf "$out/raw"
bin=$out/gen/release/csvcheck
run() { "$bin" "$@" >/dev/null 2>&1 || [ $? -eq 1 ]; }
for data in "$train/20k" "$train/200k"; do
    run check --org "$data/org.json" --format json -o /dev/null "$data/users.csv"
    run check --org "$data/org.json" --quiet "$data/users.csv"
    run check --org "$data/org-export.csv" -o /dev/null "$data/users.csv"
    run check --format json -o /dev/null "$data/users.csv"
done
data=$train/20k
for format in jsonl sarif csv; do
    run check --org "$data/org.json" --format "$format" -o /dev/null "$data/users.csv"
done
run check --max-rows 30000 --org "$data/org.json" --mode add-remove-services --format json -o /dev/null "$data/users.csv"
run plan --org "$data/org.json" "$data/users.csv"
run fix "$data/users.csv" -o "$out/fixed.csv"

"$profdata" merge -o "$out/csvcheck.profdata" "$out/raw"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$out/csvcheck.profdata" cargo build --release --quiet --bin csvcheck --target-dir "$out/use"
echo "$out/use/release/csvcheck"
