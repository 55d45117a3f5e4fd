"""Shared fixtures. ctest sets PYTHONPATH to the built package (build/python) and VERITY_BINARY to the
verity executable; run by hand with
    PYTHONPATH=build/python VERITY_BINARY=build/verity python3 -m pytest -q tests/python
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

import verity


@pytest.fixture(scope="session")
def verity_binary() -> str:
    path = os.environ.get("VERITY_BINARY", "")
    if not path or not Path(path).is_file():
        pytest.skip("VERITY_BINARY is not set to the built verity executable")
    return path


def run_cli(binary: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mixed_tasks(n_per_family: int = 20, seed: int = 3) -> list[dict]:
    """A few tasks of every family at two levels."""
    tasks = []
    for family in verity.families():
        for level in (1, 4):
            tasks += verity.generate(family, n_per_family, seed=seed, level=level)
    return tasks


def wrong_answer(task: dict) -> str:
    """A label that is not the gold one (every current family answers with a label)."""
    gold = task["answer"]
    for candidate in ("Yes", "No", "entailed", "contradicted", "neither", "UNKNOWN"):
        if candidate.lower() != gold.lower():
            return candidate
    raise AssertionError("no wrong label")


def arrow_like(rows: list[dict]) -> list[dict]:
    """What rows look like after a round trip through Arrow / Parquet (Hugging Face datasets):
    nested dicts get the union of keys over all rows, missing ones filled with None."""
    def keys_of(values):
        keys = {}
        for v in values:
            if isinstance(v, dict):
                keys.update(dict.fromkeys(v))
        return list(keys)

    def unify(values):
        if not any(isinstance(v, dict) for v in values):
            return values
        keys = keys_of(values)
        columns = {k: unify([v.get(k) if isinstance(v, dict) else None for v in values]) for k in keys}
        return [None if not isinstance(v, dict) else {k: columns[k][i] for k in keys} for i, v in enumerate(values)]

    return unify(rows)
