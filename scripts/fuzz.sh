#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time:
#   answer_fuzz  answer extraction, normalisation, the formula parser
#   verify_fuzz  every registered family's verifier (answer parsers and step checkers), seeded with gold
# Usage: scripts/fuzz.sh [seconds per target, default 60] [work dir, default build/fuzz]
# Fails on any crash, sanitizer report, timeout (> 2 s per input) or input over the memory limit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work="${2:-build/fuzz}"
mkdir -p "$work/gen" "$work/obj"
cxx=(clang++)
if command -v ccache >/dev/null; then cxx=(ccache clang++); fi
flags=(-std=c++20 -O1 -g -fno-sanitize-recover=all -I. -I"$work/gen" $(pkg-config --cflags z3))
lib_flags=("${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined)
exe_flags=("${flags[@]}" -fsanitize=fuzzer,address,undefined)

# The library, instrumented: every layer up to service/ (no torch), compiled in parallel (every time:
# headers such as the generated verity.pb.h change under the objects; ccache makes repeats cheap).
protoc -I. --cpp_out="$work/gen" schemas/verity.proto
sources=(tasks/*.cpp tasks/registry/*.cpp solvers/*.cpp curriculum/*.cpp generators/*.cpp verifiers/*.cpp
         service/*.cpp "$work/gen/schemas/verity.pb.cc")
export work
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'o="$work/obj/$(echo "{}" | tr / _).o"; '"${cxx[*]} ${lib_flags[*]}"' -c "{}" -o "$o"'
objects=()
for s in "${sources[@]}"; do objects+=("$work/obj/$(echo "$s" | tr / _).o"); done
libs=($(pkg-config --libs z3) -ltbb -lprotobuf -lsqlite3 -lpthread)

"${cxx[@]}" "${exe_flags[@]}" tests/fuzz/answer_fuzz.cpp "$work/obj/tasks_answer_extraction.cpp.o" \
  "$work/obj/solvers_logic.cpp.o" -o "$work/answer_fuzz"
"${cxx[@]}" "${exe_flags[@]}" tests/fuzz/verify_fuzz.cpp "${objects[@]}" "${libs[@]}" -o "$work/verify_fuzz"

run_target() {  # name, corpus folder
  rm -f "$work"/crash-* "$work"/timeout-* "$work"/oom-*
  echo "== $1 ($seconds s)"
  "$work/$1" "$2" -max_total_time="$seconds" -max_len=65536 -timeout=2 -rss_limit_mb=2048 -artifact_prefix="$work/" \
    -print_final_stats=1 2>&1 | tail -n 12
}

# Seeds: the shapes that matter (tags, boxes, answer lines, formulas) and inputs that once crashed.
mkdir -p "$work/corpus"
printf '<answer>Yes</answer>' >"$work/corpus/tag"
printf 'x \\boxed{{1}{2}}' >"$work/corpus/boxed"
printf 'think\n**Answer:** No' >"$work/corpus/line"
printf '(A & ~B) -> (C <-> D)' >"$work/corpus/formula"
cp tests/fuzz/regressions/* "$work/corpus/"
run_target answer_fuzz "$work/corpus"

# Seeds: every family's gold trace + answer (written by the target itself), and kept regressions.
rm -rf "$work/verify_corpus" && mkdir -p "$work/verify_corpus"
VERITY_FUZZ_SEEDS="$work/verify_corpus" "$work/verify_fuzz" -runs=0 "$work/verify_corpus" >/dev/null 2>&1
if [ -d tests/fuzz/verify_regressions ]; then cp tests/fuzz/verify_regressions/* "$work/verify_corpus/"; fi
run_target verify_fuzz "$work/verify_corpus"
