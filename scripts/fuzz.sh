#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time.
# Usage: scripts/fuzz.sh [seconds per target, default 60] [work dir, default build/fuzz]
# Fails on any crash, sanitizer report, timeout (> 2 s per input) or input over the memory limit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work="${2:-build/fuzz}"
mkdir -p "$work/corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I.)
clang++ "${flags[@]}" tests/fuzz/answer_fuzz.cpp tasks/answer_extraction.cpp tasks/logic.cpp -o "$work/answer_fuzz"
# Seeds: the shapes that matter (tags, boxes, answer lines, formulas).
printf '<answer>Yes</answer>' >"$work/corpus/tag"
printf 'x \\boxed{{1}{2}}' >"$work/corpus/boxed"
printf 'think\n**Answer:** No' >"$work/corpus/line"
printf '(A & ~B) -> (C <-> D)' >"$work/corpus/formula"
cp tests/fuzz/regressions/* "$work/corpus/"   # inputs that once crashed: always re-run
rm -f "$work"/crash-* "$work"/timeout-* "$work"/oom-*
"$work/answer_fuzz" "$work/corpus" -max_total_time="$seconds" -max_len=65536 -timeout=2 -rss_limit_mb=1024 -artifact_prefix="$work/" \
  -print_final_stats=1 2>&1 | tail -n 12
