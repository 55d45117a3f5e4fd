"""verity export --for trl and verity.trl_reward, called the way TRL's GRPOTrainer calls reward functions."""

import json

import pytest

import verity
from conftest import arrow_like, mixed_tasks, read_jsonl, run_cli, wrong_answer

NUM_GENERATIONS = 4


def export_trl(tmp_path, binary, *flags):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in mixed_tasks(5)))
    out = tmp_path / "trl.jsonl"
    run_cli(binary, "export", "--for", "trl", *flags, "--tasks", str(tasks), "-o", str(out))
    return read_jsonl(out)


def grpo_rewards(rows, completion_for):
    """GRPOTrainer over a datasets.Dataset loaded from the JSONL: rows carry every column (None where a
    row lacks it); each prompt is repeated NUM_GENERATIONS times; every column except prompt /
    completion is passed by name, plus completion_ids and trainer_state."""
    rows = arrow_like(rows)
    assert any(row.get("propositional") is None for row in rows)  # mixed families: None-filled columns
    inputs = [row for row in rows for _ in range(NUM_GENERATIONS)]
    prompts = [x["prompt"] for x in inputs]
    completions = [completion_for(x, g % NUM_GENERATIONS) for g, x in enumerate(inputs)]
    keys = [k for k in inputs[0] if k not in ("prompt", "completion", "completion_ids")]
    columns = {k: [x[k] for x in inputs] for k in keys}
    return verity.trl_reward(prompts=prompts, completions=completions,
                             completion_ids=[[1, 2, 3]] * len(inputs), trainer_state=None, **columns)


def half_right(task, generation):
    return f"<answer>{task['answer'] if generation % 2 == 0 else wrong_answer(task)}</answer>"


def test_standard_format(tmp_path, verity_binary):
    rows = export_trl(tmp_path, verity_binary)
    assert isinstance(rows[0]["prompt"], str) and rows[0]["family"] and rows[0]["answer"]
    rewards = grpo_rewards(rows, half_right)
    assert rewards == [1.0, 0.0] * (len(rows) * NUM_GENERATIONS // 2)
    assert all(isinstance(r, float) for r in rewards)


def test_conversational_format(tmp_path, verity_binary):
    rows = export_trl(tmp_path, verity_binary, "--chat")
    assert rows[0]["prompt"][0]["role"] == "user"
    rewards = grpo_rewards(rows, lambda t, g: [{"role": "assistant", "content": half_right(t, g)}])
    assert rewards == [1.0, 0.0] * (len(rows) * NUM_GENERATIONS // 2)


def test_a_task_column_of_json_text():
    tasks = verity.generate("causal_transitivity", 3, seed=2, level=2)
    rewards = verity.trl_reward(prompts=[t["prompt"] for t in tasks],
                                completions=[f"<answer>{t['answer']}</answer>" for t in tasks],
                                task=[json.dumps(t) for t in tasks])
    assert rewards == [1.0, 1.0, 1.0]


def test_columns_without_a_family_raise():
    with pytest.raises(ValueError):
        verity.trl_reward(prompts=["q"], completions=["<answer>Yes</answer>"], solution=["Yes"])
