#!/usr/bin/env bash
# Builds and runs one fuzz target for SECONDS, seeded from fixtures/.
#
#   fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#   fuzz/run.sh check_bytes 1800          # a 30-minute campaign
#   fuzz/run.sh org_file 60 -jobs=2       # two processes
#
# TARGET is check_bytes, org_file or profile. Needs a nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). The corpus grows in
# fuzz/corpus/TARGET (git-ignored, kept between runs); crashes land in
# fuzz/artifacts/TARGET. The reproducers of fixed crashes in
# fuzz/regressions/TARGET are replayed first, and `cargo test` replays them
# too (tests/hostile.rs).
set -euo pipefail
cd "$(dirname "$0")"

usage="usage: fuzz/run.sh check_bytes|org_file|profile SECONDS [libFuzzer options...]"
target=${1:?$usage}
seconds=${2:?$usage}
shift 2

corpus=corpus/$target
mkdir -p "$corpus"

# Copies files into the corpus under a stable name (same file, same name).
seed() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || continue
        cp "$f" "$corpus/seed-$(echo "$f" | tr '/' '-' | sed 's/^[.-]*//')"
    done
}

shopt -s nullglob globstar
case $target in
    check_bytes) seed ../fixtures/**/*.csv ../fixtures/**/*.txt ;;
    org_file) seed ../fixtures/**/*.json ../fixtures/**/*.csv ;;
    profile) seed ../fixtures/**/*.toml ../src/default_profile.toml ;;
    *) echo "$usage" >&2; exit 2 ;;
esac

# Realistic seeds from the generator: a small user file, its org and export.
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
if (cd .. && cargo run --quiet --example gen -- --rows 25 --errors 20 --out "$gen") >/dev/null 2>&1; then
    case $target in
        check_bytes) seed "$gen/users.csv" ;;
        org_file) seed "$gen/org.json" "$gen/org-export.csv" ;;
    esac
fi

regressions=(regressions/"$target"/*)
seed "${regressions[@]}"

# csvcheck has no unsafe code, so what fuzzing hunts here is panics and
# broken invariants; AddressSanitizer would cost most of the speed. Set
# FUZZ_SANITIZER=address to hunt memory errors in dependencies too.
sanitizer=${FUZZ_SANITIZER:-none}

cargo +nightly fuzz build -s "$sanitizer" "$target"
if [ ${#regressions[@]} -gt 0 ]; then
    echo "replaying ${#regressions[@]} regression input(s) of $target" >&2
    cargo +nightly fuzz run -s "$sanitizer" "$target" "${regressions[@]}"
fi
cargo +nightly fuzz run -s "$sanitizer" "$target" "$corpus" -- \
    -max_total_time="$seconds" -dict="dict/$target.dict" -max_len=8192 -timeout=10 -rss_limit_mb=4096 "$@"
