"""Untrusted completions: whatever a model writes gives a score with a reason, never an exception."""

import os
import random

import pytest

import verity
from conftest import mixed_tasks


def hostile_completions(answer: str) -> dict:
    """Completions that must all score zero even though most of them contain the gold answer."""
    tag = f"<answer>{answer}</answer>"
    rng = random.Random(0)
    return {
        "huge text": "x" * 10_000_000 + tag,
        "huge bytes": b"y" * (1 << 20) + tag.encode(),
        "just over the limit": "z" * verity.MAX_COMPLETION_BYTES + tag,
        "multi-byte text over the limit": "é" * (verity.MAX_COMPLETION_BYTES // 2) + tag,
        "random bytes": bytes(rng.getrandbits(8) for _ in range(4096)),
        "NUL bytes": "\x00" * 64 + tag,
        "invalid UTF-8 after the answer": tag.encode() + b"\xff\xfe",
        "overlong UTF-8 encoding": tag.encode() + b"\xc0\xaf",
        "lone surrogate": tag + "\udc80",
        "nested tags": f"<answer><answer>{answer}</answer></answer>",
        "tag soup": "<answer>" * 5000,
        "unbalanced boxed": "\\boxed{" * 5000,
        "Z3 command injection": "<answer>(declare-const x Int) (assert (> x 0)) (check-sat)</answer>",
        "formula injection": "<answer>A -> (B & ~C) | ((((((</answer>",
        "empty": "",
        "None": None,
        "a number": 42,
        "a dict without content": {"role": "assistant"},
        "an empty chat": [],
        "a chat with only the prompt": [{"role": "user", "content": tag}],
    }


TASKS = mixed_tasks(2, seed=11)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"{t['family']}-L{t['level']}")
def test_hostile_completions_score_zero_with_a_reason(task):
    for name, completion in hostile_completions(task["answer"]).items():
        s = verity.score(task, completion)
        assert s["reward"] == 0.0 and not s["correct"], (name, s)
        assert s["reason"], name
        assert s["task_id"] == task["id"], name


def test_batch_and_reward_functions_survive_hostile_completions():
    task = TASKS[0]
    completions = list(hostile_completions(task["answer"]).values())
    completions.append(f"<answer>{task['answer']}</answer>")  # one good completion among them
    batch = verity.score_batch([task] * len(completions), completions)
    assert [s["reward"] for s in batch] == [0.0] * (len(completions) - 1) + [1.0]
    rewards = verity.trl_reward(prompts=[task["prompt"]] * len(completions), completions=completions,
                                **{k: [v] * len(completions) for k, v in task.items() if k != "prompt"})
    assert rewards == [s["reward"] for s in batch]
    for completion in completions:
        result = verity.compute_score("verity/" + task["family"], completion, task["answer"], extra_info=task)
        assert 0.0 <= result["score"] <= 1.0


def test_answers_that_disagree_score_zero():
    task = verity.generate("causal_transitivity", 1, seed=4, level=2)[0]
    other = "No" if task["answer"] == "Yes" else "Yes"
    for text in (f"<answer>{other}</answer> wait, <answer>{task['answer']}</answer>",
                 f"<answer>{task['answer']}</answer> no: <answer>{other}</answer>"):
        s = verity.score(task, text)
        assert s["reward"] == 0.0 and s["reason"].startswith("conflicting answers")
    assert verity.score(task, f"<answer>{task['answer']}</answer> so: <answer>{task['answer']}</answer>")["reward"] == 1.0


def test_random_text_never_raises():
    rng = random.Random(1)
    alphabet = ["<answer>", "</answer>", "\\boxed{", "}", "Answer:", "\n", "Yes", "entailed", " ", "é", "\x00", "{"]
    tasks = TASKS * 10
    completions = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(200))) for _ in tasks]
    for s in verity.score_batch(tasks, completions):
        assert 0.0 <= s["reward"] <= 1.0 and s["reason"]
