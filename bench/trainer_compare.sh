#!/usr/bin/env bash
# The C++ trainer against the same model in Python PyTorch (Debian's python3-torch), in the same run,
# with the same threads and the same BLAS (OPENBLAS_NUM_THREADS=1, torch intra-op threads = $THREADS):
# training tokens/s, sampling tokens/s with and without the KV cache, and the ratios C++ / Python.
# Then the trainer itself: SFT and GRPO tokens/s with padding-free (packed) batches against padded ones,
# same config, same seed.
#
#   bench/trainer_compare.sh [THREADS=1] [extra model flags, e.g. --width 128 --layers 4]
# Needs build/bench/verity_trainer_bench and build/verity-train (cmake --build build --target
# verity_trainer_bench verity_train_cli). Installs python3-torch with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${1:-1}"
shift || true
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS="$threads"
# Debian's interpreter (python3-torch installs there), not a pyenv shim that may come first on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

if ! "$python" -c "import torch" 2>/dev/null; then
  echo "installing python3-torch (Debian) for the Python reference ..."
  if [ "$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends python3-torch >/dev/null
  else sudo apt-get install -y --no-install-recommends python3-torch >/dev/null; fi
fi

bench=./build/bench/verity_trainer_bench
[ -x "$bench" ] || { echo "missing $bench: cmake --build build --target verity_trainer_bench" >&2; exit 2; }
args=(--threads "$threads" "$@")
cpp="$("$bench" "${args[@]}")"
# The same BLAS kernels on both sides: verity_trainer_bench replaces OpenBLAS's fallback kernels on a CPU
# newer than it (use_fitting_blas_kernels); the Python reference is given the kernels the C++ side ran on.
core="$(sed -n 's/.*DYNAMIC_ARCH.* \([A-Za-z0-9]*\) MAX_THREADS.*/\1/p' <<<"$cpp")"
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$core" ]; then export OPENBLAS_CORETYPE="$core"; fi
py="$("$python" bench/trainer_reference.py "${args[@]}")"
"$python" - "$cpp" "$py" <<'PY'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"C++:    {c['runtime']}, {c['parameters']} parameters")
print(f"Python: {p['runtime']}, {p['parameters']} parameters")
print(f"{'tokens/s':28s} {'C++':>10s} {'Python':>10s} {'C++/Py':>7s}")
for key, name in [("train_tokens_per_s", "train (fwd+bwd+Adam)"),
                  ("sample_cache_tokens_per_s", "sample, KV cache"),
                  ("sample_nocache_tokens_per_s", "sample, no cache")]:
    print(f"{name:28s} {c[key]:10.0f} {p[key]:10.0f} {c[key] / p[key]:7.2f}")
print(f"{'KV cache speed-up':28s} {c['sample_cache_tokens_per_s'] / c['sample_nocache_tokens_per_s']:10.2f} "
      f"{p['sample_cache_tokens_per_s'] / p['sample_nocache_tokens_per_s']:10.2f}")
PY

# ---- padding-free vs padded batches in the trainer (same config and seed) ----
train=./build/verity-train
[ -x "$train" ] || { echo "missing $train" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A curriculum batch mixes levels (review_frac) and names of 1-3 characters: lengths vary as in real runs.
common=(--family causal_transitivity --level 4 --review-frac 0.5 --curriculum false --eval-tasks 0 --log-every 0
        --checkpoint-every 0 --threads "$threads" --seed 5 --width 64 --layers 2)
tps() { sed -n 's/.* \([0-9][0-9]*\) tokens\/s.*/\1/p' | tail -1; }
echo
echo "trainer tokens/s (real tokens per second of step wall time), causal_transitivity levels 1-4 mixed:"
printf '%-34s %10s %10s %7s\n' "" padded packed ratio
for mode in sft grpo; do
  steps=30; [ "$mode" = grpo ] && steps=12
  a="$("$train" train "${common[@]}" --mode "$mode" --max-steps "$steps" --packing false --run-dir "$tmp/pad" | tps)"
  b="$("$train" train "${common[@]}" --mode "$mode" --max-steps "$steps" --packing true --run-dir "$tmp/pack" | tps)"
  label="$mode ($steps steps)"
  [ "$mode" = grpo ] && label="grpo ($steps steps, incl. sampling)"
  printf '%-34s %10s %10s %7s\n' "$label" "$a" "$b" "$("$python" -c "print(f'{$b / $a:.2f}')")"
done
