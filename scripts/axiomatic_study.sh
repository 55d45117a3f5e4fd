#!/usr/bin/env bash
# The paper-setup study of axiomatic training (docs/results/axiomatic_paper_setup/): a grid of SFT runs
# over depth / width / positional encoding / epochs on the transitivity mixture in the paper's format
# (format=axiomatic, char tokens, loss on the answer only, constant lr), each evaluated after every
# curve epoch on held-out chains of 3-6 nodes (in distribution) and of 7-15, 20 and 50 nodes; then
# results.json, results.md (95% Wilson intervals) and learning-curve SVGs.
#
#   scripts/axiomatic_study.sh --preset cpu --out results/paper_cpu                  # this machine's CPUs
#   scripts/axiomatic_study.sh --preset gpu --device cuda --jobs 8 --out results/paper_gpu   # one H200, <= 6 min
#   scripts/axiomatic_study.sh --preset smoke --out /tmp/study                        # plumbing check, ~1 min
#
# Options: --preset NAME|FILE (configs/axiomatic_paper_NAME.json), --device cpu|cuda|auto (passed to
# `verity train` and `verity eval`; anything but cpu needs a trainer built with device support), --jobs N
# (runs trained side by side as separate processes), --out DIR, --seed S, --verity PATH (default
# build/verity), --deadline-s S (overrides the preset: no curve segment starts or runs past S seconds
# after the study starts; runs then report the epochs they reached). Rerunning with the same --out
# keeps finished curve points (each run resumes from its last checkpoint). --publish DIR copies the
# results, charts, plan and run configs (not the checkpoints or data) into DIR, e.g.
# docs/results/axiomatic_paper_setup/gpu.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset=cpu device=cpu jobs=1 out="" seed=1 verity="$here/build/verity" deadline="" publish=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --preset) preset="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --verity) verity="$2"; shift 2 ;;
    --deadline-s) deadline="$2"; shift 2 ;;
    --publish) publish="$2"; shift 2 ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "axiomatic_study.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { echo "axiomatic_study.sh: --out DIR is required" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "axiomatic_study.sh: --jobs must be a positive integer, got '$jobs'" >&2; exit 2; }
case "$device" in cpu|cuda|auto) ;; *) echo "axiomatic_study.sh: --device must be cpu | cuda | auto, got '$device'" >&2; exit 2 ;; esac
[[ -x "$verity" ]] || { echo "axiomatic_study.sh: $verity is not built (cmake --build build)" >&2; exit 2; }
preset_file="$preset"
[[ -f "$preset_file" ]] || preset_file="$here/configs/axiomatic_paper_$preset.json"
[[ -f "$preset_file" ]] || { echo "axiomatic_study.sh: no preset '$preset' (configs/axiomatic_paper_{smoke,cpu,gpu}.json or a file)" >&2; exit 2; }
# the device goes to every train and eval call when the build has --device (so --device cpu stays on the
# CPU on a machine with a GPU); a build without it can only run --device cpu
device_flag=() eval_device_flag=()
if "$verity" train --help 2>/dev/null | grep -q -- '--device'; then
  device_flag=(--device "$device")
  if "$verity" eval --help 2>/dev/null | grep -q -- '--device'; then eval_device_flag=(--device "$device")
  elif [[ "$device" != cpu ]]; then echo "axiomatic_study.sh: 'verity eval' has no --device in this build: evaluating on the CPU" >&2; fi
elif [[ "$device" != cpu ]]; then
  echo "axiomatic_study.sh: this build's 'verity train' has no --device: --device $device needs the trainer's device support" >&2; exit 2
fi

mkdir -p "$out"
out="$(cd "$out" && pwd)"
start=$(date +%s)
report="$here/scripts/axiomatic_study_report.py"

# 1. the plan: one train config per grid point, the curve epochs, the evaluation settings
python3 "$report" plan --preset "$preset_file" --out "$out" --seed "$seed" --root "$here" ${deadline:+--deadline-s "$deadline"}
deadline=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadline_s"])' "$out/plan.json")

# 2. data, built once before the runs start: the training split (through the trainer, so every run finds
#    it built), the evaluation splits (disjoint from the whole training recipe) and their first items
rm -rf "$out/data/prebuild"  # the data-building run's folder: a fresh one each time (no refusal of a used folder)
python3 "$report" data-commands --out "$out" --verity "$verity" ${device_flag:+--device-flag} > "$out/data_commands.sh"
bash "$out/data_commands.sh" > "$out/data.log" 2>&1 || { cat "$out/data.log" >&2; exit 1; }
python3 "$report" eval-set --out "$out"

# 3. the runs, --jobs at a time; each trains segment by segment (--resume) and evaluates after each
run_one() {
  local name="$1" dir="$out/runs/$1"
  mkdir -p "$dir/curve"
  local cfg="$dir/config.json" epoch steps
  while read -r epoch steps; do
    local point="$dir/curve/epoch_$epoch"
    [[ -f "$point.scores.jsonl" ]] && continue
    local left=$(( start + deadline - $(date +%s) ))
    if (( left <= 5 )); then echo "$name: deadline reached before epoch $epoch" >> "$dir/log.txt"; break; fi
    local t0; t0=$(date +%s)
    if ! timeout --signal=TERM "$left" "$verity" train --config "$cfg" --max-steps "$steps" \
           --resume true "${device_flag[@]}" >> "$dir/log.txt" 2>&1; then
      echo "$name: training to epoch $epoch stopped (deadline or error, see above)" >> "$dir/log.txt"; break
    fi
    local t1; t1=$(date +%s)
    "$verity" eval --checkpoint "$dir/ckpt" --tasks "$out/data/eval_tasks.jsonl" --completions "$point.completions.jsonl" \
      --max-new-tokens 6 --batch 256 "${eval_device_flag[@]}" >> "$dir/log.txt" 2>&1
    "$verity" score --tasks "$out/data/eval_tasks.jsonl" --completions "$point.completions.jsonl" \
      -o "$point.scores.tmp" >> "$dir/log.txt" 2>&1
    mv "$point.scores.tmp" "$point.scores.jsonl"
    echo "{\"epoch\": $epoch, \"steps\": $steps, \"train_seconds\": $(( t1 - t0 )), \"eval_seconds\": $(( $(date +%s) - t1 ))}" > "$point.time.json"
  done < <(python3 "$report" curve-points --out "$out" --run "$name")
}
export -f run_one
export out verity start deadline report
export DEVICE_FLAG="${device_flag[*]}" EVAL_DEVICE_FLAG="${eval_device_flag[*]}"
# (arrays do not cross `export -f`: rebuild the device flags inside each job)
python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["runs"]))' "$out/plan.json" |
  xargs -P "$jobs" -I{} bash -c 'device_flag=($DEVICE_FLAG); eval_device_flag=($EVAL_DEVICE_FLAG); run_one "$1"' _ {}

# 4. the report
python3 "$report" report --out "$out"
[[ -z "$publish" ]] || python3 "$report" publish --out "$out" --to "$publish"
echo "study done in $(( $(date +%s) - start )) s: $out/results.md"
