"""A load test for `verity serve --curriculum`: W rollout workers, each drawing batches of tasks and
reporting one outcome per request (a request id each, retried with the same id on connection errors,
so a server killed and restarted midway still counts every report exactly once), then checks that
the server holds exactly the reports it acknowledged.

    build/verity serve --port 8080 --workers 16 --curriculum /tmp/c.sqlite --families causal_transitivity,syllogism &
    PYTHONPATH=build/python python3 -m verity.curriculum_load --url http://127.0.0.1:8080 --workers 8 --reports 10000
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
from urllib.parse import urlparse


class Worker:
    def __init__(self, url: str, name: str, reports: int, batch: int, retry_for_s: float):
        target = urlparse(url)
        self.host, self.port = target.hostname, target.port
        self.name, self.reports, self.batch, self.retry_for_s = name, reports, batch, retry_for_s
        self.latencies: list[float] = []
        self.acknowledged: list[str] = []
        self.duplicates = 0
        self.retries = 0
        self.error: str | None = None
        self.connection: http.client.HTTPConnection | None = None

    def call(self, path: str, body: dict) -> dict:
        """POSTs until answered 200 (reconnecting on errors) or retry_for_s passes."""
        data = json.dumps(body).encode()
        give_up = time.monotonic() + self.retry_for_s
        while True:
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.connection.request("POST", path, data, {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                payload = response.read()
                if response.status == 200:
                    return json.loads(payload)
                if response.status == 400:
                    raise ValueError(f"{path}: 400 {payload[:300]!r}")
                error = f"{path}: {response.status}"
            except (OSError, http.client.HTTPException) as e:
                error = f"{path}: {type(e).__name__} {e}"
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
            if time.monotonic() > give_up:
                raise RuntimeError(f"{self.name}: gave up after {self.retry_for_s} s: {error}")
            self.retries += 1
            time.sleep(0.05)

    def run(self) -> None:
        rng = random.Random(self.name)
        tasks: list[dict] = []
        try:
            for i in range(self.reports):
                if not tasks:
                    tasks = self.call("/curriculum/batch", {"n": self.batch})["tasks"]
                task = tasks.pop()
                request_id = f"{self.name}-{i}"
                body = {"request_id": request_id, "outcomes": [{"task_id": task["id"], "reward": float(rng.random() < 0.6)}]}
                start = time.perf_counter()
                reply = self.call("/curriculum/report", body)
                self.latencies.append(time.perf_counter() - start)
                self.acknowledged.append(request_id)
                self.duplicates += reply["duplicate"]
        except Exception as e:  # reported in the summary
            self.error = str(e)
        finally:
            if self.connection is not None:
                self.connection.close()


def run_load(url: str, workers: int, reports: int, batch: int = 32, retry_for_s: float = 60) -> dict:
    """Runs the workers to completion; returns counts, reports/s and latency percentiles (ms)."""
    pool = [Worker(url, f"w{w}", reports, batch, retry_for_s) for w in range(workers)]
    threads = [threading.Thread(target=w.run) for w in pool]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies = sorted(x for w in pool for x in w.latencies)

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"workers": workers, "reports_per_worker": reports, "acknowledged": sum(len(w.acknowledged) for w in pool),
            "acknowledged_ids": [r for w in pool for r in w.acknowledged],
            "duplicates": sum(w.duplicates for w in pool), "retries": sum(w.retries for w in pool),
            "errors": [w.error for w in pool if w.error], "seconds": wall,
            "reports_per_s": len(latencies) / wall if wall else 0.0,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99), "max_ms": percentile(1.0)}


def server_report_count(url: str) -> int:
    target = urlparse(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    connection.request("GET", "/curriculum")
    state = json.loads(connection.getresponse().read())
    connection.close()
    return state["reports"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--reports", type=int, default=10000, help="reports per worker")
    parser.add_argument("--batch", type=int, default=32, help="tasks per /curriculum/batch")
    args = parser.parse_args()
    before = server_report_count(args.url)
    result = run_load(args.url, args.workers, args.reports, args.batch)
    result.pop("acknowledged_ids")
    result["server_reports_added"] = server_report_count(args.url) - before
    # Every request id is acknowledged once (a retry of a committed one is answered "duplicate"), and each
    # must be on the server exactly once: lost > 0 lost reports, lost < 0 counted some twice.
    result["lost"] = result["acknowledged"] - result["server_reports_added"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
