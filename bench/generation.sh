#!/usr/bin/env bash
# Generation throughput per family and level in one table: the whole `verity generate` command (process
# start, generation, JSON writing, content hash, manifest) on one thread and on every core, and the
# in-process generator alone (make_task in a loop, build/bench/verity_bench, one thread).
#   bash bench/generation.sh [seconds per whole-command run, default 2] [levels, default "1 5 10"]
# Each whole-command run first times a small batch, then sizes the measured run to about the seconds
# asked, so slow and fast families get comparable figures. Say how loaded the machine was.
set -euo pipefail
cd "$(dirname "$0")/.."
v=./build/verity
seconds="${1:-2}"
levels="${2:-1 5 10}"
cores="$(nproc)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

# tasks/s of one whole command with n tasks
run() {  # family level n threads
  local t0 t1
  t0=$(now)
  $v generate --family "$1" --level "$2" -n "$3" --seed 1 -o "$tmp/out.jsonl" --threads "$4" --no-progress >/dev/null
  t1=$(now)
  python3 -c "print(f'{$3 / ($t1 - $t0):.0f}')"
}

# in-process rate (items/s) of make_task, one thread, from Google Benchmark's JSON
inprocess() {  # family level
  build/bench/verity_bench --benchmark_filter="^generate/$1/level$2/real_time/threads:1\$" \
    --benchmark_min_time=0.3 --benchmark_format=json 2>/dev/null |
    python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"]; print("%.0f" % b[0]["items_per_second"] if b else "-")'
}

families="$($v list | grep -E '^[a-z_]+$')"
printf '%-26s %5s %14s %14s %8s %16s\n' family level "1 thread/s" "$cores threads/s" speedup "in-process/s"
for f in $families; do
  for l in $levels; do
    probe=$(run "$f" "$l" 200 1)
    n=$(python3 -c "print(max(200, int($probe * $seconds)))")
    one=$(run "$f" "$l" "$n" 1)
    all=$(run "$f" "$l" "$n" "$cores")
    printf '%-26s %5s %14s %14s %7.2fx %16s\n' "$f" "$l" "$one" "$all" "$(python3 -c "print($all / $one)")" \
      "$(inprocess "$f" "$l")"
  done
done
echo "(machine: $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
