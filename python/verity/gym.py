"""Reasoning Gym's dataset interface over Verity's families, so code written for Reasoning Gym (and the
environment libraries that wrap it) runs on them unchanged:

    import verity as reasoning_gym
    data = reasoning_gym.create_dataset("syllogism", size=10, seed=42)
    for i, x in enumerate(data):
        print(f'{i}: q="{x["question"]}", a="{x["answer"]}"')
        assert data.score_answer(answer=x["answer"], entry=x) == 1.0

create_dataset(name, size=500, seed=None, level=None, **knobs): `level` picks a rung of the family's
ladder (1..10), knobs override single settings (`verity.describe(name)["knobs"]`); with neither, the
knobs' defaults. Entries are {"question", "answer", "metadata"}; metadata holds "source_dataset",
"source_index", "difficulty" (the level and every knob) and "task" (the whole Verity record, from
which score_answer scores, so an entry can be scored in any process). The entries are the `size`
tasks `verity generate -n size` writes for (family, knobs, seed), in order: distinct questions with
balanced labels, made when the dataset is created (knobs with fewer distinct questions than `size`
raise ValueError there, saying how many exist).

create_dataset("composite", size=, seed=, datasets=[{"name", "weight", "config"}, ...]) mixes families
by weight, as Reasoning Gym's composite dataset does.

score_answer(answer, entry) -> float in [0, 1]: `answer` is what Reasoning Gym passes, the answer
text a model gave (extracted or a whole completion); a bare answer is read as if it were tagged
<answer>...</answer>. None or unreadable scores 0.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import verity



@dataclass
class VerityDatasetConfig:
    """Mirrors a Reasoning Gym config: size and seed plus the family's settings."""
    family: str
    size: int = 500
    seed: int | None = None
    level: int | None = None
    knobs: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        if self.family not in verity.families():
            raise ValueError(f"unknown dataset {self.family!r}: Verity's are {', '.join(verity.families())}")
        if not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"size must be a positive integer, not {self.size!r}")
        if self.seed is not None and not 0 <= self.seed < 2**64:
            raise ValueError("seed must be in [0, 2**64)")


class _SizedDataset:
    """len(), iteration and index checks shared by the datasets below (`size` entries, indexed 0..size-1)."""

    size: int

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[dict]:
        for i in range(self.size):
            yield self[i]

    def _position(self, idx: int) -> int:
        if idx < 0:
            idx += self.size
        if not 0 <= idx < self.size:
            raise IndexError(f"index {idx} out of range for a dataset of {self.size}")
        return idx


class VerityDataset(_SizedDataset):
    """A Reasoning-Gym-style procedural dataset: len(), [i], iteration, score_answer(answer, entry)."""

    def __init__(self, config: VerityDatasetConfig):
        config.validate()
        if config.seed is None:  # Reasoning Gym draws a seed when none is given; it is kept in config.seed
            config.seed = random.SystemRandom().randrange(2**32)
        self.config = config
        self.size = config.size
        self.seed = config.seed
        # Which candidates the dataset keeps depends on every one before, so it is made whole, once;
        # held as JSON lines (a task dict is several times larger) and parsed when read.
        self._lines = verity._generate_lines(config.family, self.size, self.seed, config.level, 0, 0, config.knobs)

    def __getitem__(self, idx: int | slice) -> dict | list[dict]:
        if isinstance(idx, slice):
            return [self[i] for i in range(*idx.indices(self.size))]
        idx = self._position(idx)
        return self._entry(self._task(idx), idx)

    def score_answer(self, answer: str | None, entry: Mapping[str, Any]) -> float:
        return score_answer(answer, entry)

    def _task(self, idx: int) -> dict:
        return json.loads(self._lines[idx])

    def _entry(self, task: dict, idx: int) -> dict:
        difficulty = {"level": task.get("level", 0)}
        difficulty.update(task.get("knobs", {}))
        return {"question": task["prompt"], "answer": task["answer"],
                "metadata": {"source_dataset": self.config.family, "source_index": idx,
                             "difficulty": difficulty, "task": task}}


class CompositeDataset(_SizedDataset):
    """Reasoning Gym's "composite": entry i comes from one of several datasets, chosen by weight with a
    generator seeded by (seed, i); the chosen dataset's entry i (so entries never repeat within one)."""

    def __init__(self, size: int, seed: int | None, datasets: list):
        if not datasets:
            raise ValueError("composite needs datasets=[{'name': ..., 'weight': ..., 'config': {...}}, ...]")
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)
        self.size, self.seed = size, seed
        self.parts, self.weights = [], []
        for spec in datasets:
            name, weight, config = (spec["name"], spec.get("weight", 1), spec.get("config", {})) if isinstance(
                spec, Mapping) else (spec.name, spec.weight, spec.config or {})
            if not weight > 0:
                raise ValueError(f"composite: weight of {name} must be > 0")
            config = dict(config)
            config.setdefault("seed", seed)
            self.parts.append(create_dataset(name, size=size, **config))
            self.weights.append(float(weight))

    def __getitem__(self, idx: int | slice) -> dict | list[dict]:
        if isinstance(idx, slice):
            return [self[i] for i in range(*idx.indices(self.size))]
        idx = self._position(idx)
        part = random.Random(f"{self.seed}:{idx}").choices(self.parts, weights=self.weights)[0]
        return part[idx]

    def score_answer(self, answer: str | None, entry: Mapping[str, Any]) -> float:
        return score_answer(answer, entry)


def create_dataset(name: str, *, size: int = 500, seed: int | None = None, level: int | None = None,
                   **knobs: Any) -> VerityDataset | CompositeDataset:
    """Reasoning Gym's `create_dataset` for a Verity family (see the module's doc), or "composite" with
    datasets=[{"name", "weight", "config"}] (or objects with those attributes, as Reasoning Gym's DatasetSpec)."""
    if name == "composite":
        return CompositeDataset(size, seed, knobs.pop("datasets", []))
    return VerityDataset(VerityDatasetConfig(family=name, size=size, seed=seed, level=level, knobs=dict(knobs)))


def score_answer(answer: str | None, entry: Mapping[str, Any]) -> float:
    """The reward of `answer` for a dataset entry (Reasoning Gym's score_answer)."""
    if answer is None or not isinstance(entry, Mapping):
        return 0.0
    metadata = entry.get("metadata") or {}
    task = metadata.get("task") if isinstance(metadata, Mapping) else None
    if task is None:
        raise ValueError("this entry has no metadata['task']: score entries of verity.create_dataset")
    result = verity.score(task, answer)
    if not result["format_ok"] and isinstance(answer, str) and "<answer>" not in answer:
        # Reasoning Gym passes the extracted answer: read bare text as the tagged answer.
        result = verity.score(task, f"<answer>{answer}</answer>")
    return float(result["reward"])


def get_score_answer_fn(name: str):
    """Reasoning Gym's get_score_answer_fn: the scoring function of a dataset by name."""
    if name not in verity.families():
        raise ValueError(f"unknown dataset {name!r}: Verity's are {', '.join(verity.families())}")
    return score_answer
