"""The curriculum from Python and over HTTP: verity.Curriculum, `verity serve --curriculum` (durability
under kill -9, restart, concurrent workers, the load test), Reasoning Gym's interface, the TRL and
verl adapters (against the fakes in tests/python/fakes) and `verity export` to Parquet."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import verity
import verity.trl
from verity import curriculum_load
from verity.curriculum import RemoteCurriculum
from conftest import arrow_like

HERE = Path(__file__).resolve().parent
FAKES = HERE / "fakes"
ROOT = HERE.parent.parent
FAMILIES = {"causal_transitivity": 2, "syllogism": 1}


# ---- verity.Curriculum (in process) ----

def test_batches_reports_statistics_history_and_restart(tmp_path):
    db = tmp_path / "c.sqlite"
    with verity.Curriculum(db, families=FAMILIES, policy="window", window=8, seed=3) as cur:
        tasks = cur.next_batch(24)
        assert len({t["id"] for t in tasks}) == 24
        assert {t["family"] for t in tasks} == set(FAMILIES) and {t["level"] for t in tasks} == {1}
        # a task is exactly the index stream's task at its index
        t = tasks[0]
        assert verity.task_at(t["family"], int(t["index"]), seed=3, level=1) == t
        result = cur.report([t["id"] for t in tasks], [1.0] * 24)
        assert result["accepted"] == 24 and not result["duplicate"]
        assert {c["to_level"] for c in result["level_changes"]} == {2}
        assert cur.levels() == {"causal_transitivity": 2, "syllogism": 2}
        stats = cur.statistics()
        assert stats["policy"] == "window" and stats["reports"] == 24
        assert stats["config"]["window"] == 8
        assert "synchronous=FULL" in stats["durability"]
        level1 = [l for f in stats["families"] for l in f["levels"] if l["level"] == 1]
        assert sum(l["attempts"] for l in level1) == 24 and all(l["pass_rate"] == 1.0 for l in level1)
        # task dicts work as well as ids; request ids make retries no-ops
        cur.report(tasks[:2], [0.0, 0.5], request_id="again")
        assert cur.report(tasks[:2], [0.0, 0.5], request_id="again")["duplicate"]
        history = cur.history()
        assert [h["seq"] for h in history] == list(range(1, 27))
        assert history[-1]["request_id"] == "again" and history[-1]["reward"] == 0.5
        assert cur.history(after=25) == history[25:]
        with pytest.raises(ValueError, match="was not issued"):
            cur.report(["nope"], [1.0])
        with pytest.raises(ValueError, match="outside"):
            cur.report([tasks[0]["id"]], [2.0])
        with pytest.raises(ValueError, match="one of each"):
            cur.report([tasks[0]["id"]], [1.0, 0.0])
        with pytest.raises(RuntimeError, match="in use by another process"):
            verity.Curriculum(db)
        expected_next = None
    # continued by a new object (the same settings, or none)
    with verity.Curriculum(db, families=FAMILIES, policy="window", window=8, seed=3) as cur:
        assert cur.statistics()["reports"] == 26 and cur.levels()["syllogism"] == 2
        expected_next = cur.next_batch(4)
    with pytest.raises(ValueError, match="other policy settings"):
        verity.Curriculum(db, families=FAMILIES, policy="target")
    with pytest.raises(ValueError, match="unknown curriculum setting"):
        verity.Curriculum(tmp_path / "x.sqlite", families=FAMILIES, windw=8)
    with pytest.raises(ValueError, match="policy must be"):
        verity.Curriculum(tmp_path / "y.sqlite", families=FAMILIES, policy="rg")
    with pytest.raises(ValueError, match="holds no curriculum"):
        verity.Curriculum(tmp_path / "z.sqlite")
    assert expected_next and all(t["level"] == 2 for t in expected_next)


def test_next_batch_is_deterministic_given_seed_and_state(tmp_path):
    runs = []
    for name in ("a", "b"):
        with verity.Curriculum(tmp_path / f"{name}.sqlite", families=FAMILIES, policy="target", seed=9) as cur:
            first = cur.next_batch(16)
            cur.report(first, [1.0 if i % 3 else 0.0 for i in range(16)])
            runs.append([t["id"] for t in first + cur.next_batch(16)])
    assert runs[0] == runs[1]


def test_threads_share_one_curriculum(tmp_path):
    with verity.Curriculum(tmp_path / "c.sqlite", families=FAMILIES, policy="target") as cur:
        errors = []

        def worker(w):
            try:
                for i in range(40):
                    tasks = cur.next_batch(2)
                    cur.report(tasks, [float((w + i) % 2), 1.0], request_id=f"{w}-{i}")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        stats = cur.statistics()
        assert stats["reports"] == 6 * 40 * 2 and stats["batches"] == 6 * 40 and stats["report_requests"] == 240
        assert len({h["task_id"] for h in cur.history(limit=10000)}) == 480  # no task handed out twice


# ---- Reasoning Gym's interface ----

RG_SCRIPT = '''
import verity as reasoning_gym
data = reasoning_gym.create_dataset('syllogism', size=10, seed=42)
for i, x in enumerate(data):
    print(f'{i}: q="{x['question'][:30]}", a="{x['answer']}"')
    assert data.score_answer(answer=x['answer'], entry=x) == 1.0
    assert data.score_answer(answer=None, entry=x) == 0.0
print(len(data), data[0]['metadata']['source_dataset'], data[-1]['metadata']['source_index'])
'''


def test_a_reasoning_gym_script_runs_unchanged(tmp_path):
    # Reasoning Gym's README loop (f-string quoting as in Python >= 3.12 avoided: 3.11 here)
    script = RG_SCRIPT.replace("{x['question'][:30]}", "{x[\"question\"][:30]}").replace("{x['answer']}", "{x[\"answer\"]}")
    path = tmp_path / "rg_loop.py"
    path.write_text(script)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "10 syllogism 9"


def test_create_dataset_entries_knobs_and_scores():
    data = verity.create_dataset("causal_transitivity", size=300, seed=5, level=3)
    assert len(data) == 300 and data.seed == 5
    tasks = verity.generate("causal_transitivity", 300, seed=5, level=3)
    entries = list(data)
    assert [e["metadata"]["task"] for e in entries] == tasks  # entry i is the written dataset's task i
    assert data[-1] == entries[-1] and data[3:5] == entries[3:5]
    e = entries[7]
    assert e["question"] == tasks[7]["prompt"] and e["answer"] == tasks[7]["answer"]
    assert e["metadata"]["difficulty"]["level"] == 3 and "chain_length" in e["metadata"]["difficulty"]
    wrong = "No" if e["answer"] == "Yes" else "Yes"
    assert data.score_answer(wrong, e) == 0.0
    assert data.score_answer(f"because ...\n<answer>{e['answer']}</answer>", e) == 1.0
    assert verity.get_score_answer_fn("causal_transitivity")(e["answer"], e) == 1.0
    knobbed = verity.create_dataset("causal_transitivity", size=3, seed=1, chain_length=9)
    assert knobbed[0]["metadata"]["difficulty"]["chain_length"] == "9"
    assert verity.create_dataset("syllogism", size=2).seed is not None  # drawn, then kept (as Reasoning Gym)
    with pytest.raises(IndexError):
        data[300]
    with pytest.raises(ValueError, match="unknown dataset"):
        verity.create_dataset("leg_counting", size=3)
    with pytest.raises(verity.KnobError):
        verity.create_dataset("causal_transitivity", size=3, chain_length=-4)
    with pytest.raises(ValueError, match=r"has (only|at least) \d+ distinct questions"):  # at creation, as `verity generate`
        verity.create_dataset("knights_knaves", size=1000, seed=5, level=1, people=2, unanswerable=0)


def test_every_family_scores_its_gold_answer_given_bare_as_reasoning_gym_does():
    for family in verity.families():
        data = verity.create_dataset(family, size=4, seed=3, level=2)
        for entry in data:
            assert data.score_answer(entry["answer"], entry) == 1.0, (family, entry["answer"])
            assert data.score_answer(f"<answer>{entry['answer']}</answer>", entry) == 1.0


def test_composite_dataset():
    from types import SimpleNamespace
    data = verity.create_dataset("composite", size=200, seed=4, datasets=[
        {"name": "syllogism", "weight": 3, "config": {"level": 2}},
        SimpleNamespace(name="causal_transitivity", weight=1, config={"chain_length": 5})])
    sources = [e["metadata"]["source_dataset"] for e in data]
    assert 120 < sources.count("syllogism") < 180 and set(sources) == {"syllogism", "causal_transitivity"}
    assert [e["metadata"]["source_index"] for e in data] == list(range(200))
    assert all(data.score_answer(e["answer"], e) == 1.0 for e in data)
    again = verity.create_dataset("composite", size=200, seed=4, datasets=[
        {"name": "syllogism", "weight": 3, "config": {"level": 2}},
        {"name": "causal_transitivity", "config": {"chain_length": 5}}])
    assert [e["question"] for e in again] == [e["question"] for e in data]  # a pure function of the arguments
    with pytest.raises(ValueError, match="composite needs"):
        verity.create_dataset("composite", size=3)


# ---- TRL and verl adapters (fakes) ----

@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.syspath_prepend(str(FAKES))
    yield
    for name in list(sys.modules):
        if name.split(".")[0] in ("trl", "verl", "pyarrow", "custom_module"):
            del sys.modules[name]


def test_trl_grpo_trainer_draws_from_and_reports_to_the_curriculum(tmp_path, fakes):
    from trl import GRPOConfig, GRPOTrainer
    with verity.Curriculum(tmp_path / "c.sqlite", families=FAMILIES, policy="window", window=16) as cur:
        for chat in (False, True):
            trainer = GRPOTrainer(model="any", reward_funcs=verity.trl.make_reward(cur),
                                  args=GRPOConfig(max_steps=6, num_generations=4, per_device_train_batch_size=16),
                                  train_dataset=verity.trl.CurriculumDataset(cur, batch=8, chat=chat))
            log = trainer.train()
            assert len(log) == 6 and all(0 <= step[0] <= 1 for step in log)
        stats = cur.statistics()
        assert stats["reports"] == 2 * 6 * 16  # every completion's reward reported
        assert sum(l["attempts"] for f in stats["families"] for l in f["levels"]) == 192
        # exported rows (the record's fields as columns) are scored and reported too
        tasks = cur.next_batch(4)
        reward = verity.make_trl_reward(curriculum=cur)  # the same as verity.trl.make_reward(cur)
        rows = arrow_like(tasks)  # as a datasets column table: every key on every row, None where absent
        columns = {k: [r[k] for r in rows] for k in rows[0] if k != "prompt"}
        rewards = reward(prompts=[t["prompt"] for t in tasks],
                         completions=[[{"role": "assistant", "content": f"<answer>{t['answer']}</answer>"}] for t in tasks],
                         completion_ids=[[1]] * 4, **columns)
        assert rewards == [1.0] * 4 and cur.statistics()["reports"] == 196
    rows = list(verity.trl.CurriculumDataset(_StubCurriculum(), batch=3, max_rows=5))
    assert len(rows) == 5 and set(rows[0]) == {"prompt", "task"}


class _StubCurriculum:
    def next_batch(self, n):
        return verity.generate("syllogism", n, seed=1, level=1)


class Server:
    def __init__(self, binary, db, *flags, port=0):
        self.args = [binary, "serve", "--port", str(port), "--workers", "16", "--curriculum", str(db), *flags]
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline()
        assert "listening on http://" in line, line + self.process.stdout.read()
        self.curriculum_line = self.process.stdout.readline()
        self.port = int(line.split("http://")[1].split()[0].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def test_verl_custom_dataset_and_reward_report_to_a_served_curriculum(tmp_path, fakes, verity_binary):
    from verl.trainer.main_ppo import Config, create_rl_dataset, get_custom_reward_fn, naive_reward
    server = Server(verity_binary, tmp_path / "c.sqlite", "--families", "causal_transitivity,syllogism")
    try:
        my_file = ROOT / "examples" / "verl" / "my_verity.py"
        # file mode: Verity tasks and exported verl rows
        tasks_path = tmp_path / "tasks.jsonl"
        tasks = verity.generate("syllogism", 5, seed=2, level=2)
        tasks_path.write_text("".join(json.dumps(t) + "\n" for t in tasks))
        data = Config({"prompt_key": "prompt", "custom_cls": {"path": str(my_file), "name": "VerityDataset"}})
        dataset = create_rl_dataset([str(tasks_path)], data, tokenizer=lambda text: [len(text)], processor=None)
        assert len(dataset) == 5 and dataset[0]["raw_prompt"][0]["content"] == tasks[0]["prompt"]
        assert dataset[0]["extra_info"]["id"] == tasks[0]["id"]
        assert len(create_rl_dataset([str(tasks_path)], data, tokenizer=len, processor=None, max_samples=3)) == 3
        # curriculum mode + the reporting reward function, called as verl's naive reward manager does
        data = Config({"prompt_key": "prompt", "verity_curriculum": server.url, "verity_size": 50,
                       "custom_cls": {"path": str(my_file), "name": "VerityDataset"}})
        dataset = create_rl_dataset(["unused.parquet"], data, tokenizer=lambda text: [len(text)], processor=None)
        assert len(dataset) == 50
        items = [dataset[0] for _ in range(10)]  # every item is the next task, whatever the index
        assert len({i["extra_info"]["id"] for i in items}) == 10
        config = Config({"custom_reward_function": {"path": str(my_file), "name": "compute_score",
                                                    "reward_kwargs": {"curriculum_url": server.url}}})
        results = naive_reward(get_custom_reward_fn(config), items,
                               [f"<answer>{i['reward_model']['ground_truth']}</answer>" for i in items])
        assert [r["score"] for r in results] == [1.0] * 10
        batch_fn = get_custom_reward_fn(Config({"custom_reward_function": {
            "path": str(my_file), "name": "compute_score_batch", "reward_kwargs": {"curriculum_url": server.url}}}))
        scores = batch_fn(data_sources=[i["data_source"] for i in items], solution_strs=["<answer>?</answer>"] * 10,
                          ground_truths=[i["reward_model"]["ground_truth"] for i in items],
                          extra_infos=[i["extra_info"] for i in items])
        assert [s["score"] for s in scores] == [0.0] * 10
        state = RemoteCurriculum(server.url).statistics()
        assert state["reports"] == 20 and state["batches"] == 1
    finally:
        server.kill()


# ---- the server: durability, restart, load ----

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kill_9_loses_no_acknowledged_report_and_a_restart_continues(tmp_path, verity_binary):
    db = tmp_path / "c.sqlite"
    port = free_port()
    server = Server(verity_binary, db, "--families", "causal_transitivity,syllogism", "--policy", "window",
                    port=port)
    result = {}
    load = threading.Thread(target=lambda: result.update(
        curriculum_load.run_load(server.url, workers=4, reports=1000, batch=16, retry_for_s=60)))
    load.start()
    try:
        # kill once the workers are well under way (a fixed sleep let a fast machine finish first)
        deadline = time.time() + 60
        while RemoteCurriculum(server.url).statistics()["reports"] < 300 and time.time() < deadline:
            time.sleep(0.005)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        time.sleep(0.3)
        server = Server(verity_binary, db, port=port)  # no settings: continues what the file holds
        assert "outcomes reported so far" in server.curriculum_line
        load.join(timeout=180)
        assert not load.is_alive() and not result["errors"], result["errors"]
        assert result["retries"] > 0, "the kill did not interrupt the workers: the test proved nothing"
        history = RemoteCurriculum(server.url).history(limit=100000)
        ids = [h["request_id"] for h in history]
        assert len(ids) == len(set(ids)), "a report was counted twice"
        assert set(ids) == set(result["acknowledged_ids"]) and len(ids) == 4000
        assert [h["seq"] for h in history] == list(range(1, 4001))
        state = RemoteCurriculum(server.url).statistics()
        assert state["reports"] == 4000
        assert sum(l["attempts"] for f in state["families"] for l in f["levels"]) == 4000
    finally:
        server.kill()


def test_http_errors_and_load_8_workers(tmp_path, verity_binary):
    server = Server(verity_binary, tmp_path / "c.sqlite", "--families", "causal_transitivity,syllogism")
    try:
        remote = RemoteCurriculum(server.url, retries=0)
        with pytest.raises(ValueError, match="400.*not issued"):
            remote.report(["nope"], [1.0])
        with pytest.raises(ValueError, match="400.*outside"):
            remote.report([remote.next_batch(1)[0]["id"]], [7.0])
        with pytest.raises(ValueError, match="400"):
            remote._call("POST", "/curriculum/batch", {"n": "eight"})
        # the parallel-list form of a report
        task = remote.next_batch(1)[0]
        assert remote._call("POST", "/curriculum/report", {"task_ids": [task["id"]], "rewards": [1.0]})["accepted"] == 1
        assert remote.history()[-1]["task_id"] == task["id"]
        with pytest.raises(ValueError, match="400.*at least one"):
            remote._call("POST", "/curriculum/report", {"task_ids": [], "rewards": []})
        before = remote.statistics()["reports"]
        reports = int(os.environ.get("VERITY_CURRICULUM_LOAD_REPORTS", "500"))
        result = curriculum_load.run_load(server.url, workers=8, reports=reports, batch=32)
        assert not result["errors"], result["errors"]
        state = remote.statistics()
        assert state["reports"] - before == 8 * reports == result["acknowledged"]
        print(f"\ncurriculum load: 8 workers x {reports} reports: {result['reports_per_s']:.0f} reports/s, "
              f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms")
    finally:
        server.kill()
    # a server with a token: the curriculum endpoints need it too
    secured = Server(verity_binary, tmp_path / "s.sqlite", "--families", "syllogism", "--token", "s3cret")
    try:
        with pytest.raises(ValueError, match="401"):
            RemoteCurriculum(secured.url, retries=0).next_batch(1)
        assert len(RemoteCurriculum(secured.url, token="s3cret").next_batch(2)) == 2
    finally:
        secured.kill()
    bad = subprocess.run([verity_binary, "serve", "--port", "0", "--families", "syllogism"], capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 2 and "need --curriculum" in bad.stderr


# ---- verity export to Parquet ----

def test_export_parquet_needs_pyarrow_and_never_writes_jsonl_under_that_name(tmp_path, verity_binary):
    tasks = tmp_path / "t.jsonl"
    subprocess.run([verity_binary, "generate", "--family", "syllogism", "-n", "6", "--seed", "1", "-o", str(tasks)],
                   check=True, capture_output=True)
    out = tmp_path / "t.parquet"
    env = dict(os.environ, PYTHONPATH="")  # Debian's python3 has no pyarrow
    if subprocess.run(["python3", "-c", "import pyarrow"], env=env, capture_output=True).returncode != 0:
        refused = subprocess.run([verity_binary, "export", "--for", "verl", "--tasks", str(tasks), "-o", str(out)],
                                 capture_output=True, text=True, env=env)
        assert refused.returncode == 2 and "pyarrow is not importable" in refused.stderr and ".jsonl" in refused.stderr
        assert not out.exists() and not list(tmp_path.glob("t.parquet*"))
    # with pyarrow importable (here the fake, which records the rows it was given)
    env = dict(os.environ, PYTHONPATH=str(FAKES))
    done = subprocess.run([verity_binary, "export", "--for", "verl", "--tasks", str(tasks), "-o", str(out)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    rows = json.loads(data[4:-4])
    assert len(rows) == 6 and rows[0]["data_source"] == "verity/syllogism" and rows[0]["extra_info"]["family"] == "syllogism"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl", "t.jsonl.manifest.json", "t.parquet"]


# ---- examples ----

@pytest.mark.parametrize("example", ["reasoning_gym_loop.py", "trl_grpo.py", "verl/verl_custom_dataset.py"])
def test_examples_run_against_the_fakes(example, verity_binary):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(FAKES), os.environ.get("PYTHONPATH", "")]),
               VERITY_BINARY=verity_binary)
    result = subprocess.run([sys.executable, str(ROOT / "examples" / example)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
