#!/usr/bin/env python3
"""Scores per second for every family along each path a trainer can call Verity, in the same run:

  python exact-match  the floor: a plain-Python reward (regex for <answer>, string compare), no verifier
  verity.score        the Python module, one call per completion (the verl compute_score path)
  score_batch x1 / xN the Python module, one call per batch, GIL released, oneTBB on 1 / all threads
                      (the verl BatchRewardManager / TRL path)
  http x64            `verity serve` on loopback, batches of 64 whole task records, 2 keep-alive clients

Completions are the gold trace followed by the answer, half of them with a wrong answer, so step
checkers do their full work. C++-only figures (no Python at all) come from build/bench/verity_bench.

    PYTHONPATH=build/python python3 bench/scoring_paths.py [--n 2000] [--level 3] [--seconds 1.5]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

import verity
from verity import serve_load

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def exact_match(task: dict, completion: str) -> float:
    found = ANSWER.findall(completion)
    return float(bool(found) and found[-1].strip().lower() == task["answer"].strip().lower())


def completions_for(tasks: list[dict]) -> list[str]:
    out = []
    for i, task in enumerate(tasks):
        trace = "\n".join(step["text"] for step in task.get("trace", []))
        answer = task["answer"] if i % 2 == 0 else "not " + task["answer"]
        out.append(f"{trace}\n<answer>{answer}</answer>")
    return out


def rate(fn, items: int, seconds: float) -> float:
    """Items per second of fn() (which handles `items` items), repeated for at least `seconds`."""
    done, start = 0, time.perf_counter()
    while True:
        fn()
        done += items
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


class Server:
    def __init__(self, binary: str):
        self.process = subprocess.Popen([binary, "serve", "--port", "0", "--max-body", str(64 << 20)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline()
        if "127.0.0.1:" not in line:
            raise SystemExit(f"verity serve did not start: {line}")
        self.url = "http://127.0.0.1:" + line.split("127.0.0.1:")[1].split()[0]

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="tasks per family")
    parser.add_argument("--level", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5, help="minimum time per measurement")
    parser.add_argument("--binary", default="build/verity")
    args = parser.parse_args()

    server = Server(args.binary)
    threads = os.cpu_count() or 1
    print(f"scores/s, level {args.level}, {args.n} tasks per family, {threads} hardware threads")
    header = ("family", "python exact-match", "verity.score", "score_batch x1", f"score_batch x{threads}", "http x64")
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    try:
        for family in verity.families():
            tasks = verity.generate(family, args.n, seed=1, level=min(args.level, verity.describe(family)["max_level"]))
            texts = completions_for(tasks)
            pairs = list(zip(tasks, texts))
            floor = rate(lambda: [exact_match(t, c) for t, c in pairs], len(pairs), args.seconds)
            one_by_one = rate(lambda: [verity.score(t, c) for t, c in pairs[:500]], min(500, len(pairs)), args.seconds)
            batch1 = rate(lambda: verity.score_batch(tasks, texts, threads=1), len(tasks), args.seconds)
            batchn = rate(lambda: verity.score_batch(tasks, texts, threads=0), len(tasks), args.seconds)
            http = serve_load.measure(server.url, serve_load.score_body(tasks[:64], texts[:64]),
                                      seconds=args.seconds, max_requests=100000, clients=2)
            bad = {code: n for code, n in http["statuses"].items() if code != 200}
            if bad:
                raise SystemExit(f"{family}: HTTP errors {bad}")
            cells = [floor, one_by_one, batch1, batchn, http["requests_per_s"] * 64]
            print(f"| {family} | " + " | ".join(f"{c:,.0f}" for c in cells) + " |", flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
