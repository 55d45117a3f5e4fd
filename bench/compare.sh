#!/usr/bin/env bash
# Throughput of Verity against the obvious alternative (a plain-Python generator and scorer, as the
# Python toolkits are written), on the same task shape, in the same run. Whole-command wall time,
# so Verity's figures include process start, JSON writing and reading.
set -euo pipefail
cd "$(dirname "$0")/.."
v=./build/verity
n="${1:-50000}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):.0f}')"; }

echo "causal_transitivity, chain_length=9, flip_prob=0.5, shuffled; n=$n"
for threads in 1 2; do
  t0=$(now)
  $v generate -f causal_transitivity -k chain_length=9 -k flip_prob=0.5 -k order=shuffled -n "$n" --seed 1 \
    -o "$tmp/ct.jsonl" -j "$threads" --no-progress >/dev/null
  t1=$(now)
  $v baseline --tasks "$tmp/ct.jsonl" --strategy gold -o "$tmp/gold.jsonl" >/dev/null
  t2=$(now)
  $v score --tasks "$tmp/ct.jsonl" --completions "$tmp/gold.jsonl" -j "$threads" >/dev/null
  t3=$(now)
  echo "verity (${threads} thread(s)) generate $(rate "$n" "$t0" "$t1") tasks/s  score $(rate "$n" "$t2" "$t3") completions/s (incl. file I/O)"
done
python3 bench/python_reference.py -n "$n" -o "$tmp/py.jsonl"

echo "propositional_entailment level 5 (Z3-labelled); n=$((n / 10))"
for threads in 1 2; do
  t0=$(now)
  $v generate -f propositional_entailment -l 5 -n "$((n / 10))" --seed 1 -o "$tmp/pe.jsonl" -j "$threads" --no-progress >/dev/null
  t1=$(now)
  echo "verity (${threads} thread(s)) generate $(rate "$((n / 10))" "$t0" "$t1") tasks/s"
done
