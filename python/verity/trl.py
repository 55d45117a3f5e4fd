"""TRL with Verity's curriculum (torch-free: this module imports neither torch nor trl).

    cur = verity.Curriculum("run.sqlite", families={"syllogism": 1}, policy="window")
    train = verity.trl.CurriculumDataset(cur)                   # endless rows drawn at the current levels
    reward = verity.trl.make_reward(cur)                        # scores and reports every completion
    trainer = GRPOTrainer(model=..., reward_funcs=reward, train_dataset=train.to_hf(), args=GRPOConfig(max_steps=...))

CurriculumDataset yields {"prompt", "task"} rows: "prompt" is the task's text (or, with chat=True, a
chat message list), "task" the whole record as JSON text, so every family has the same two columns
(an Arrow-backed iterable dataset needs one schema). TRL passes "task" to reward functions by name; the
reward function scores each completion from it and reports (task, reward) to the curriculum, whose
levels the dataset's next draws follow. `to_hf()` wraps it in datasets.IterableDataset (TRL needs
max_steps with an iterable dataset). With several processes, give both a verity.RemoteCurriculum.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping, Sequence

import verity
from .rewards import _trl_task


class CurriculumDataset:
    """An endless iterable of TRL rows drawn from a curriculum, `batch` tasks per draw."""

    def __init__(self, curriculum: Any, batch: int = 64, chat: bool = False, max_rows: int | None = None):
        if batch < 1:
            raise ValueError(f"batch must be >= 1, not {batch}")
        self.curriculum = curriculum
        self.batch = batch
        self.chat = chat
        self.max_rows = max_rows

    def __iter__(self) -> Iterator[dict]:
        produced = 0
        while self.max_rows is None or produced < self.max_rows:
            for task in self.curriculum.next_batch(self.batch):
                if self.max_rows is not None and produced >= self.max_rows:
                    return
                produced += 1
                yield row(task, self.chat)

    def to_hf(self):
        """The same rows as a datasets.IterableDataset (needs the `datasets` package)."""
        try:
            from datasets import IterableDataset
        except ImportError as e:
            raise ImportError("to_hf() needs Hugging Face `datasets` (pip install datasets); TRL depends on it") from e
        return IterableDataset.from_generator(self.__iter__)


def row(task: Mapping[str, Any], chat: bool = False) -> dict:
    """One TRL row of a task: {"prompt": text or chat list, "task": the record as JSON text}."""
    prompt = task["prompt"]
    return {"prompt": [{"role": "user", "content": prompt}] if chat else prompt, "task": json.dumps(task)}


def make_reward(curriculum: Any = None, process_weight: float = 0.0):
    """A TRL reward function (prompts, completions, **columns) -> list[float] that also reports every
    (task, reward) to `curriculum` (a verity.Curriculum or RemoteCurriculum; None: score only).

    Works on CurriculumDataset rows ("task" column) and on `verity export --for trl` rows (the record's
    fields as columns); completions may be text or chat message lists (TRL's conversational format).
    """
    def verity_curriculum_reward(prompts: Sequence[Any] = None, completions: Sequence[Any] = None,
                                 **columns: Any) -> list[float]:
        if completions is None:
            raise ValueError("TRL passes completions=...; none given")
        tasks = [_trl_task(i, prompts, columns) for i in range(len(completions))]
        scores = verity.score_batch(tasks, completions, process_weight=process_weight)
        rewards = [s["reward"] for s in scores]
        if curriculum is not None:
            curriculum.report([_reportable(t, s) for t, s in zip(tasks, scores)], rewards,
                              correct=[s["correct"] for s in scores])
        return rewards

    return verity_curriculum_reward


def _reportable(task: Mapping[str, Any], score: Mapping[str, Any]) -> dict:
    """What a curriculum needs of a task: id, family, level (rows may carry the record as columns)."""
    return {"id": score["task_id"] or task.get("id", ""), "family": score["family"] or task.get("family", ""),
            "level": int(score["level"] or task.get("level") or 0)}
