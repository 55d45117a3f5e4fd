#!/usr/bin/env bash
# The trainer on a GPU, checked against the CPU (issue 13):
#   1. builds verity-train against the LibTorch inside this machine's PyTorch (CUDA) into build-gpu/
#   2. trains the same short SFT run (configs/demo.json's model and data, same seed) on the CPU and on
#      CUDA in fp32: same data, same initial weights, so the per-step losses must agree up to float
#      reordering; then on CUDA with bf16 autocast, whose losses must stay close
#   3. trains a larger model (6 layers, width 384) on both for a few steps: tokens/s where a GPU pays
#   4. prints a table and writes it to $OUT_DIR/gpu-check.json (exit 1 when a check fails)
#
# Needs python3 with a CUDA PyTorch, a GPU, cmake, ninja or make and a C++20 compiler, plus Verity's
# other dependencies: on Debian `bash scripts/install-deps.sh`; on another distribution, point
# VERITY_DEPS_PREFIX at a folder holding Debian 12's packages unpacked with `dpkg -x` (docs/gpu.md).
#
#   bash scripts/gpu-check.sh                 # STEPS=300 OUT_DIR=build-gpu/check by default
#   BUILD_ONLY=1 bash scripts/gpu-check.sh    # stop after building build-gpu/verity-train
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${STEPS:-300}
out=${OUT_DIR:-build-gpu/check}
mkdir -p "$out"

torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
python3 - <<'EOF'
import torch
if not torch.cuda.is_available():
    raise SystemExit(f"gpu-check: torch {torch.__version__} sees no CUDA device; nothing to check")
print(f"gpu-check: torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
EOF

prefix_path="$torch_prefix"
if [ -n "${VERITY_DEPS_PREFIX:-}" ]; then  # Debian's -dev packages unpacked under this root
  p=$VERITY_DEPS_PREFIX
  multiarch=x86_64-linux-gnu
  prefix_path="$torch_prefix;$p/usr"
  export PATH="$p/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$p/usr/lib/$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PKG_CONFIG="$p/usr/bin/pkgconf" PKG_CONFIG_SYSROOT_DIR="$p"
  export PKG_CONFIG_LIBDIR="$p/usr/lib/$multiarch/pkgconfig:$p/usr/share/pkgconfig"
fi
generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix_path" \
  -DPKG_CONFIG_EXECUTABLE="${PKG_CONFIG:-pkg-config}" \
  -DVERITY_BUILD_CLI=OFF -DVERITY_BUILD_TESTS=OFF -DVERITY_BUILD_BENCH=OFF -DVERITY_BUILD_PYTHON=OFF >"$out/cmake.log"
t0=$(date +%s)
cmake --build build-gpu --target verity_train_cli --parallel "$(nproc)" >"$out/build.log" 2>&1 ||
  { tail -40 "$out/build.log"; exit 1; }
echo "gpu-check: built build-gpu/verity-train in $(( $(date +%s) - t0 )) s"
train=./build-gpu/verity-train
$train runtime
if [ -n "${BUILD_ONLY:-}" ]; then exit 0; fi

# run NAME DEVICE PRECISION STEPS [flags...]: one training run, its metrics.csv and log kept in $out/NAME
run() {
  local name=$1 device=$2 precision=$3 n=$4; shift 4
  rm -rf "${out:?}/$name"
  $train train --config configs/demo.json --run-dir "$out/$name" --device "$device" --precision "$precision" \
    --max-steps "$n" --log-every 1 --eval-every 0 --checkpoint-every 50 "$@" >"$out/$name.log" 2>&1 ||
    { tail -20 "$out/$name.log"; exit 1; }
  grep -E "^done:" "$out/$name.log" | sed "s/^/  $name: /"
}
cores=$(nproc)
run cpu cpu fp32 "$steps" --threads "$cores"
run cuda_fp32 cuda fp32 "$steps"
run cuda_bf16 cuda bf16 "$steps"
# a checkpoint written on the GPU resumes on the CPU (weights and optimiser state load on any device)
rm -rf "$out/cuda_then_cpu" && cp -r "$out/cuda_fp32" "$out/cuda_then_cpu"
$train train --run-dir "$out/cuda_then_cpu" --resume --device cpu --max-steps $((steps + 20)) --threads "$cores" \
  >"$out/cuda_then_cpu.log" 2>&1 || { tail -20 "$out/cuda_then_cpu.log"; exit 1; }
grep -E "^(resuming|done:)" "$out/cuda_then_cpu.log" | sed "s/^/  cuda_then_cpu: /"
big=(--layers 6 --width 384 --heads 6 --batch-size 64 --eval-tasks 64)
run big_cpu cpu fp32 20 --threads "$cores" "${big[@]}"
run big_cuda_bf16 cuda bf16 200 "${big[@]}"

python3 - "$out" "$steps" <<'EOF'
import csv, json, re, sys
out, steps = sys.argv[1], int(sys.argv[2])
def losses(name):
    with open(f"{out}/{name}/metrics.csv") as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]
def done(name):
    m = re.search(r"done: (\d+) steps, ([\d.]+) s wall, (\d+) tokens/s; accuracy ([\d.-]+) -> ([\d.-]+)",
                  open(f"{out}/{name}.log").read())
    return {"steps": int(m[1]), "seconds": float(m[2]), "tokens_per_s": int(m[3]), "accuracy": float(m[5])}
cpu, f32, b16 = losses("cpu"), losses("cuda_fp32"), losses("cuda_bf16")
first = min(20, len(cpu))
checks = {
    # same weights and data: step 1 differs by float reordering alone, later steps drift slowly
    "fp32 step-1 loss |cuda - cpu|": (abs(f32[0] - cpu[0]), 1e-4),
    f"fp32 max |cuda - cpu| over steps 1-{first}": (max(abs(a - b) for a, b in zip(f32[:first], cpu[:first])), 1e-2),
    "bf16 step-1 loss |cuda - cpu|": (abs(b16[0] - cpu[0]), 2e-2),
    f"bf16 mean |cuda - cpu| over steps 1-{len(cpu)}": (sum(abs(a - b) for a, b in zip(b16, cpu)) / len(cpu), 5e-2),
}
report = {"runs": {n: done(n) for n in ["cpu", "cuda_fp32", "cuda_bf16", "cuda_then_cpu", "big_cpu", "big_cuda_bf16"]},
          "checks": {k: {"value": v, "limit": lim, "ok": v <= lim} for k, (v, lim) in checks.items()}}
print(f"{'run':16} {'steps':>6} {'tokens/s':>10} {'accuracy':>9}")
for n, r in report["runs"].items():
    print(f"{n:16} {r['steps']:6d} {r['tokens_per_s']:10d} {r['accuracy']:9.3f}")
for k, c in report["checks"].items():
    print(f"{'ok  ' if c['ok'] else 'FAIL'} {k}: {c['value']:.2e} (limit {c['limit']:.0e})")
json.dump(report, open(f"{out}/gpu-check.json", "w"), indent=1)
sys.exit(0 if all(c["ok"] for c in report["checks"].values()) else 1)
EOF
