"""verity export --for verl and verity.compute_score, called the way verl's reward managers call them."""

import json

import pytest

import verity
from conftest import arrow_like, mixed_tasks, read_jsonl, run_cli, wrong_answer


@pytest.fixture
def verl_rows(tmp_path, verity_binary):
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(json.dumps(t) + "\n" for t in mixed_tasks(8)))
    out = tmp_path / "verl.jsonl"
    run_cli(verity_binary, "export", "--for", "verl", "--tasks", str(tasks), "-o", str(out))
    return read_jsonl(out)


def naive_reward_manager(rows, responses):
    """verl's NaiveRewardManager loop: one compute_score call per sample, keyword arguments, and
    extra_info gaining keys of verl's own (num_turns)."""
    scores = []
    for row, response in zip(rows, responses):
        extra_info = dict(row.get("extra_info") or {})
        extra_info["num_turns"] = 1
        scores.append(verity.compute_score(data_source=row["data_source"], solution_str=response,
                                           ground_truth=row["reward_model"]["ground_truth"], extra_info=extra_info))
    return scores


def test_export_writes_the_verl_columns(verl_rows):
    row = verl_rows[0]
    assert list(row) == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    task = row["extra_info"]
    assert row["data_source"] == "verity/" + task["family"]
    assert row["prompt"] == [{"role": "user", "content": task["prompt"]}]
    assert row["reward_model"] == {"style": "rule", "ground_truth": task["answer"]}
    assert task["id"] and task["knobs"] and task["trace"]


def test_compute_score_gold_and_wrong(verl_rows):
    gold = naive_reward_manager(verl_rows, [f"<answer>{r['extra_info']['answer']}</answer>" for r in verl_rows])
    assert all(s == {"score": 1.0, "acc": 1.0, "format_ok": 1.0} for s in gold), gold
    wrong = naive_reward_manager(verl_rows, [f"<answer>{wrong_answer(r['extra_info'])}</answer>" for r in verl_rows])
    assert all(s["score"] == 0.0 and s["acc"] == 0.0 for s in wrong)
    garbage = naive_reward_manager(verl_rows, ["I do not know"] * len(verl_rows))
    assert all(s == {"score": 0.0, "acc": 0.0, "format_ok": 0.0} for s in garbage)


def test_compute_score_after_a_parquet_round_trip(verl_rows):
    # Mixed families: Arrow gives every row every family's instance and knob fields, as None.
    rows = arrow_like(verl_rows)
    assert any(v is None for v in rows[0]["extra_info"]["knobs"].values())
    scores = naive_reward_manager(rows, [f"<answer>{r['reward_model']['ground_truth']}</answer>" for r in rows])
    assert all(s["score"] == 1.0 for s in scores)


def test_batch_reward_manager(verl_rows):
    responses = [f"<answer>{r['extra_info']['answer'] if i % 2 else 'nonsense'}</answer>" for i, r in enumerate(verl_rows)]
    scores = verity.compute_score_batch(
        data_sources=[r["data_source"] for r in verl_rows], solution_strs=responses,
        ground_truths=[r["reward_model"]["ground_truth"] for r in verl_rows],
        extra_infos=[r["extra_info"] for r in verl_rows])
    assert [s["score"] for s in scores] == [float(i % 2) for i in range(len(verl_rows))]


def test_compute_score_without_the_record():
    # Label families score from data_source and ground_truth alone.
    assert verity.compute_score("verity/causal_transitivity", "<answer>yes</answer>", "Yes")["score"] == 1.0
    assert verity.compute_score("verity/causal_transitivity", "<answer>No</answer>", "Yes")["score"] == 0.0
    with pytest.raises(ValueError, match="extra_info"):
        verity.compute_score("openai/gsm8k", "<answer>4</answer>", "4", extra_info={"split": "train"})


@pytest.mark.parametrize("family", ["zebra", "knights_knaves", "long_horizon_sum"])
def test_compute_score_without_the_record_of_an_instance_family_raises(family):
    task = verity.generate(family, 1, seed=2, level=2)[0]
    for extra_info in ({}, None, {"num_turns": 1}):
        with pytest.raises(ValueError, match="no formal instance.*extra_info"):
            verity.compute_score("verity/" + family, f"<answer>{task['answer']}</answer>", task["answer"],
                                 extra_info=extra_info)
    with pytest.raises(ValueError, match="task 1: .*no formal instance"):
        verity.compute_score_batch(["verity/" + family] * 2, ["a", "b"], [task["answer"]] * 2, [task, {}])


def test_compute_score_of_an_unknown_data_source_family_raises():
    with pytest.raises(ValueError, match="unknown family 'nosuch'"):
        verity.compute_score("verity/nosuch", "<answer>Yes</answer>", "Yes", extra_info={})
    with pytest.raises(ValueError, match="unknown family 'nosuch'"):
        verity.compute_score("verity/x", "<answer>Yes</answer>", "Yes", extra_info={"family": "nosuch", "answer": "Yes"})


class ArrayLike:
    """Stands in for the numpy arrays pandas gives for list columns (older verl reads Parquet with pandas):
    not a list, and json cannot serialise it, but it has tolist()."""

    def __init__(self, items):
        self.items = items

    def tolist(self):
        return list(self.items)


def test_compute_score_with_array_columns(verl_rows):
    row = verl_rows[0]
    extra_info = dict(row["extra_info"], trace=ArrayLike(row["extra_info"]["trace"]))
    assert verity.compute_score(row["data_source"], f"<answer>{row['reward_model']['ground_truth']}</answer>",
                                row["reward_model"]["ground_truth"], extra_info)["score"] == 1.0
