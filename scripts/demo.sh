#!/usr/bin/env bash
# The main job on an embedded default: generate datasets, score completions, train a tiny reasoner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
out="${VERITY_DEMO_DIR:-demo-output}"
mkdir -p "$out"
v=./build/verity
echo "== families"; $v list | grep -E '^[a-z_]+$'
echo "== generate"
$v generate --family propositional_entailment --level 3 -n 2000 --seed 7 -o "$out/pe.jsonl"
$v generate --family causal_transitivity --knob chain_length=9 -n 2000 --seed 1 -o "$out/ct.jsonl"
$v generate --family knights_knaves --level 4 -n 2000 --seed 1 -o "$out/kk.jsonl"   # uniqueness proved per puzzle
$v generate --family zebra --level 4 -n 500 --seed 1 -o "$out/zebra.jsonl"           # 4x4, no redundant clue
echo "== one task"; head -n 1 "$out/ct.jsonl" | cut -c1-400; echo " ..."
for name in pe ct kk zebra; do
  echo "== score $name: gold answers (must be 100%) and a random-guess baseline"
  $v baseline --tasks "$out/$name.jsonl" --strategy gold -o "$out/$name.gold.jsonl"
  $v score --tasks "$out/$name.jsonl" --completions "$out/$name.gold.jsonl" -o "$out/$name.gold.scores.jsonl"
  $v baseline --tasks "$out/$name.jsonl" --strategy random -o "$out/$name.random.jsonl"
  $v score --tasks "$out/$name.jsonl" --completions "$out/$name.random.jsonl"
done
echo "== train: answer-only SFT of a tiny transformer (186k parameters) on 2-person knights & knaves puzzles"
$v train --config configs/knights_demo.json --run-dir "$out/run" --overwrite   # the demo may run again (2.5-4.5 minutes)
echo "== evaluate the checkpoint on fresh puzzles with the verifier"
$v generate --family knights_knaves --level 1 --knob people=2 -n 200 --seed 99 -o "$out/kk_eval.jsonl" --no-progress
$v eval --checkpoint "$out/run/ckpt" --tasks "$out/kk_eval.jsonl"
$v curriculum show --db "$out/run/verity.sqlite" --last 3
echo "== done: files in $out/"
