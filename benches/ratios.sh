#!/usr/bin/env bash
# Wall time and peak memory of csvcheck against the bare-parse baseline,
# measured in the same rounds (the machines are shared and noisy: only a
# ratio to a baseline timed beside it means anything).
#
#   benches/ratios.sh [ROUNDS] [OTHER [LABEL]]   # default 5 rounds
#
# OTHER, another build of csvcheck (say, of an earlier commit), adds its
# json commands to the same rounds, for a comparison; LABEL names it in the
# table ("before" unless given). CSVCHECK chooses the build measured, a
# plain release build unless given:
#
#   CSVCHECK=target/pgo/use/release/csvcheck benches/ratios.sh 7 target/release/csvcheck plain
#
# measures the profile-guided build (benches/pgo.sh) beside the plain one.
#
# Each round runs the baseline (`examples/baseline.rs`, a csv::Reader
# ByteRecord loop) and then every csvcheck command once, in turn; the table
# gives the median wall time of each, its ratio to the baseline's median for
# the same input, the same of CPU time (user + system: what a pipeline that
# checks many files at once pays per file), and the largest peak RSS seen.
# Inputs are generated once into target/gen (deterministic: seed 42, 2%
# faults).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
before=${2:-}
label=${3:-before}

cargo build --release --quiet --bin csvcheck --example baseline --example gen
bin=${CSVCHECK:-target/release/csvcheck}
base=target/release/examples/baseline
gen() { [ -f "target/gen/$1/users.csv" ] || target/release/examples/gen "${@:2}" --errors 2 --out "target/gen/$1" >/dev/null; }
gen 20k --rows 20000
gen 1m --rows 1000000 --org-users 100000

# name | input | command. The rounds of one input all run before the next
# input's (a command run just after a million-row one is slowed by the
# memory and the temporary file that one leaves behind).
commands=(
  "20k baseline|20k|$base target/gen/20k/users.csv"
  "20k json|20k|$bin check --org target/gen/20k/org.json --format json -o /dev/null target/gen/20k/users.csv"
  "20k quiet|20k|$bin check --org target/gen/20k/org.json --quiet target/gen/20k/users.csv"
  "20k text|20k|$bin check --org target/gen/20k/org.json -o /dev/null target/gen/20k/users.csv"
  "20k json, no org|20k|$bin check --format json -o /dev/null target/gen/20k/users.csv"
)
if [ -n "$before" ]; then
  commands+=("20k json, $label|20k|$before check --org target/gen/20k/org.json --format json -o /dev/null target/gen/20k/users.csv")
fi
commands+=(
  "1m baseline|1m|$base target/gen/1m/users.csv"
  "1m json|1m|$bin check --org target/gen/1m/org.json --format json -o /dev/null target/gen/1m/users.csv"
  "1m quiet|1m|$bin check --org target/gen/1m/org.json --quiet target/gen/1m/users.csv"
  "1m json, every row planned|1m|$bin check --max-rows 2000000 --org target/gen/1m/org.json --format json -o /dev/null target/gen/1m/users.csv"
  "1m json, no org|1m|$bin check --format json -o /dev/null target/gen/1m/users.csv"
)
if [ -n "$before" ]; then
  commands+=("1m json, $label|1m|$before check --org target/gen/1m/org.json --format json -o /dev/null target/gen/1m/users.csv")
fi

python3 - "$rounds" "${commands[@]}" <<'EOF'
import resource, statistics, subprocess, sys, time
rounds, entries = int(sys.argv[1]), [e.split("|", 2) for e in sys.argv[2:]]
walls = {name: [] for name, _, _ in entries}
cpus = {name: [] for name, _, _ in entries}
rss = {name: 0 for name, _, _ in entries}
inputs = list(dict.fromkeys(data for _, data, _ in entries))
for data, r in ((data, r) for data in inputs for r in range(rounds)):
    for name, _, cmd in (e for e in entries if e[1] == data):
        # GNU time reports the command's own peak RSS (KiB); the fork of
        # this interpreter would count its own. Exit status 1 (findings) is
        # expected: the inputs hold faults.
        start = time.perf_counter()
        # The CPU time of the children waited for (GNU time's own, a
        # fraction of a millisecond, is in it, as it is in every command's).
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", "/tmp/ratios.rss", *cmd.split()],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls[name].append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rss[name] = max(rss[name], int(open("/tmp/ratios.rss").read().split()[-1]))
        cpus[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print(f"{data}: round {r + 1} of {rounds} done", file=sys.stderr)
base = {data: statistics.median(walls[name]) for name, data, _ in entries if name.endswith("baseline")}
# CPU time (user + system): what a pipeline
# checking many files at once pays per file, and less moved by other
# tenants than the wall time, though still by contention for the caches.
base_cpu = {data: statistics.median(cpus[name]) for name, data, _ in entries if name.endswith("baseline")}
print("| command | median wall | × baseline | median CPU | CPU × baseline | peak RSS |")
print("|---|---|---|---|---|---|")
for name, data, _ in entries:
    med, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
    print(f"| {name} | {med:.3f} s | {med / base[data]:.1f} | {cpu:.3f} s | {cpu / base_cpu[data]:.1f} | {rss[name] / 1024:.0f} MB |")
EOF
