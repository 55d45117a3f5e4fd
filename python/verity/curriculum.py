"""Verity's curriculum from Python: draw tasks at each family's current level, report rewards, and the
levels follow the model (docs/curriculum.md has the policies and their maths).

    cur = verity.Curriculum("run.sqlite", families={"causal_transitivity": 2, "syllogism": 1},
                            policy="window")                     # Reasoning Gym's 0.7 / 0.3 rule
    tasks = cur.next_batch(16)                                   # task dicts (the JSONL records)
    rewards = [verity.score(t, model(t["prompt"]))["reward"] for t in tasks]
    cur.report([t["id"] for t in tasks], rewards)                # returns once on disk
    cur.statistics()["families"]                                 # levels and pass rates

`Curriculum` runs in this process on a SQLite file (the same engine as `verity serve --curriculum`);
`RemoteCurriculum("http://127.0.0.1:8080")` is the same interface over HTTP, for many rollout workers
sharing one curriculum. Neither imports torch.
"""

from __future__ import annotations

import json
import uuid
import urllib.error
import urllib.request
from typing import Any, Iterable, Mapping, Sequence

from . import _verity

POLICIES = ("band", "window", "target")


class Curriculum:
    """A durable curriculum in a SQLite file.

    families: {name: weight} or a list of names (weight 1) to start one; None continues the one the
    file holds (as does giving the same families and settings again). policy: "band" (the trainer's
    EMA band, default), "window" (promote at a windowed mean reward >= 0.7, demote <= 0.3) or "target"
    (steer the expected reward to `target`). Settings: band_low, band_high, min_samples, ema_alpha,
    window, promote, demote, target, step_size, min_level, max_level, review_frac, adaptive.

    next_batch(n) is deterministic given `seed` and the state; report() returns only once the outcomes
    are committed (a crash, kill -9 included, loses no acknowledged report). Thread-safe.
    """

    def __init__(self, db_path: str, families: Mapping[str, float] | Sequence[str] | None = None,
                 policy: str | None = None, *, seed: int = 0, start_level: int = 1,
                 success_threshold: float = 0.5, **settings: Any):
        if policy is not None:
            if policy not in POLICIES:
                raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
            settings["policy"] = policy
        pairs = _family_weights(families)
        if seed < 0 or seed >= 2**64:
            raise ValueError("seed must be in [0, 2**64)")
        self.db_path = str(db_path)
        self._engine = _verity.CurriculumService(self.db_path, pairs, dict(settings), bool(settings), start_level,
                                                 seed, success_threshold)
        self.last_batch = 0

    def next_batch(self, n: int, seed: int | None = None) -> list[dict]:
        """n tasks (dicts, as `verity generate` writes them) at the families' current levels."""
        number, _, lines = self._engine.next_batch(n, seed)
        self.last_batch = number
        return [json.loads(line) for line in lines]

    def report(self, tasks: Iterable[str | Mapping], rewards: Iterable[float], *,
               correct: Iterable[bool] | None = None, request_id: str | None = None) -> dict:
        """Records one reward per task (an id this curriculum issued, or a task dict). Returns
        {"accepted", "duplicate", "seq", "level_changes"} once durable. A request_id makes a retry a
        no-op. Raises ValueError (recording nothing) for an unknown task or a reward outside [0, 1]."""
        return json.loads(self._engine.report_json(request_id or "", _outcomes(tasks, rewards, correct)))

    def statistics(self) -> dict:
        """Config, counters and per family: weight, level, difficulty, per-level attempts / pass rates."""
        return json.loads(self._engine.state_json())

    def levels(self) -> dict[str, int]:
        return {f["family"]: f["level"] for f in self.statistics()["families"]}

    def level_changes(self) -> list[dict]:
        """Every promotion / demotion: step (report number), family, from_level, to_level, evidence."""
        return json.loads(self._engine.level_changes_json())

    def history(self, after: int = 0, limit: int = 1000) -> list[dict]:
        """Reported outcomes with seq > after, in commit order (seq, request_id, task_id, family, level,
        reward, success, at)."""
        return json.loads(self._engine.history_json(after, limit))

    def close(self) -> None:
        self._engine.close()

    def __enter__(self) -> "Curriculum":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class RemoteCurriculum:
    """The Curriculum interface against `verity serve --curriculum DB` (standard library only).

    Each report carries a fresh request id and is retried on connection errors with the same id, so a
    report is counted exactly once even when the server restarts in between.
    """

    def __init__(self, url: str = "http://127.0.0.1:8080", token: str | None = None, timeout: float = 60,
                 retries: int = 5):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.last_batch = 0

    def next_batch(self, n: int, seed: int | None = None) -> list[dict]:
        body: dict[str, Any] = {"n": n}
        if seed is not None:
            body["seed"] = seed
        reply = self._call("POST", "/curriculum/batch", body)
        self.last_batch = reply["batch"]
        return reply["tasks"]

    def report(self, tasks: Iterable[str | Mapping], rewards: Iterable[float], *,
               correct: Iterable[bool] | None = None, request_id: str | None = None) -> dict:
        outcomes = []
        for task_id, family, level, reward, ok in _outcomes(tasks, rewards, correct):
            item: dict[str, Any] = {"task_id": task_id, "reward": reward}
            if family:
                item.update(family=family, level=level)
            if ok >= 0:
                item["correct"] = bool(ok)
            outcomes.append(item)
        return self._call("POST", "/curriculum/report",
                          {"request_id": request_id or uuid.uuid4().hex, "outcomes": outcomes})

    def statistics(self) -> dict:
        return self._call("GET", "/curriculum")

    def levels(self) -> dict[str, int]:
        return {f["family"]: f["level"] for f in self.statistics()["families"]}

    def level_changes(self) -> list[dict]:
        return self._call("GET", "/curriculum/history?limit=1")["level_changes"]

    def history(self, after: int = 0, limit: int = 1000) -> list[dict]:
        return self._call("GET", f"/curriculum/history?after={int(after)}&limit={int(limit)}")["reports"]

    def close(self) -> None:
        pass

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as e:
                detail = e.read().decode("utf-8", "replace")
                if e.code in (400, 401, 404, 413):
                    raise ValueError(f"{method} {path}: {e.code} {detail}") from None
                last = RuntimeError(f"{method} {path}: {e.code} {detail}")
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                last = e
            if attempt < self.retries:
                import time
                time.sleep(min(2.0, 0.1 * 2**attempt))
        raise RuntimeError(f"{method} {self.url}{path} failed after {self.retries + 1} attempts: {last}")


def _family_weights(families: Mapping[str, float] | Sequence[str] | None) -> list[tuple[str, float]]:
    if families is None:
        return []
    if isinstance(families, str):
        families = [families]
    if isinstance(families, Mapping):
        return [(str(name), float(weight)) for name, weight in families.items()]
    return [(str(name), 1.0) for name in families]


def _outcomes(tasks: Iterable[str | Mapping], rewards: Iterable[float],
              correct: Iterable[bool] | None) -> list[tuple[str, str, int, float, int]]:
    tasks, rewards = list(tasks), [float(r) for r in rewards]
    flags = [-1] * len(tasks) if correct is None else [1 if c else 0 for c in correct]
    if not len(tasks) == len(rewards) == len(flags):
        raise ValueError(f"report: {len(tasks)} tasks, {len(rewards)} rewards and {len(flags)} correct flags: "
                         "one of each per outcome")
    out = []
    for task, reward, ok in zip(tasks, rewards, flags):
        if isinstance(task, Mapping):
            if "id" not in task or "family" not in task:
                raise ValueError("a task given to report() must be a Verity task record (with 'id' and 'family')")
            out.append((str(task["id"]), str(task["family"]), int(task.get("level") or 0), reward, ok))
        else:
            out.append((str(task), "", 0, reward, ok))
    return out
