"""Verity from Python: generate verifiable reasoning tasks and score model outputs.

    import verity
    tasks = verity.generate("causal_transitivity", 100, seed=1, level=3)
    verity.score(tasks[0], "<answer>Yes</answer>")   # -> {"reward": 1.0, "correct": True, ...}

A task is the dict of one JSONL line written by `verity generate` (protobuf's JSON mapping of
schemas/verity.proto: 64-bit integers such as `seed` are strings). It carries everything a verifier
needs, so a completion can be scored from the task alone, in any process.

Reward functions for training frameworks live in verity.rewards and are re-exported here:
`compute_score` / `compute_score_batch` (verl) and `trl_reward` / `make_trl_reward` (TRL).

Curriculum (verity.curriculum): `Curriculum(db_path, families={...}, policy=...)` with next_batch(n) /
report(task_ids, rewards), and `RemoteCurriculum(url)` for `verity serve --curriculum`. Reasoning Gym's
interface (verity.gym): `create_dataset(name, size=, seed=, **knobs)` and `score_answer(answer, entry)`.
Framework glue: verity.trl (iterable dataset + reporting reward) and verity.verl (data.custom_cls).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from . import _verity

__version__ = _verity.__version__
MAX_COMPLETION_BYTES = _verity.MAX_COMPLETION_BYTES
KnobError = _verity.KnobError
MAX_GENERATE = 10_000_000  # tasks one generate() call returns (they are all in memory as dicts)

__all__ = [
    "families", "describe", "generate", "task_at", "score", "score_batch",
    "compute_score", "compute_score_batch", "trl_reward", "make_trl_reward", "KnobError",
    "Curriculum", "RemoteCurriculum", "create_dataset", "score_answer", "get_score_answer_fn",
]


def families() -> list[str]:
    """Names of the task families, e.g. ["propositional_entailment", "causal_transitivity"]."""
    return _verity.families()


def describe(family: str) -> dict:
    """A family's summary, answer format, knobs (name, kind, range, default) and level ladder."""
    return _verity.describe(family)


def generate(family: str, n: int, seed: int, level: int | None = None, *, start: int = 0,
             threads: int = 0, **knobs: Any) -> list[dict]:
    """The tasks `verity generate` writes for (family, level and knobs, seed), as dicts: the same ids in
    the same order, for any `threads` (0 = all cores).

    That is the dataset of distinct questions with balanced labels: candidates of the index stream
    0, 1, 2, ... (each task's `index`; `task_at(family, index, ...)` makes one) are kept in order unless
    their question repeats a kept one (up to renaming and statement order) or their label is already
    over its share. `generate(f, n, s)` equals the lines of `verity generate --family f -n n --seed s`;
    with `start`, positions start..start+n-1 of that dataset (the tasks before are walked, not returned).
    Knobs override the level ladder (`verity.describe(family)["knobs"]` lists them); without a level
    they start from their defaults and the tasks carry level 0. Unknown families raise ValueError, bad
    knobs raise verity.KnobError (a ValueError); knobs with fewer distinct questions than start + n
    raise ValueError with the command's message (how many exist, which knob to raise).
    """
    return [json.loads(line) for line in _generate_lines(family, n, seed, level, start, threads, knobs)]


def task_at(family: str, index: int, seed: int, level: int | None = None, **knobs: Any) -> dict:
    """Task `index` of the index stream of (family, level and knobs, seed): the candidate a task's
    `index` field names (a task `generate` returns equals `task_at(family, t["index"], seed, ...)`), and
    what the curriculum issues. Repeats are not skipped here: use `generate` for a dataset.
    """
    if index < 0 or seed < 0 or index >= 2**64 or seed >= 2**64:
        raise ValueError(f"index and seed must be in [0, 2**64) (got index={index}, seed={seed})")
    knob_text = {name: _knob_text(value) for name, value in knobs.items()}
    return json.loads(_verity.task_json(family, index, seed, level or 0, knob_text))


def score(task: Mapping | str, completion: Any, process_weight: float = 0.0) -> dict:
    """Scores one completion against one task (a dict or its JSON text).

    process_weight blends the process score into the reward, gated by the outcome: reward = outcome x
    ((1 - w) + w x process), where process = steps_covered / steps_required (how much of the required
    derivation valid steps establish) x steps_valid / steps_checked, for families whose steps are
    checked (steps_required > 0); a completion without steps has process 0.
    The default 0 is the outcome reward.

    Returns {task_id, family, level, reward, correct, format_ok, extracted_answer, steps_checked,
    steps_valid, reason}. The completion is untrusted: any text, bytes, None or a chat message list
    gives a score (zero with a reason when it cannot be read), never an exception. A task that is not
    a Task record raises ValueError, because that is a bug in the data pipeline, not in the model.
    """
    text, problem = _completion_bytes(completion)
    if problem:
        return _unreadable(task_json(task), problem)
    return _verity.score_json(task_json(task), text, process_weight)


def score_batch(tasks: Iterable[Mapping | str], completions: Iterable[Any], threads: int = 0,
                process_weight: float = 0.0) -> list[dict]:
    """Scores completions[i] against tasks[i] in parallel (oneTBB, GIL released); same dicts and
    process_weight as score()."""
    # A GRPO group repeats one task object per sampled completion: convert each object once.
    # (All objects are alive in `tasks` during the call, so id() cannot be reused within it.)
    tasks = list(tasks)
    texts_by_object: dict[int, str] = {}
    for t in tasks:
        if id(t) not in texts_by_object:
            texts_by_object[id(t)] = task_json(t)
    task_texts = [texts_by_object[id(t)] for t in tasks]
    converted = [_completion_bytes(c) for c in completions]
    if len(task_texts) != len(converted):
        raise ValueError(f"score_batch: {len(task_texts)} tasks but {len(converted)} completions")
    # Completions that cannot be read at all are scored as empty text, then given the reason.
    scores = _verity.score_batch_json(task_texts, [text for text, _ in converted], threads, process_weight)
    for s, (_, problem) in zip(scores, converted):
        if problem:
            _mark_unreadable(s, problem)
    return scores


def task_json(task: Mapping | str | bytes) -> str:
    """The JSON text of a task given as a dict (also one read back from Parquet / Arrow) or as text.

    Arrow-backed datasets fill fields a row lacks with None (e.g. another family's instance or knobs);
    those are dropped so the record parses as the original.
    """
    if isinstance(task, (str, bytes)):
        return task.decode("utf-8") if isinstance(task, bytes) else task
    if not isinstance(task, Mapping):
        raise ValueError(f"a task must be a dict or JSON text, not {type(task).__name__}")
    return json.dumps(_drop_none(task), default=_plain)


def _generate_lines(family: str, n: int, seed: int, level: int | None, start: int, threads: int,
                    knobs: Mapping[str, Any]) -> list[str]:
    """generate()'s tasks as JSON lines (verity.gym keeps them so, parsing an entry when it is read)."""
    if n < 0 or seed < 0 or start < 0:
        raise ValueError(f"n, seed and start must be non-negative (got n={n}, seed={seed}, start={start})")
    if n > MAX_GENERATE:
        raise ValueError(f"n={n} is over {MAX_GENERATE:,} tasks held in memory at once; `verity generate` streams "
                         "larger datasets to a file")
    if seed >= 2**64 or start + n >= 2**64:
        raise ValueError("seed and start + n must be below 2**64")
    if threads < 0:
        raise ValueError(f"threads must be 0 (all cores) or more, not {threads}")
    knob_text = {name: _knob_text(value) for name, value in knobs.items()}
    return _verity.generate_json(family, n, seed, level or 0, knob_text, start, threads)


def _knob_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _completion_bytes(completion: Any) -> tuple[bytes, str]:
    """(UTF-8 bytes of the completion, "" ) or (b"", why it cannot be read). Never raises."""
    if isinstance(completion, (list, Mapping)):  # chat format: the last assistant message is the answer
        messages = completion if isinstance(completion, list) else [completion]
        completion = _last_message_content(messages)
        if not isinstance(completion, (str, bytes)):
            return b"", "chat completion has no assistant message with text content"
    if not isinstance(completion, (str, bytes, bytearray)):
        return b"", f"completion is {type(completion).__name__}, not text"
    # Checked before converting so a huge completion is never copied (a str has at least len() bytes).
    if len(completion) > MAX_COMPLETION_BYTES:
        return b"", f"completion is over the {MAX_COMPLETION_BYTES}-byte limit"
    try:
        # Only valid UTF-8 is scored, as in `verity score` (whose JSON reader rejects anything else).
        if isinstance(completion, str):
            return completion.encode("utf-8"), ""
        bytes(completion).decode("utf-8")
        return bytes(completion), ""
    except UnicodeError:
        return b"", "completion is not valid UTF-8 text"


def _last_message_content(messages: list) -> Any:
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
            return message.get("content")
    return None


def _unreadable(task_text: str, problem: str) -> dict:
    result = _verity.score_json(task_text, b"")
    _mark_unreadable(result, problem)
    return result


def _mark_unreadable(result: dict, problem: str) -> None:
    result.update(reward=0.0, correct=False, format_ok=False, extracted_answer="", reason=problem)


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_drop_none(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars from pandas / Arrow conversions
        return _drop_none(value.tolist())
    return value


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


from .rewards import compute_score, compute_score_batch, make_trl_reward, trl_reward  # noqa: E402  (needs the names above)
from .curriculum import Curriculum, RemoteCurriculum  # noqa: E402
from .gym import create_dataset, get_score_answer_fn, score_answer  # noqa: E402
