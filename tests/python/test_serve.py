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
    def __init__(self, binary, *flags, env=None):
        self.process = subprocess.Popen([binary, "serve", "--port", "0", *flags], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=env)
        line = self.process.stdout.readline()  # "listening on http://HOST:PORT (...)"
        assert "listening on http://" in line, line
        self.line = line
        self.port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body, headers or {})
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


def test_unscorable_items_get_an_error_in_place_and_the_rest_are_scored(tmp_path, verity_binary):
    tasks = verity.generate("causal_transitivity", 3, seed=4, level=2)
    file = tmp_path / "tasks.jsonl"
    file.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    server = Server(verity_binary, "--tasks", str(file))
    try:
        zebra = verity.generate("zebra", 1, seed=1, level=1)[0]
        items = [{"task_id": tasks[0]["id"], "completion": f"<answer>{tasks[0]['answer']}</answer>"},
                 {"task_id": "causal_transitivity-nosuch", "completion": "<answer>Yes</answer>"},
                 {"task": {"family": "no_such_family", "answer": "Yes"}, "completion": "<answer>Yes</answer>"},
                 {"task": {"family": "zebra", "answer": zebra["answer"]}, "completion": "x"},
                 {"task": tasks[1], "completion": f"<answer>{tasks[1]['answer']}</answer>"}]
        status, body = server.request("POST", "/score", json.dumps({"items": items}))
        assert status == 200, body
        scores = body["scores"]
        assert body["errors"] == 3 and len(scores) == 5
        assert scores[0]["reward"] == 1.0 and scores[4]["reward"] == 1.0
        assert "reward" not in scores[1] and "item 1: task_id 'causal_transitivity-nosuch' is not in the dataset" \
            in scores[1]["error"] and scores[1]["task_id"] == "causal_transitivity-nosuch"
        assert "unknown family 'no_such_family'" in scores[2]["error"] and "reward" not in scores[2]
        assert "no formal instance" in scores[3]["error"]
        # Still a malformed request: 400.
        status, body = server.request("POST", "/score", json.dumps({"items": [{"completion": "x"}]}))
        assert status == 400 and "item 0" in body["error"]
    finally:
        code, output = server.stop()
    assert code == 0 and "stopped after 1 scoring requests" in output


def test_sigterm_with_a_loaded_dataset_stops_gracefully(tmp_path, verity_binary):
    # Loading --tasks starts oneTBB's threads: they must not take SIGTERM (it used to kill the server).
    tasks = verity.generate("propositional_entailment", 200, seed=4, level=3)
    file = tmp_path / "tasks.jsonl"
    file.write_text("".join(json.dumps(t) + "\n" for t in tasks))
    for _ in range(3):
        server = Server(verity_binary, "--tasks", str(file))
        body = json.dumps({"items": [{"task_id": t["id"], "completion": "<answer>entailed</answer>"} for t in tasks]})
        assert server.request("POST", "/score", body)[0] == 200
        code, output = server.stop()
        assert code == 0 and "stopped after 1 scoring requests" in output, output


def test_sigterm_finishes_a_request_in_flight(verity_binary):
    # The request's body is half sent when SIGTERM arrives; the rest follows and is still answered.
    server = Server(verity_binary)
    tasks = verity.generate("causal_transitivity", 20, seed=2, level=3)
    body = batch(tasks, [f"<answer>{t['answer']}</answer>" for t in tasks]).encode()
    head = (f"POST /score HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    connection.sendall(head + body[:100])
    time.sleep(0.3)  # a worker has the connection and waits for the rest of the body
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    connection.sendall(body[100:])
    response = b""
    while chunk := connection.recv(65536):
        response += chunk
    connection.close()
    output, _ = server.process.communicate(timeout=20)
    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    scores = json.loads(response.split(b"\r\n\r\n", 1)[1])["scores"]
    assert [s["reward"] for s in scores] == [1.0] * 20
    assert server.process.returncode == 0 and "stopped after 1 scoring requests" in output, output


def test_a_non_loopback_host_needs_a_token(verity_binary):
    refused = subprocess.run([verity_binary, "serve", "--host", "0.0.0.0", "--port", "0"], capture_output=True,
                             text=True, timeout=30)
    assert refused.returncode == 2 and "--token" in refused.stderr
    server = Server(verity_binary, "--host", "0.0.0.0", "--token", "s3cret")
    try:
        assert "bearer token required" in server.line
        task = verity.generate("causal_transitivity", 1, seed=0)[0]
        body = batch([task], [f"<answer>{task['answer']}</answer>"])
        assert server.request("GET", "/health")[0] == 200  # liveness probes need no token
        status, answer = server.request("POST", "/score", body)
        assert status == 401 and "Authorization: Bearer" in answer["error"]
        assert server.request("GET", "/families")[0] == 401
        assert server.request("POST", "/score", body, {"Authorization": "Bearer wrong"})[0] == 401
        assert server.request("POST", "/score", body, {"Authorization": "Bearer s3cret"})[0] == 200
    finally:
        code, _ = server.stop()
    assert code == 0
    # The token may come from the environment instead of the command line (ps shows arguments).
    import os
    server = Server(verity_binary, "--host", "0.0.0.0", env={**os.environ, "VERITY_SERVE_TOKEN": "envtoken"})
    try:
        assert server.request("GET", "/families", None, {"Authorization": "Bearer envtoken"})[0] == 200
        assert server.request("GET", "/families")[0] == 401
    finally:
        server.stop()


def test_a_request_that_outlasts_stop_timeout_is_dropped_with_exit_3(verity_binary):
    # A client that never finishes its body holds a worker (up to the 10 s read timeout): after SIGTERM,
    # --stop-timeout bounds the wait, and the exit status says requests were dropped.
    server = Server(verity_binary, "--stop-timeout", "1")
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    connection.sendall(b"POST /score HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"items\"")
    time.sleep(0.3)
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    output, _ = server.process.communicate(timeout=20)
    connection.close()
    assert server.process.returncode == 3, output
    assert time.monotonic() - started < 5 and "dropped" in output
