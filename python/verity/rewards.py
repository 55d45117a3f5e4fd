"""Reward functions with the signatures verl and TRL call. Datasets written by
`verity export --for verl|trl` carry the whole task record, so these need nothing else.

verl (custom_reward_function.path=<this file or a wrapper>, custom_reward_function.name=compute_score):
    compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict
        The task record is read from `extra_info` (the Task fields, as `verity export --for verl`
        writes them). Without it, a `data_source` of "verity/<family>" and `ground_truth` suffice for
        families whose answer is a label. Returns {"score": reward, "acc": 0/1, "format_ok": 0/1}:
        numbers only, because verl averages every key into metrics.
    compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos, **kwargs) -> list[dict]
        The same for verl's BatchRewardManager (reward_model.reward_manager=batch), scored in parallel.

TRL (GRPOTrainer(reward_funcs=verity.trl_reward, ...)):
    trl_reward(prompts, completions, **dataset_columns) -> list[float]
        Completions may be strings or chat message lists; the task is rebuilt from the dataset's
        columns (the Task fields that `verity export --for trl` writes), which TRL passes by name.

Process reward: compute_score / compute_score_batch take `process_weight` as a keyword (verl passes
custom_reward_function.reward_kwargs through **kwargs); for TRL, `make_trl_reward(process_weight=0.3)`
returns a reward function with the blend built in. The blend is gated by the outcome: a wrong final
answer earns 0 whatever its steps (see verity.score).
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

import verity
from . import _verity

DATA_SOURCE_PREFIX = "verity/"
_TASK_FIELDS = frozenset(_verity.task_fields())


def compute_score(data_source: str, solution_str: Any, ground_truth: Any, extra_info: Any = None,
                  process_weight: float = 0.0, **kwargs: Any) -> dict:
    """Raises ValueError (with the reason) when the row cannot be scored: no task record and a
    data_source that is not "verity/<family>", an unknown family, or a family scored from its formal
    instance (zebra, knights_knaves, long_horizon_sum, ...) without the record in extra_info."""
    task = _verl_task(data_source, ground_truth, extra_info)
    try:
        return _verl_result(verity.score(task, solution_str, process_weight))
    except ValueError as e:
        raise ValueError(_verl_context(data_source, extra_info, str(e))) from None


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[Any],
                        ground_truths: Sequence[Any], extra_infos: Sequence[Any] | None = None,
                        process_weight: float = 0.0, **kwargs: Any) -> list[dict]:
    extra_infos = extra_infos if extra_infos is not None else [None] * len(solution_strs)
    if not len(data_sources) == len(solution_strs) == len(ground_truths) == len(extra_infos):
        raise ValueError(f"compute_score_batch: {len(data_sources)} data_sources, {len(solution_strs)} solution_strs, "
                         f"{len(ground_truths)} ground_truths and {len(extra_infos)} extra_infos: one of each per row")
    tasks = [_verl_task(d, g, e) for d, g, e in zip(data_sources, ground_truths, extra_infos)]
    try:
        scores = verity.score_batch(tasks, solution_strs, process_weight=process_weight)
    except ValueError as e:
        raise ValueError(f"compute_score_batch: {e} (a row without the task record in extra_info is rebuilt from "
                         "data_source and ground_truth, which only label families allow: pass the record as "
                         "extra_info, as `verity export --for verl` writes it)") from None
    return [_verl_result(s) for s in scores]


def _verl_context(data_source: Any, extra_info: Any, reason: str) -> str:
    has_record = isinstance(extra_info, str) or (isinstance(extra_info, Mapping) and
                                                 ("family" in extra_info or "task" in extra_info))
    if has_record:
        return f"the task record in extra_info cannot be scored: {reason}"
    return (f"data_source {data_source!r} with no task record in extra_info cannot be scored: {reason}. "
            "Pass the task record as extra_info (`verity export --for verl` writes it)")


def trl_reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
    return _trl_rewards(prompts, completions, columns, process_weight=0.0)


def make_trl_reward(process_weight: float = 0.0, curriculum: Any = None):
    """A TRL reward function like trl_reward, with the process reward blended in by `process_weight`.
    With a `curriculum` (verity.Curriculum or RemoteCurriculum) it also reports every reward to it
    (verity.trl.make_reward)."""
    if curriculum is not None:
        from .trl import make_reward
        return make_reward(curriculum, process_weight)
    def reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        return _trl_rewards(prompts, completions, columns, process_weight)
    reward.__name__ = f"verity_reward_process_{process_weight:g}"  # TRL logs rewards by function name
    return reward


def _trl_rewards(prompts: Sequence[Any], completions: Sequence[Any], columns: Mapping[str, Any],
                 process_weight: float) -> list[float]:
    tasks = [_trl_task(i, prompts, columns) for i in range(len(completions))]
    return [s["reward"] for s in verity.score_batch(tasks, completions, process_weight=process_weight)]


def _verl_result(s: dict) -> dict:
    return {"score": s["reward"], "acc": float(s["correct"]), "format_ok": float(s["format_ok"])}


def _verl_task(data_source: str, ground_truth: Any, extra_info: Any) -> Mapping | str:
    if isinstance(extra_info, str):
        return extra_info  # the record as JSON text
    if isinstance(extra_info, Mapping):
        if "task" in extra_info and "family" not in extra_info:
            return extra_info["task"]
        if "family" in extra_info:
            return extra_info
    if isinstance(data_source, str) and data_source.startswith(DATA_SOURCE_PREFIX):
        # No record: a label family can still be scored from its name and the gold answer.
        return {"family": data_source[len(DATA_SOURCE_PREFIX):], "answer": str(ground_truth)}
    raise ValueError(f"no Verity task for data_source {data_source!r}: pass the task record as extra_info "
                     "(`verity export --for verl` does) or use data_source 'verity/<family>'")


def _trl_task(i: int, prompts: Sequence[Any], columns: Mapping[str, Any]) -> dict:
    if "task" in columns and "family" not in columns:
        task = columns["task"][i]
        return json.loads(task) if isinstance(task, str) else task
    task = {name: values[i] for name, values in columns.items() if name in _TASK_FIELDS}
    if prompts is not None and i < len(prompts) and isinstance(prompts[i], str):
        task["prompt"] = prompts[i]
    elif not isinstance(task.get("prompt"), str):
        task.pop("prompt", None)  # a chat-format prompt is not the record's text; verifiers do not need it
    return task
