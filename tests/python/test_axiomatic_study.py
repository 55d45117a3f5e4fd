"""scripts/axiomatic_study.sh (the paper-setup study): the smoke preset end to end, its report's numbers
recounted from the scores it wrote, its intervals, its refusal of bad options, and a rerun that keeps
the finished curve points."""

import importlib.util
import json
import math
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "axiomatic_study.sh"


def report_module():
    spec = importlib.util.spec_from_file_location("study_report", ROOT / "scripts" / "axiomatic_study_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def study(binary, *args, check=True):
    result = subprocess.run(["bash", str(SCRIPT), "--verity", binary, *args], capture_output=True, text=True,
                            timeout=900)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_wilson_interval_on_known_values():
    wilson = report_module().wilson
    lo, hi = wilson(50, 100)
    assert math.isclose(lo, 0.4038, abs_tol=1e-3) and math.isclose(hi, 0.5962, abs_tol=1e-3)
    lo, hi = wilson(100, 100)
    assert math.isclose(hi, 1.0) and math.isclose(lo, 0.9630, abs_tol=1e-3)
    assert wilson(0, 0) == (0.0, 1.0)


def test_a_constant_answer_run_is_flagged_and_never_best():
    m = report_module()
    # a model answering "no" to all 8 balanced in-distribution items: 0.5 accuracy, flagged
    splits = {f"sequential_len{n}": [1, 2] for n in (3, 4, 5, 6)} | {f"sequential_len{n}": [1, 2] for n in range(7, 16)}
    s = m.summarise(splits, {"no": 8})
    assert s["constant_answer"] and s["in_distribution"]["tasks"] == 8
    s = m.summarise(splits, {"no": 4, "yes": 4})
    assert not s["constant_answer"] and not s["meets_target"]


def test_bad_options_are_refused(verity_binary, tmp_path):
    for args, message in [(["--out", str(tmp_path), "--device", "tpu"], "--device must be cpu | cuda | auto"),
                          (["--out", str(tmp_path), "--jobs", "0"], "--jobs must be a positive integer"),
                          (["--out", str(tmp_path), "--preset", "nope"], "no preset 'nope'"),
                          (["--preset", "smoke"], "--out DIR is required")]:
        r = study(verity_binary, *args, check=False)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)


def test_smoke_preset_end_to_end(verity_binary, tmp_path):
    out = tmp_path / "study"
    study(verity_binary, "--preset", "smoke", "--out", str(out), "--jobs", "2")
    results = json.loads((out / "results.json").read_text())
    assert set(results["runs"]) == {"L1_W32_H2_none", "L1_W32_H2_rope"}
    index = json.loads((out / "data" / "eval_index.json").read_text())
    assert len(index) == 4 * 30  # 4 items of each of the 30 splits
    for name, run in results["runs"].items():
        assert [p["epoch"] for p in run["curve"]] == [1, 2], name
        assert run["config"]["tokenizer"] == "char" and run["config"]["lr_schedule"] == "constant"
        # recount the final point from the scores the script wrote
        scores = [json.loads(l) for l in (out / "runs" / name / "curve" / "epoch_2.scores.jsonl").read_text().splitlines()]
        assert len(scores) == 120
        right = sum(1 for s in scores if s.get("correct", False) and index[s["task_id"]] == "sequential_len50")
        assert run["final"]["splits"]["sequential_len50"]["correct"] == right
        assert run["final"]["splits"]["sequential_len50"]["tasks"] == 4
        assert (out / "curves" / f"{name}.svg").read_text().count("<polyline") >= 1
        # the checkpoint's tokenizer is the char scheme, the prompts the paper's format
        assert json.loads((out / "runs" / name / "ckpt" / "tokenizer.json").read_text())["scheme"] == "char"
    first = json.loads((out / "data" / "eval_tasks.jsonl").read_text().splitlines()[0])
    assert first["prompt"].startswith("Does ") and first["prompt"].endswith(" [EOC]")
    md = (out / "results.md").read_text()
    assert "| L1_W32_H2_rope | 2 |" in md and "[" in md
    # a rerun keeps every finished curve point: nothing is trained again
    before = (out / "runs" / "L1_W32_H2_none" / "log.txt").read_text()
    study(verity_binary, "--preset", "smoke", "--out", str(out))
    assert (out / "runs" / "L1_W32_H2_none" / "log.txt").read_text() == before
