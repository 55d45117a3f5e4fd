#!/usr/bin/env python3
"""The obvious alternative, for comparison in bench/compare.sh: a plain-Python generator and scorer
for causal_transitivity chains, written the way Python task generators usually are (random names,
BFS labels, JSON lines; regex answer extraction). Same task shape and knobs as Verity's family."""
import argparse, json, random, re, string, sys, time
from collections import deque

LETTERS = string.ascii_letters
ALNUM = string.ascii_letters + string.digits


def names(rng, n, lo, hi):
    out, seen = [], set()
    while len(out) < n:
        s = rng.choice(LETTERS) + "".join(rng.choice(ALNUM) for _ in range(rng.randint(lo, hi) - 1))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def reach(adj, s):
    seen, q = set(), deque([s])
    while q:
        u = q.popleft()
        for v in adj.get(u, ()):
            if v not in seen:
                seen.add(v)
                q.append(v)
    return seen


def make_task(seed, i, n, flip):
    rng = random.Random(seed * 1_000_003 + i)
    nodes = names(rng, n, 1, 3)
    edges = [(nodes[k + 1], nodes[k]) if rng.random() < flip else (nodes[k], nodes[k + 1]) for k in range(n - 1)]
    rng.shuffle(edges)
    adj = {}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
    want_yes = rng.random() < 0.5
    while True:
        a = rng.choice(nodes)
        r = reach(adj, a)
        opts = [b for b in nodes if b != a and ((b in r) == want_yes)]
        if opts:
            b = rng.choice(opts)
            break
    prompt = "Here are some causal facts.\n" + "".join(f"{x} causes {y}.\n" for x, y in edges)
    prompt += f"Does {a} cause {b}?\nAnswer with Yes or No. Put exactly one final answer inside answer tags."
    return {"id": f"py-{seed}-{i}", "family": "causal_transitivity", "prompt": prompt,
            "answer": "Yes" if want_yes else "No", "edges": edges, "query": [a, b]}


ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)


def score(task, completion):
    found = ANSWER.findall(completion)
    return 1.0 if found and found[-1].strip().lower() == task["answer"].lower() else 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-n", type=int, default=20000)
    p.add_argument("--chain-length", type=int, default=9)
    p.add_argument("--flip", type=float, default=0.5)
    p.add_argument("-o", required=True, help="tasks file to write (completions go beside it)")
    a = p.parse_args()
    t0 = time.perf_counter()
    tasks = [make_task(1, i, a.chain_length, a.flip) for i in range(a.n)]
    with open(a.o, "w") as f:
        for t in tasks:
            f.write(json.dumps(t) + "\n")
    t1 = time.perf_counter()
    # Scoring from files, as `verity score` does: read the tasks and the completions, then score.
    completions_path = a.o + ".completions"
    with open(completions_path, "w") as f:
        for t in tasks:
            f.write(json.dumps({"id": t["id"], "completion": f"Thinking...\n<answer>{t['answer']}</answer>"}) + "\n")
    t1 = time.perf_counter()
    with open(a.o) as f:
        by_id = {t["id"]: t for t in map(json.loads, f)}
    with open(completions_path) as f:
        total = sum(score(by_id[c["id"]], c["completion"]) for c in map(json.loads, f))
    t2 = time.perf_counter()
    assert total == a.n
    print(f"python-reference generate {a.n / (t1 - t0):.0f} tasks/s  score {a.n / (t2 - t1):.0f} completions/s")


if __name__ == "__main__":
    sys.exit(main())
