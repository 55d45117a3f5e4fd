"""A bounded load test for `verity serve`: POSTs one batch again and again from a few keep-alive
clients and reports requests/s and latency percentiles.

    build/verity generate --family causal_transitivity --level 3 -n 64 --seed 1 -o ct.jsonl
    build/verity serve --port 8080 &
    PYTHONPATH=build/python python3 -m verity.serve_load --url http://127.0.0.1:8080 --tasks ct.jsonl
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlparse


def score_body(tasks: list[dict], completions: list[str], by_id: bool = False) -> bytes:
    """A /score request: whole records, or only their ids when the server loaded the dataset (--tasks)."""
    items = [{"task_id": t["id"]} if by_id else {"task": t} for t in tasks]
    for item, completion in zip(items, completions):
        item["completion"] = completion
    return json.dumps({"items": items}).encode()


def measure(url: str, body: bytes, seconds: float = 3.0, max_requests: int = 5000, clients: int = 2) -> dict:
    """Runs until `seconds` pass or `max_requests` are sent, whichever is first."""
    target = urlparse(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    sent = [0]

    def client() -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            start = time.perf_counter()
            connection.request("POST", "/score", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "seconds": wall, "requests_per_s": len(latencies) / wall,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99), "statuses": statuses, "clients": clients}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--tasks", required=True, help="JSONL tasks; the first --batch form the request")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--by-id", action="store_true", help="send task ids (server started with --tasks)")
    args = parser.parse_args()
    with open(args.tasks) as f:
        tasks = [json.loads(line) for line, _ in zip(f, range(args.batch))]
    body = score_body(tasks, [f"<answer>{t['answer']}</answer>" for t in tasks], args.by_id)
    print(json.dumps(measure(args.url, body, args.seconds, args.max_requests, args.clients)))


if __name__ == "__main__":
    main()
