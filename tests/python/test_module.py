"""The Python API over libverity: generate, score, score_batch."""

import re
import json
import subprocess
import threading
import time

import pytest

import verity
from conftest import mixed_tasks, read_jsonl, run_cli, wrong_answer


def test_families_and_describe():
    names = verity.families()
    assert "propositional_entailment" in names and "causal_transitivity" in names
    info = verity.describe("causal_transitivity")
    assert info["name"] == "causal_transitivity"
    assert any(k["name"] == "chain_length" for k in info["knobs"])
    assert sorted(info["levels"]) == list(range(1, info["max_level"] + 1))
    with pytest.raises(ValueError, match="known families"):
        verity.describe("no_such_family")


def test_generate_returns_self_contained_records():
    tasks = verity.generate("propositional_entailment", 5, seed=7, level=3)
    assert len(tasks) == 5
    for t in tasks:
        assert t["family"] == "propositional_entailment" and t["level"] == 3
        assert isinstance(t["index"], str)  # protobuf's JSON mapping writes 64-bit integers as strings
        assert verity.task_at("propositional_entailment", int(t["index"]), seed=7, level=3) == t
        assert t["prompt"] and t["answer"] and t["knobs"] and "propositional" in t
    assert len({t["id"] for t in tasks}) == 5


def test_generate_is_deterministic_and_starts_anywhere():
    one = verity.generate("causal_transitivity", 40, seed=1, threads=1, chain_length=9)
    two = verity.generate("causal_transitivity", 40, seed=1, threads=2, chain_length=9)
    assert one == two
    assert verity.generate("causal_transitivity", 10, seed=1, start=30, chain_length=9) == one[30:]
    assert verity.generate("causal_transitivity", 0, seed=1, start=40, chain_length=9) == []


def cli_dataset(binary, tmp_path, family, n, seed, level, knobs) -> list[dict]:
    out = tmp_path / f"{family}.jsonl"
    args = ["generate", "--family", family, "-n", str(n), "--seed", str(seed), "--level", str(level), "-o", str(out)]
    for name, value in knobs.items():
        args += ["--knob", f"{name}={value}"]
    run_cli(binary, *args)
    return read_jsonl(out)


# (family, level, n, knobs): repeats skipped at the end of propositional_entailment level 1 (its whole
# enumerated space: 12,114 questions with balanced labels), a label share of its own (unanswerable) in
# knights_knaves, the closed world of fol_deduction, a free-form label in zebra.
CLI_CASES = [("propositional_entailment", 1, 12114, {}), ("knights_knaves", 1, 1500, {}),
             ("fol_deduction", 2, 400, {"world": "closed"}), ("zebra", 2, 200, {})]


@pytest.mark.parametrize("family,level,n,knobs", CLI_CASES)
def test_generate_returns_exactly_what_the_cli_writes(tmp_path, verity_binary, family, level, n, knobs):
    cli = cli_dataset(verity_binary, tmp_path, family, n, 5, level, knobs)
    tasks = verity.generate(family, n, seed=5, level=level, threads=2, **knobs)
    assert len(cli) == n and tasks == cli  # the same tasks (ids, indexes, every field) in the same order
    assert verity.generate(family, 50, seed=5, level=level, start=n - 50, **knobs) == cli[-50:]
    indexes = [int(t["index"]) for t in tasks]
    assert indexes == sorted(set(indexes))  # candidates kept in stream order, none twice
    for i in (0, n // 2, n - 1):
        assert verity.task_at(family, indexes[i], seed=5, level=level, **knobs) == tasks[i]
    if family == "propositional_entailment":  # the raw stream holds repeats here: some candidates were skipped
        assert indexes[-1] >= n


def test_generate_raises_the_cli_error_when_the_questions_run_out(tmp_path, verity_binary):
    """276 two-person puzzles of one statement each exist: 1000 cannot be distinct."""
    knobs = {"people": 2, "unanswerable": 0}
    args = ["generate", "--family", "knights_knaves", "--level", "1", "-n", "1000", "--seed", "5",
            "-o", str(tmp_path / "kk.jsonl"), "--knob", "people=2", "--knob", "unanswerable=0"]
    result = subprocess.run([verity_binary, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and result.stderr.startswith("error: ")
    with pytest.raises(ValueError) as raised:
        verity.generate("knights_knaves", 1000, seed=5, level=1, **knobs)
    assert str(raised.value) == result.stderr[len("error: "):].strip()
    assert re.search(r"has (only|at least) \d+ distinct", str(raised.value)) and "lower -n to at most" in str(raised.value)
    # start + n counts: the tasks before `start` must exist too
    with pytest.raises(ValueError, match=r"has (only|at least) \d+ distinct"):
        verity.generate("knights_knaves", 10, seed=5, level=1, start=990, **knobs)
    assert len(verity.generate("knights_knaves", 200, seed=5, level=1, **knobs)) == 200


def test_generate_rejects_bad_knobs():
    with pytest.raises(verity.KnobError):
        verity.generate("causal_transitivity", 1, seed=0, chain_length=-5)
    with pytest.raises(ValueError):
        verity.generate("causal_transitivity", 1, seed=0, no_such_knob=1)
    with pytest.raises(ValueError):
        verity.generate("causal_transitivity", 1, seed=0, level=99)


def test_gold_scores_one_and_wrong_label_scores_zero():
    for task in mixed_tasks(10):
        gold = verity.score(task, f"Let me think.\n<answer>{task['answer']}</answer>")
        assert gold["reward"] == 1.0 and gold["correct"] and gold["format_ok"], gold
        assert gold["task_id"] == task["id"] and gold["family"] == task["family"]
        wrong = verity.score(task, f"<answer>{wrong_answer(task)}</answer>")
        assert wrong["reward"] == 0.0 and not wrong["correct"], wrong


def test_score_accepts_json_text_and_chat_messages():
    task = verity.generate("causal_transitivity", 1, seed=5, level=2)[0]
    text = f"<answer>{task['answer']}</answer>"
    assert verity.score(json.dumps(task), text)["reward"] == 1.0
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": text}]
    assert verity.score(task, chat)["reward"] == 1.0
    assert verity.score(task, text.encode())["reward"] == 1.0


def test_score_batch_equals_score_one_by_one():
    tasks = mixed_tasks(15)
    completions = [f"<answer>{t['answer'] if i % 3 else wrong_answer(t)}</answer>" for i, t in enumerate(tasks)]
    batch = verity.score_batch(tasks, completions, threads=2)
    assert batch == [verity.score(t, c) for t, c in zip(tasks, completions)]
    assert sum(s["correct"] for s in batch) == sum(1 for i in range(len(tasks)) if i % 3)


def test_bad_task_records_raise_value_error():
    with pytest.raises(ValueError):
        verity.score({"answer": "Yes"}, "<answer>Yes</answer>")  # no family
    with pytest.raises(ValueError):
        verity.score("{not json", "<answer>Yes</answer>")
    with pytest.raises(ValueError, match="task 1"):
        verity.score_batch([{"family": "causal_transitivity", "answer": "Yes"}, {"level": 2}], ["a", "b"])
    with pytest.raises(ValueError, match="2 tasks but 1 completions"):
        verity.score_batch(verity.generate("causal_transitivity", 2, seed=0), ["x"])


def test_records_that_cannot_be_scored_raise_with_the_reason():
    # No silent zeros: a record of an unknown family, without its gold answer, or without the formal
    # instance its family is scored from is a pipeline error, not a wrong model answer.
    with pytest.raises(ValueError, match="unknown family 'no_such_family'"):
        verity.score({"family": "no_such_family", "answer": "Yes"}, "<answer>Yes</answer>")
    with pytest.raises(ValueError, match="no 'answer'"):
        verity.score({"family": "causal_transitivity"}, "<answer>Yes</answer>")
    for family in ("zebra", "knights_knaves", "long_horizon_sum", "arithmetic_graph", "fol_deduction"):
        task = verity.generate(family, 1, seed=1, level=1)[0]
        with pytest.raises(ValueError, match="no formal instance"):
            verity.score({"family": family, "answer": task["answer"]}, f"<answer>{task['answer']}</answer>")
        with pytest.raises(ValueError, match="task 1: .*no formal instance"):
            verity.score_batch([task, {"family": family, "answer": task["answer"]}], ["x", "y"])
    # A label family is scored from its answer alone.
    assert verity.score({"family": "causal_transitivity", "answer": "Yes"}, "<answer>Yes</answer>")["reward"] == 1.0


def test_score_batch_releases_the_gil():
    # While one thread is inside score_batch, another Python thread keeps running. With the GIL held
    # it could run for at most one switch interval (5 ms), i.e. a handful of 1 ms sleeps. The batch
    # grows until scoring it takes long enough to tell (scoring got faster than a fixed size allowed).
    for n in (1500, 6000, 24000):
        tasks = [json.dumps(t) for t in verity.generate("causal_transitivity", n, seed=99173, chain_length=40)]
        window = {}

        def scorer():
            window["start"] = time.perf_counter()
            verity._verity.score_batch_json(tasks, [b"<answer>No</answer>"] * len(tasks), 1)
            window["end"] = time.perf_counter()

        thread = threading.Thread(target=scorer)
        stamps = []
        thread.start()
        while thread.is_alive():
            stamps.append(time.perf_counter())
            time.sleep(0.001)
        thread.join()
        if window["end"] - window["start"] > 0.2:
            break
    inside = [t for t in stamps if window["start"] + 0.01 < t < window["end"]]
    assert window["end"] - window["start"] > 0.1, "batch too small to tell"
    assert len(inside) >= 20, (len(inside), window["end"] - window["start"])


def test_score_batch_with_one_task_object_per_group():
    """GRPO passes the same task object once per sampled completion; each is still scored on its own."""
    tasks = verity.generate("knights_knaves", 3, seed=4, level=3)
    group = [t for t in tasks for _ in range(4)]
    completions = [f"<answer>{t['answer']}</answer>" if i % 2 else "<answer>nobody</answer>" for i, t in enumerate(group)]
    batch = verity.score_batch(group, completions)
    assert batch == [verity.score(t, c) for t, c in zip(group, completions)]
    assert [s["task_id"] for s in batch] == [t["id"] for t in group]
    assert [s["correct"] for s in batch] == [bool(i % 2) for i in range(len(group))]


def test_generate_refuses_bad_numbers_with_the_reason():
    for kwargs, message in [(dict(n=-1, seed=0), "non-negative"), (dict(n=5, seed=-1), "non-negative"),
                            (dict(n=10**12, seed=0), "streams"), (dict(n=5, seed=2**64), "below 2"),
                            (dict(n=5, seed=0, threads=-3), "threads"), (dict(n=5, seed=0, level=11), "out of range")]:
        with pytest.raises(ValueError, match=message):
            verity.generate("causal_transitivity", **kwargs)
    for index, seed in [(-1, 0), (0, -1), (2**64, 0)]:
        with pytest.raises(ValueError, match="index and seed"):
            verity.task_at("causal_transitivity", index, seed=seed)
    with pytest.raises(verity.KnobError):
        verity.task_at("causal_transitivity", 0, seed=0, chain_length=-5)
