#!/usr/bin/env bash
# Generation throughput per family and level in one table: the whole `verity generate` command (process
# start, generation, JSON writing, content hash, manifest) on one thread and on every core, and the
# in-process generator alone (TaskMaker in a loop, build/bench/verity_bench, one thread) with the rate
# of its dedupe key (question_key: `verity generate` computes one per candidate task).
#   bash bench/generation.sh [seconds per whole-command run, default 2] [levels, default "1 5 10"] [families, default all]
#   REPEATS=3 bash bench/generation.sh ...   # best of 3 runs per figure (for a noisy, shared machine)
#   MAX_TASKS=100000 bash bench/generation.sh ...   # the most tasks a timed run makes (default 50,000)
# Each whole-command run first times a small batch, then sizes the measured run to about the seconds
# asked, so slow and fast families get comparable figures. "per CPU-s" is tasks per second of CPU the
# one-thread command used (user + system): on a loaded machine it is what an idle core would give,
# while the wall-clock columns also count the time other processes held the cores. "N procs/s" is N
# one-thread commands run at once (seeds 1..N), all their tasks per second of wall time, and "ceiling" its
# ratio to one thread: what N cores give independent work here. Where that is well under N (cores that
# share a physical core or its caches; on the development VM two lone processes each ran 10-30% slower
# than one alone), the thread speed-up cannot reach N either, and "speedup" is judged against it.
# The load average is printed before and after: quote it with the table.
set -euo pipefail
cd "$(dirname "$0")/.."
v=./build/verity
seconds="${1:-2}"
levels="${2:-1 5 10}"
families="${3:-$($v list | grep -E '^[a-z_]+$')}"
repeats="${REPEATS:-1}"
# A timed run makes at most this many tasks: a dataset size users ask for, and small enough that a
# level's question space is not near exhaustion (syllogism 5 keeps 40,000 of 71,000 candidates, but
# 150,000 tasks cost 12 CPU-s, the rare last questions of its space); MAX_TASKS=... to change it.
max_tasks="${MAX_TASKS:-50000}"
cores="$(nproc)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# "<tasks/s wall> <tasks per CPU-second>" of one whole command with n tasks: the best of $repeats runs.
# With procs > 1, that many one-thread commands (seeds 1, 2, ...) run at once and the figures are for
# all their tasks together: what the cores give to independent work, the ceiling for --threads.
run() {  # family level n threads [runs, default $repeats] [procs, default 1]
  python3 - "$v" "$1" "$2" "$3" "$4" "$tmp/out" "${5:-$repeats}" "${6:-1}" <<'PY'
import os, re, resource, subprocess, sys, time
v, family, level, n, threads, out, repeats, procs = sys.argv[1:]
procs = int(procs)
best_wall = best_cpu = 0.0
for _ in range(int(repeats)):
    # The previous run's files go first, outside the timing: replacing them would charge the command
    # the kernel's freeing of its pages (up to a second of system time for a 500 MB file).
    for k in range(procs):
        for stale in (f"{out}{k}.jsonl", f"{out}{k}.jsonl.manifest.json"):
            if os.path.exists(stale):
                os.remove(stale)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    running = [subprocess.Popen([v, "generate", "--family", family, "--level", level, "-n", n, "--seed", str(k + 1),
                                 "-o", f"{out}{k}.jsonl", "--threads", threads, "--no-progress"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for k in range(procs)]
    results = [(p.wait(), p.stderr.read()) for p in running]
    wall = time.perf_counter() - t0
    for code, err in results:
        if code != 0:  # fewer distinct questions than -n at these knobs: nothing to time
            m = re.search(r"has (?:only|at least) (\d+) distinct", err)
            if not m:
                sys.exit(f"verity generate --family {family} --level {level} failed: {err}")
            print(f"distinct {m[1]}")
            sys.exit(0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tasks = procs * int(n)
    best_wall, best_cpu = max(best_wall, tasks / wall), max(best_cpu, tasks / max(cpu, 1e-9))
print(f"{best_wall:.0f} {best_cpu:.0f}")
PY
}

# in-process rates, one thread, from Google Benchmark's JSON: TaskMaker::make ("<items/s wall> <items per
# CPU-s>") and the family's question_key, the dedupe's key ("<keys per CPU-s>")
inprocess() {  # family level
  build/bench/verity_bench --benchmark_filter="^(generate/$1/level$2/real_time/threads:1|key/$1/level$2/real_time)\$" \
    --benchmark_min_time=0.3 --benchmark_repetitions="$repeats" --benchmark_format=json 2>/dev/null |
    python3 -c '
import json, sys
runs = [b for b in json.load(sys.stdin)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
make = [b for b in runs if b["name"].startswith("generate/")]
key = [b for b in runs if b["name"].startswith("key/")]
cpu = lambda b: b["items_per_second"] * b["real_time"] / b["cpu_time"]
print("%.0f %.0f %.0f" % (max(b["items_per_second"] for b in make), max(map(cpu, make)), max(map(cpu, key))) if make and key else "- - -")'
}

echo "(machine: $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start)"
printf '%-26s %5s %12s %12s %13s %8s %11s %8s %14s %14s %13s\n' family level "1 thread/s" "per CPU-s" "$cores threads/s" speedup \
  "$cores procs/s" ceiling "in-process/s" "per CPU-s" "keys/CPU-s"
for f in $families; do
  for l in $levels; do
    # Sized by the CPU rate (the second figure), not the wall one: on a loaded machine the wall rate
    # would size a run too small for process start not to weigh on it. Two probes: the rate of 200
    # tasks is mostly process start (a run sized from it alone took a fifth of the seconds asked, and
    # the fixed costs, start and the final fsync, then weighed on the thread speed-up), so a second
    # probe of about a tenth of the seconds sizes the timed runs.
    n=200
    for fraction in 0.1 1; do
      read -r probe distinct < <(run "$f" "$l" "$n" 1 1)
      [ "$probe" = distinct ] && break
      n=$(python3 -c "print(max(200, min($max_tasks, int($distinct * $seconds * $fraction))))")
    done
    [ "$probe" != distinct ] && read -r probe distinct < <(run "$f" "$l" "$n" 1 1)
    # Knobs with fewer distinct questions than a timed run needs: time half of them (the last few of all
    # of them take many draws to find), unless that is too few to time.
    if [ "$probe" = distinct ] && [ "$distinct" -ge 1000 ]; then
      n=$((distinct / 2))
      read -r probe _ < <(run "$f" "$l" "$n" 1 1)
      label="$l (n=$n of $distinct)"
    else
      label="$l"
    fi
    if [ "$probe" = distinct ]; then
      printf '%-26s %5s   (only %s distinct questions at these knobs: too few to time)\n' "$f" "$l" "$distinct"
      continue
    fi
    read -r one one_cpu < <(run "$f" "$l" "$n" 1)
    read -r all _ < <(run "$f" "$l" "$n" "$cores")
    read -r procs _ < <(run "$f" "$l" "$n" 1 "$repeats" "$cores")
    read -r in_wall in_cpu keys < <(inprocess "$f" "$l")
    printf '%-26s %5s %12s %12s %13s %7.2fx %11s %7.2fx %14s %14s %13s\n' "$f" "$label" "$one" "$one_cpu" "$all" \
      "$(python3 -c "print($all / $one)")" "$procs" "$(python3 -c "print($procs / $one)")" "$in_wall" "$in_cpu" "$keys"
  done
done
echo "(machine: $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
