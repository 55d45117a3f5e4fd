"""verity serve on a loopback port: endpoints, limits, 503 when full, graceful SIGTERM, and a bounded
load test (requests/s and p99 for batches of 64 are printed; see with pytest -s)."""

import http.client
import json
import signal
import socket
import subprocess
import time

import pytest

import verity
from verity import serve_load
from conftest import wrong_answer


class Server:
    def __init__(self, binary, *flags):
        self.process = subprocess.Popen([binary, "serve", "--port", "0", *flags], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline()  # "listening on http://127.0.0.1:PORT (...)"
        assert "listening on http://127.0.0.1:" in line, line
        self.port = int(line.split("127.0.0.1:")[1].split()[0])
        self.url = f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data else None

    def stop(self):
        """SIGTERM; returns (exit code, remaining output)."""
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=20)
        return self.process.returncode, output


@pytest.fixture
def server(verity_binary):
    s = Server(verity_binary, "--max-items", "100", "--max-body", "2000000")
    yield s
    if s.process.poll() is None:
        s.process.kill()
        s.process.wait()


def batch(tasks, completions):
    return json.dumps({"items": [{"task": t, "completion": c} for t, c in zip(tasks, completions)]})


def test_health_and_families(server):
    assert server.request("GET", "/health") == (200, {"status": "ok", "version": verity.__version__})
    status, families = server.request("GET", "/families")
    assert status == 200 and [f["name"] for f in families] == verity.families()


def test_score_a_batch_of_64_then_stop_gracefully(server):
    tasks = verity.generate("propositional_entailment", 32, seed=3, level=3) + \
        verity.generate("causal_transitivity", 32, seed=3, level=3)
    completions = [f"<answer>{t['answer'] if i % 4 else wrong_answer(t)}</answer>" for i, t in enumerate(tasks)]
    status, body = server.request("POST", "/score", batch(tasks, completions))
    assert status == 200
    assert [s["task_id"] for s in body["scores"]] == [t["id"] for t in tasks]
    assert [s["reward"] for s in body["scores"]] == [s["reward"] for s in verity.score_batch(tasks, completions)]
    assert sum(s["correct"] for s in body["scores"]) == 48
    code, output = server.stop()
    assert code == 0 and "stopped after 1 scoring requests" in output


def test_bad_requests_are_refused_with_a_reason(server):
    task = verity.generate("causal_transitivity", 1, seed=0)[0]
    status, body = server.request("POST", "/score", "{not json")
    assert status == 400 and "not JSON" in body["error"]
    status, body = server.request("POST", "/score", json.dumps({"items": [{"completion": "x"}]}))
    assert status == 400 and "item 0" in body["error"]
    status, body = server.request("POST", "/score", batch([task] * 101, ["x"] * 101))
    assert status == 400 and "over the limit" in body["error"]
    status, _ = server.request("POST", "/score", batch([task], ["x" * 3_000_000]))
    assert status == 413
    status, body = server.request("POST", "/score", json.dumps([{"task": task, "completion": 7}]))
    assert status == 200 and body["scores"][0]["reward"] == 0 and "not a string" in body["scores"][0]["reason"]
    assert server.request("GET", "/health")[0] == 200  # still serving


def test_process_weight_blends_like_the_module(server):
    task = verity.generate("arithmetic_graph", 1, seed=5, level=4, unanswerable=0)[0]
    lines = [step["text"] for step in task["trace"]]
    lines[0] = lines[0].rstrip(".") + "1."  # the first step's result is now wrong; the answer is not
    text = "\n".join(lines) + f"\n<answer>{task['answer']}</answer>"
    body = json.dumps({"items": [{"task": task, "completion": text}], "process_weight": 0.5})
    status, result = server.request("POST", "/score", body)
    expected = verity.score(task, text, process_weight=0.5)
    assert status == 200 and result["scores"][0]["reward"] == pytest.approx(expected["reward"])
    assert 0.5 < expected["reward"] < 1.0
    status, result = server.request("POST", "/score", json.dumps({"items": [], "process_weight": "lots"}))
    assert status == 400 and "process_weight" in result["error"]


def test_full_queue_gives_503(verity_binary):
    server = Server(verity_binary, "--workers", "1", "--queue", "1", "--keep-alive", "20")
    try:
        # A keep-alive connection holds the only worker; a second waits in the queue; a third is refused.
        holder = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        holder.request("GET", "/health")
        assert holder.getresponse().read()
        waiting = socket.create_connection(("127.0.0.1", server.port))
        time.sleep(0.2)
        status, body = server.request("GET", "/health")
        assert status == 503 and "busy" in body["error"]
        waiting.close()
        holder.close()
    finally:
        code, _ = server.stop()
    assert code == 0


def test_load_batches_of_64(server):
    tasks = verity.generate("causal_transitivity", 64, seed=1, level=3)
    body = serve_load.score_body(tasks, [f"<answer>{t['answer']}</answer>" for t in tasks])
    result = serve_load.measure(server.url, body, seconds=2.0, max_requests=2000, clients=2)
    print(f"\nverity serve, batches of 64 on loopback: {json.dumps(result)}")
    assert result["statuses"] == {200: result["requests"]} and result["requests"] > 10
