"""verl with Verity: a dataset class for `data.custom_cls` and reward functions that report to a curriculum.

    # my_verity.py (any file verl can import by path)
    from verity.verl import VerityDataset, compute_score, compute_score_batch

    data.custom_cls.path=my_verity.py  data.custom_cls.name=VerityDataset
    data.train_files=[tasks.jsonl]                 # Verity tasks, or `verity export --for verl` rows (.jsonl / .parquet)
    +data.verity_curriculum=http://127.0.0.1:8080  # or: draw from `verity serve --curriculum` instead of files
    +data.verity_size=100000                       #     the dataset's nominal length in curriculum mode
    custom_reward_function.path=my_verity.py  custom_reward_function.name=compute_score
    +custom_reward_function.reward_kwargs.curriculum_url=http://127.0.0.1:8080   # report every reward back

VerityDataset subclasses verl's RLHFDataset (so it needs verl and torch when it is first used; importing
this module needs neither). In file mode it reads JSONL task records (rewritten to verl's columns as
`verity export --for verl` does) or exported rows, and parquet through verl's own reader. In
curriculum mode each item is the next task the curriculum hands out, whatever the index, so the data
follows the levels as they move. verl runs the dataset and the reward function in different processes:
the curriculum is shared through the server (verity.RemoteCurriculum), never a SQLite file.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Mapping, Sequence

import verity
from verity import rewards as _rewards
from verity.curriculum import RemoteCurriculum

ABILITY = "logic"


def verl_row(task: Mapping[str, Any], ability: str = ABILITY) -> dict:
    """A task record in verl's columns: the layout `verity export --for verl` writes."""
    return {"data_source": "verity/" + task["family"],
            "prompt": [{"role": "user", "content": task["prompt"]}],
            "ability": ability,
            "reward_model": {"style": "rule", "ground_truth": task["answer"]},
            "extra_info": dict(task)}


def read_rows(path: str) -> list[dict]:
    """verl rows from a JSONL file of Verity tasks or of exported verl rows."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{number}: not JSON ({e.msg})") from None
            if "data_source" in record and "prompt" in record:
                rows.append(record)
            elif "family" in record and "prompt" in record and "answer" in record:
                rows.append(verl_row(record))
            else:
                raise ValueError(f"{path}:{number}: neither a Verity task (family, prompt, answer) nor a verl row "
                                 "(data_source, prompt): write it with `verity generate` or `verity export --for verl`")
    if not rows:
        raise ValueError(f"{path}: holds no rows")
    return rows


class CurriculumRows:
    """A list-like view whose every item is the next task drawn from a curriculum (as a verl row)."""

    def __init__(self, curriculum: Any, size: int, batch: int = 64):
        self.curriculum, self.size, self.batch = curriculum, size, batch
        self._buffer: list[dict] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict:
        with self._lock:
            if not self._buffer:
                self._buffer = [verl_row(t) for t in self.curriculum.next_batch(self.batch)]
            return self._buffer.pop(0)


def _config_get(config: Any, key: str, default: Any = None) -> Any:
    getter = getattr(config, "get", None)
    return getter(key, default) if getter else getattr(config, key, default)


def _make_dataset_class():
    try:
        from verl.utils.dataset.rl_dataset import RLHFDataset
    except ImportError as e:
        raise ImportError("verity.verl.VerityDataset subclasses verl's RLHFDataset: install verl "
                          "(pip install verl) in this environment") from e

    class VerityDataset(RLHFDataset):
        """verl's RLHFDataset reading Verity tasks, or drawing from a curriculum (see verity.verl)."""

        def _read_files_and_tokenize(self):
            url = _config_get(self.config, "verity_curriculum")
            if url:
                size = int(_config_get(self.config, "verity_size", 100_000))
                self.dataframe = CurriculumRows(RemoteCurriculum(str(url)), size)
                return
            files = [self.data_files] if isinstance(self.data_files, str) else list(self.data_files)
            if any(str(f).endswith(".parquet") for f in files):
                return super()._read_files_and_tokenize()  # exported rows: verl's own reader
            rows = [row for f in files for row in read_rows(str(f))]
            max_samples = getattr(self, "max_samples", -1)  # verl's train_max_samples / val_max_samples
            if max_samples is not None and 0 < max_samples < len(rows):
                rows = rows[:max_samples]
            try:
                from datasets import Dataset  # Hugging Face's (verl depends on it)
                self.dataframe = Dataset.from_list(rows)
            except ImportError:
                self.dataframe = rows
            filter_long = getattr(self, "maybe_filter_out_long_prompts", None)
            if filter_long is not None and not isinstance(self.dataframe, list):
                self.dataframe = filter_long(self.dataframe)

    return VerityDataset


_dataset_class = None


def __getattr__(name: str):
    # Built on first use, so `import verity.verl` needs neither verl nor torch.
    global _dataset_class
    if name == "VerityDataset":
        if _dataset_class is None:
            _dataset_class = _make_dataset_class()
        return _dataset_class
    raise AttributeError(name)


_clients: dict[str, RemoteCurriculum] = {}


def _curriculum(url: str | None) -> RemoteCurriculum | None:
    if not url:
        return None
    if url not in _clients:
        _clients[url] = RemoteCurriculum(url)
    return _clients[url]


def compute_score(data_source: str, solution_str: Any, ground_truth: Any, extra_info: Any = None,
                  curriculum_url: str | None = None, process_weight: float = 0.0, **kwargs: Any) -> dict:
    """verity.compute_score (verl's signature) that also reports the reward to `curriculum_url`."""
    task = _rewards._verl_task(data_source, ground_truth, extra_info)
    score = verity.score(task, solution_str, process_weight)
    report = _curriculum(curriculum_url)
    if report is not None:
        report.report([_reported(score)], [score["reward"]], correct=[score["correct"]])
    return _rewards._verl_result(score)


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[Any], ground_truths: Sequence[Any],
                        extra_infos: Sequence[Any] | None = None, curriculum_url: str | None = None,
                        process_weight: float = 0.0, **kwargs: Any) -> list[dict]:
    """verity.compute_score_batch (verl's BatchRewardManager) reporting all rewards in one request."""
    extra_infos = extra_infos if extra_infos is not None else [None] * len(solution_strs)
    if not len(data_sources) == len(solution_strs) == len(ground_truths) == len(extra_infos):
        raise ValueError("compute_score_batch: one data_source, solution_str, ground_truth and extra_info per row")
    tasks = [_rewards._verl_task(d, g, e) for d, g, e in zip(data_sources, ground_truths, extra_infos)]
    scores = verity.score_batch(tasks, solution_strs, process_weight=process_weight)
    report = _curriculum(curriculum_url)
    if report is not None:
        report.report([_reported(s) for s in scores], [s["reward"] for s in scores],
                      correct=[s["correct"] for s in scores])
    return [_rewards._verl_result(s) for s in scores]


def _reported(score: Mapping[str, Any]) -> dict:
    return {"id": score["task_id"], "family": score["family"], "level": score["level"]}
