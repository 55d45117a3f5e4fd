"""Process-reward blending from Python: verity.score(process_weight=...), verl's compute_score kwargs,
make_trl_reward. The blend is outcome-gated: reward = outcome x ((1 - w) + w x process), process = coverage of the
required derivation x steps_valid / steps_checked."""

import re

import pytest

import verity


def arithmetic_task():
    return verity.generate("arithmetic_graph", 1, seed=5, level=4, unanswerable=0)[0]


def solution(task, corrupt_first_step=False):
    lines = [step["text"] for step in task["trace"]]
    if corrupt_first_step:
        # "... = 7." -> "... = 8.": the first step's result is now wrong, the final answer is unchanged.
        lines[0] = re.sub(r"= (-?\d+)\.$", lambda m: f"= {int(m.group(1)) + 1}.", lines[0])
    return "\n".join(lines) + f"\n<answer>{task['answer']}</answer>"


def test_default_is_the_outcome_reward():
    task = arithmetic_task()
    s = verity.score(task, solution(task, corrupt_first_step=True))
    assert s["correct"] and s["steps_valid"] < s["steps_checked"]
    assert s["reward"] == 1.0


@pytest.mark.parametrize("weight", [0.25, 0.5, 1.0])
def test_blend_follows_the_weight(weight):
    task = arithmetic_task()
    s = verity.score(task, solution(task, corrupt_first_step=True), process_weight=weight)
    # process = coverage of the required derivation x steps_valid / steps_checked: one false step
    # costs something, but earns more than no steps at all
    assert (1 - weight) < s["reward"] < 1.0
    assert verity.score(task, f"<answer>{task['answer']}</answer>", process_weight=weight)["reward"] == pytest.approx(1 - weight)
    assert verity.score(task, solution(task), process_weight=weight)["reward"] == 1.0


def test_wrong_outcome_earns_nothing_for_its_steps():
    task = arithmetic_task()
    text = solution(task).replace(f"<answer>{task['answer']}</answer>", "<answer>-12345</answer>")
    assert verity.score(task, text, process_weight=0.5)["reward"] == 0.0


def test_batch_verl_and_trl_take_the_weight():
    task = arithmetic_task()
    texts = [solution(task), solution(task, corrupt_first_step=True)]
    batch = verity.score_batch([task, task], texts, process_weight=0.5)
    assert batch[0]["reward"] == 1.0 and 0.5 < batch[1]["reward"] < 1.0
    verl = verity.compute_score("verity/arithmetic_graph", texts[1], task["answer"], extra_info=task,
                                process_weight=0.5)
    assert verl["score"] == pytest.approx(batch[1]["reward"])
    assert verity.compute_score_batch(["verity/arithmetic_graph"] * 2, texts, [task["answer"]] * 2, [task, task],
                                      process_weight=0.5)[1]["score"] == pytest.approx(batch[1]["reward"])
    reward = verity.make_trl_reward(process_weight=0.5)
    columns = {k: [task[k], task[k]] for k in task if k != "prompt"}
    assert reward([task["prompt"]] * 2, texts, **columns) == pytest.approx([1.0, batch[1]["reward"]])
    assert verity.trl_reward([task["prompt"]] * 2, texts, **columns) == [1.0, 1.0]


def test_score_dict_carries_the_process_fields():
    task = arithmetic_task()
    gold = verity.score(task, solution(task))
    assert gold["steps_required"] > 0 and gold["steps_covered"] == gold["steps_required"]
    assert gold["process"] == 1.0
    bare = verity.score(task, f"<answer>{task['answer']}</answer>")
    assert bare["steps_covered"] == 0 and bare["process"] == 0.0
    w = 0.5
    corrupt = verity.score(task, solution(task, corrupt_first_step=True), process_weight=w)
    assert corrupt["reward"] == pytest.approx((1 - w) + w * corrupt["process"])
