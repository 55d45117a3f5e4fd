#!/usr/bin/env python3
"""Helper of scripts/axiomatic_study.sh (the paper-setup study of axiomatic training).

  plan          preset -> <out>/plan.json and one train config per run (<out>/runs/<run>/config.json)
  data-commands the commands that build the training split and the evaluation splits (printed)
  eval-set      the first eval_per_split items of every evaluation split -> <out>/data/eval_tasks.jsonl;
                steps per epoch from the built training split
  report        results.json, results.md (95% Wilson intervals) and learning-curve SVGs from the scores
  publish       the light files (results, charts, plan, run configs) copied into a folder to commit

Only the standard library: the numbers come from `verity score`, this file counts and draws them.
"""
import argparse
import itertools
import json
import math
import os
import re
import sys

LENGTH_SPLIT = re.compile(r"^(sequential|random_flip)_len(\d+)$")
IN_DISTRIBUTION = (3, 4, 5, 6)          # the training chains' lengths
NEAR = (7, 8, 9, 10)                    # the target: >= 0.80 on every one of these (sequential)
FAR = (11, 12, 13, 14, 15)              # and >= 0.70 mean over these
CONSTANT_ANSWER_SHARE = 0.9             # one answer on >= 90% of balanced items: a constant-answer model


def load(path):
    with open(path) as f:
        return json.load(f)


def dump(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def fail(message):
    print("axiomatic_study: " + message, file=sys.stderr)
    sys.exit(2)


# ---------------- plan ----------------

def plan(args):
    preset = load(args.preset)
    for key in ("name", "train_recipe", "eval_recipe", "train_scale", "eval_per_split", "base", "grid",
                "curve_epochs", "deadline_s"):
        if key not in preset:
            fail(f"{args.preset}: missing key '{key}'")
    grid = preset["grid"]
    # shapes: [[layers, width, heads], ...] x pos_encoding, or the product of layers x width x heads
    if "shapes" in grid:
        shapes = grid["shapes"]
        if not isinstance(shapes, list) or not shapes or any(
                not isinstance(x, list) or len(x) != 3 or not all(isinstance(v, int) and v > 0 for v in x)
                for x in shapes):
            fail(f"{args.preset}: grid.shapes must be a non-empty list of [layers, width, heads]")
    else:
        for axis in ("layers", "width", "heads"):
            if not isinstance(grid.get(axis), list) or not grid[axis]:
                fail(f"{args.preset}: grid.{axis} must be a non-empty list (or give grid.shapes)")
        shapes = [list(x) for x in itertools.product(grid["layers"], grid["width"], grid["heads"])]
    if not isinstance(grid.get("pos_encoding"), list) or not grid["pos_encoding"]:
        fail(f"{args.preset}: grid.pos_encoding must be a non-empty list")
    epochs = preset["curve_epochs"]
    if not epochs or any(not isinstance(e, (int, float)) or e <= 0 for e in epochs) or epochs != sorted(set(epochs)):
        fail(f"{args.preset}: curve_epochs must be increasing positive numbers (fractions too), got {epochs}")
    root = args.root
    train_recipe = os.path.join(root, preset["train_recipe"])
    eval_recipe = os.path.join(root, preset["eval_recipe"])
    runs = []
    os.makedirs(os.path.join(args.out, "runs"), exist_ok=True)
    for (layers, width, heads), pe in itertools.product(shapes, grid["pos_encoding"]):
        name = f"L{layers}_W{width}_H{heads}_{pe}"
        config = dict(preset["base"])
        config.update({"family": "causal_transitivity", "mode": "sft", "layers": layers, "width": width,
                       "heads": heads, "pos_encoding": pe, "seed": args.seed, "train_recipe": train_recipe,
                       "train_data": os.path.join(args.out, "data", "train"),
                       "train_scale": preset["train_scale"],
                       "run_dir": os.path.join(args.out, "runs", name), "resume": True})
        os.makedirs(config["run_dir"], exist_ok=True)
        dump(os.path.join(config["run_dir"], "config.json"), config)
        runs.append(name)
    deadline = int(args.deadline_s) if args.deadline_s else int(preset["deadline_s"])
    dump(os.path.join(args.out, "plan.json"),
         {"preset": preset, "preset_file": os.path.abspath(args.preset), "seed": args.seed, "runs": runs,
          "train_recipe": train_recipe, "eval_recipe": eval_recipe, "deadline_s": deadline,
          "curve_epochs": {r: epochs for r in runs}, "steps_per_epoch": {}})
    print(f"plan: {len(runs)} runs, curve epochs {epochs}, deadline {deadline} s")


def data_commands(args):
    p = load(os.path.join(args.out, "plan.json"))
    first = os.path.join(args.out, "runs", p["runs"][0], "config.json")
    data = os.path.join(args.out, "data")
    # the trainer builds the training split where every run's train_data points (reused while unchanged)
    print("set -e")
    print(f"'{args.verity}' train --config '{first}' --max-steps 0 --eval-tasks 0 --resume false --device cpu "
          f"--run-dir '{data}/prebuild'" if args.device_flag else
          f"'{args.verity}' train --config '{first}' --max-steps 0 --eval-tasks 0 --resume false "
          f"--run-dir '{data}/prebuild'")
    # every evaluation split whole (scale 1): disjoint_from then excludes every question of the whole
    # training recipe, so no evaluation item is in the training split at any train_scale
    print(f"[ -f '{data}/eval/.built' ] || {{ '{args.verity}' generate --recipe '{p['eval_recipe']}' "
          f"-o '{data}/eval' --threads 0 && touch '{data}/eval/.built'; }}")


def eval_set(args):
    p = load(os.path.join(args.out, "plan.json"))
    data = os.path.join(args.out, "data")
    per_split = int(p["preset"]["eval_per_split"])
    recipe = load(p["eval_recipe"])
    index, lines = {}, []
    for part in recipe["parts"]:
        with open(os.path.join(data, "eval", part["name"] + ".jsonl")) as f:
            for line in itertools.islice(f, per_split):
                # in_dist_sequential_len3 (named apart from the training parts) counts as sequential_len3
                index[json.loads(line)["id"]] = part["name"].removeprefix("in_dist_")
                lines.append(line if line.endswith("\n") else line + "\n")
    with open(os.path.join(data, "eval_tasks.jsonl"), "w") as f:
        f.writelines(lines)
    dump(os.path.join(data, "eval_index.json"), index)
    # steps per epoch: the built training split's size over each run's batch
    manifest = [m for m in os.listdir(os.path.join(data, "train")) if m.endswith(".manifest.json")
                and not m.startswith(tuple(part["name"] + "." for part in load(p["train_recipe"])["parts"]))]
    total = None
    for m in manifest:
        j = load(os.path.join(data, "train", m))
        if "parts" in j and "total" in j:
            total = int(j["total"])
    if not total:
        fail(f"no recipe manifest with a total in {data}/train")
    for run in p["runs"]:
        batch = int(load(os.path.join(args.out, "runs", run, "config.json")).get("batch_size", 32))
        p["steps_per_epoch"][run] = math.ceil(total / batch)
    p["train_tasks"] = total
    p["eval_items"] = len(lines)
    dump(os.path.join(args.out, "plan.json"), p)
    print(f"evaluation: {len(lines)} items ({per_split} per split); training split: {total} tasks")


def curve_steps(epoch, steps_per_epoch):
    return max(1, round(epoch * steps_per_epoch))


def curve_points(args):
    """'<epoch> <steps>' per line for one run: the study script trains to each and evaluates there."""
    p = load(os.path.join(args.out, "plan.json"))
    for epoch in p["curve_epochs"][args.run]:
        print(epoch, curve_steps(epoch, p["steps_per_epoch"][args.run]))


# ---------------- report ----------------

def wilson(correct, n, z=1.96):
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def cell(c, n):
    lo, hi = wilson(c, n)
    return {"correct": c, "tasks": n, "accuracy": c / n if n else 0.0, "ci95": [round(lo, 4), round(hi, 4)]}


def read_point(path_prefix, index):
    """Per split correct/total and the answers' spread at one curve point."""
    splits, answers = {}, {}
    with open(path_prefix + ".scores.jsonl") as f:
        for line in f:
            s = json.loads(line)
            split = index.get(s.get("task_id", ""))
            if split is None:
                continue
            c = splits.setdefault(split, [0, 0])
            c[0] += 1 if s.get("correct", False) else 0
            c[1] += 1
            kind_len = LENGTH_SPLIT.match(split)
            if kind_len and int(kind_len.group(2)) in IN_DISTRIBUTION:
                a = s.get("extracted_answer", "").strip().lower()
                answers[a] = answers.get(a, 0) + 1
    return splits, answers


def pooled(splits, kind, lengths):
    c = sum(splits.get(f"{kind}_len{n}", [0, 0])[0] for n in lengths)
    n = sum(splits.get(f"{kind}_len{n}", [0, 0])[1] for n in lengths)
    return cell(c, n)


def mean_accuracy(splits, kind, lengths):
    accs = [splits[f"{kind}_len{n}"][0] / splits[f"{kind}_len{n}"][1] for n in lengths
            if splits.get(f"{kind}_len{n}", [0, 0])[1] > 0]
    return sum(accs) / len(accs) if accs else 0.0


def summarise(splits, answers):
    total = sum(answers.values())
    share = max(answers.values()) / total if total else 1.0
    s = {"splits": {k: cell(*v) for k, v in sorted(splits.items())},
         "in_distribution": pooled(splits, "sequential", IN_DISTRIBUTION),
         "in_distribution_random_flip": pooled(splits, "random_flip", IN_DISTRIBUTION),
         "majority_answer_share_in_distribution": round(share, 4),
         "constant_answer": share >= CONSTANT_ANSWER_SHARE}
    near = [splits.get(f"sequential_len{n}", [0, 0]) for n in NEAR]
    s["min_sequential_7_10"] = min((c / n for c, n in near if n), default=0.0)
    s["mean_sequential_11_15"] = mean_accuracy(splits, "sequential", FAR)
    s["mean_random_flip_7_15"] = mean_accuracy(splits, "random_flip", NEAR + FAR)
    s["meets_target"] = s["min_sequential_7_10"] >= 0.80 and s["mean_sequential_11_15"] >= 0.70
    return s


def svg_chart(title, x_label, series, x_values):
    """A line chart: series = [(name, [(x, y)])], y in [0, 1]."""
    w, h, left, right, top, bottom = 640, 360, 56, 150, 36, 48
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]
    xs = sorted(set(x_values)) or [0, 1]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    px = lambda x: left + (x - x0) / (x1 - x0) * (w - left - right)
    py = lambda y: top + (1 - y) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for t in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{left}" y1="{py(t):.1f}" x2="{w - right}" y2="{py(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{t:.2f}</text>')
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle">{x}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 10}" text-anchor="middle">{x_label}</text>')
    out.append(f'<text x="14" y="{(top + h - bottom) / 2}" transform="rotate(-90 14 {(top + h - bottom) / 2})" '
               f'text-anchor="middle">accuracy</text>')
    out.append(f'<line x1="{left}" y1="{py(0.5):.1f}" x2="{w - right}" y2="{py(0.5):.1f}" stroke="#999" '
               f'stroke-dasharray="4 3"/>')
    for i, (name, points) in enumerate(series):
        colour = colours[i % len(colours)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        if len(points) > 1:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        for x, y in points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
        out.append(f'<text x="{w - right + 10}" y="{top + 16 * i + 10}" fill="{colour}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def fmt(c):
    return f"{c['accuracy']:.3f} [{c['ci95'][0]:.2f}, {c['ci95'][1]:.2f}]"


def report(args):
    out = args.out
    p = load(os.path.join(out, "plan.json"))
    index = load(os.path.join(out, "data", "eval_index.json"))
    lengths = sorted({int(LENGTH_SPLIT.match(s).group(2)) for s in set(index.values()) if LENGTH_SPLIT.match(s)})
    results = {"study": "axiomatic_paper_setup", "preset": p["preset"], "seed": p["seed"],
               "train_tasks": p.get("train_tasks"), "eval_items_per_split": p["preset"]["eval_per_split"],
               "deadline_s": p["deadline_s"], "runs": {}}
    os.makedirs(os.path.join(out, "curves"), exist_ok=True)
    for run in p["runs"]:
        curve_dir = os.path.join(out, "runs", run, "curve")
        points = []
        for epoch in p["curve_epochs"][run]:
            prefix = os.path.join(curve_dir, f"epoch_{epoch}")
            if not os.path.exists(prefix + ".scores.jsonl"):
                continue
            s = summarise(*read_point(prefix, index))
            s["epoch"] = epoch
            s["steps"] = curve_steps(epoch, p["steps_per_epoch"][run])
            if os.path.exists(prefix + ".time.json"):
                s["time"] = load(prefix + ".time.json")
            points.append(s)
        config = load(os.path.join(out, "runs", run, "config.json"))
        results["runs"][run] = {"config": {k: config[k] for k in ("layers", "width", "heads", "pos_encoding", "lr",
                                                                  "batch_size", "tokenizer", "lr_schedule")
                                           if k in config},
                                "curve": points, "final": points[-1] if points else None}
        if points:  # learning curves by length: one line per length group
            groups = [("3-6 (in distribution)", "sequential", IN_DISTRIBUTION), ("7-10", "sequential", NEAR),
                      ("11-15", "sequential", FAR)] + [(str(n), "sequential", (n,)) for n in lengths if n > 15] + \
                     [("flips 7-15", "random_flip", NEAR + FAR)]
            series = []
            for label, kind, ls in groups:
                pts = []
                for s in points:
                    accs = [s["splits"][f"{kind}_len{n}"]["accuracy"] for n in ls if f"{kind}_len{n}" in s["splits"]]
                    if accs:
                        pts.append((s["epoch"], sum(accs) / len(accs)))
                series.append((label, pts))
            with open(os.path.join(out, "curves", run + ".svg"), "w") as f:
                f.write(svg_chart(f"{run}: accuracy by chain length (sequential)", "epoch", series,
                                  [s["epoch"] for s in points]))
    # the best run: highest min over 7-10, then mean over 11-15; never a constant-answer model
    finals = {r: v["final"] for r, v in results["runs"].items() if v["final"]}
    eligible = {r: f for r, f in finals.items() if not f["constant_answer"]}
    best = max(eligible, key=lambda r: (eligible[r]["min_sequential_7_10"], eligible[r]["mean_sequential_11_15"]),
               default=None)
    results["best_run"] = best
    results["target_met"] = bool(best and eligible[best]["meets_target"])
    dump(os.path.join(out, "results.json"), results)
    write_markdown(out, p, results, lengths)
    print(f"report: {len(finals)} runs with results; best {best}; target met: {results['target_met']}")


def write_markdown(out, p, results, lengths):
    pr = p["preset"]
    md = [f"# Axiomatic training, paper setup: preset `{pr['name']}`\n",
          pr.get("description", "") + "\n",
          f"Training split: {results['train_tasks']} tasks of `{os.path.basename(p['train_recipe'])}` "
          f"(scale {pr['train_scale']}); evaluation: the first {pr['eval_per_split']} items of every split of "
          f"`{os.path.basename(p['eval_recipe'])}` (built whole, disjoint from the whole training recipe). "
          "Cells: greedy accuracy [95% Wilson interval]. In distribution: held-out sequential chains of 3-6 nodes.\n",
          "| run | epochs | in dist. 3-6 | " + " | ".join(f"len {n}" for n in lengths if n > 6) +
          " | min 7-10 | mean 11-15 | flips 7-15 | one answer |",
          "|---|---:|---:|" + "---:|" * len([n for n in lengths if n > 6]) + "---:|---:|---:|---:|"]
    for run, v in results["runs"].items():
        f = v["final"]
        if not f:
            md.append(f"| {run} | - | no curve point finished |" + " |" * (len(lengths) + 3))
            continue
        row = [run, str(f["epoch"]), fmt(f["in_distribution"])]
        row += [fmt(f["splits"][f"sequential_len{n}"]) if f"sequential_len{n}" in f["splits"] else "-"
                for n in lengths if n > 6]
        row += [f"{f['min_sequential_7_10']:.3f}", f"{f['mean_sequential_11_15']:.3f}",
                f"{f['mean_random_flip_7_15']:.3f}", f"{f['majority_answer_share_in_distribution']:.2f}"]
        md.append("| " + " | ".join(row) + " |")
    # the encodings side by side, one table per shape
    shapes = []
    for r in results["runs"]:
        if r.rsplit("_", 1)[0] not in shapes:
            shapes.append(r.rsplit("_", 1)[0])
    for shape in shapes:
        pes = [r for r in results["runs"] if r.rsplit("_", 1)[0] == shape and results["runs"][r]["final"]]
        if not pes:
            continue
        md += ["", f"## Positional encodings side by side ({shape}, last curve point)\n",
               "| split | " + " | ".join(r.rsplit("_", 1)[1] for r in pes) + " |",
               "|---|" + "---:|" * len(pes)]
        for kind in ("sequential", "random_flip"):
            for n in lengths:
                split = f"{kind}_len{n}"
                md.append(f"| {split} | " + " | ".join(
                    fmt(results["runs"][r]["final"]["splits"][split]) if split in results["runs"][r]["final"]["splits"]
                    else "-" for r in pes) + " |")
    best = results["best_run"]
    if best:
        f = results["runs"][best]["final"]
        md += ["", f"**Best run: {best}** (highest minimum over sequential 7-10; constant-answer runs excluded): "
               f"min 7-10 = {f['min_sequential_7_10']:.3f} (target >= 0.80), mean 11-15 = "
               f"{f['mean_sequential_11_15']:.3f} (target >= 0.70): target "
               f"{'met' if results['target_met'] else 'NOT met'}.\n"]
    else:
        md += ["", "**No best run**: every run's last curve point is a constant-answer model (one answer on >= 90% "
               "of the in-distribution items); the target (>= 0.80 on sequential 7-10, >= 0.70 mean 11-15) is not met.\n"]
    md += ["## Learning curves\n"]
    for run, v in results["runs"].items():
        if v["final"]:
            md.append(f"![{run}](curves/{run}.svg)")
    md += ["", "## Cost\n", "| run | curve points | training s | evaluation s |", "|---|---:|---:|---:|"]
    for run, v in results["runs"].items():
        t = [s.get("time", {}) for s in v["curve"]]
        md.append(f"| {run} | {len(t)} | {sum(x.get('train_seconds', 0) for x in t)} | "
                  f"{sum(x.get('eval_seconds', 0) for x in t)} |")
    with open(os.path.join(out, "results.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")


def publish(args):
    """Copies the light files (results, charts, the plan and every run's config) into a folder to commit."""
    import shutil
    os.makedirs(os.path.join(args.to, "curves"), exist_ok=True)
    os.makedirs(os.path.join(args.to, "configs"), exist_ok=True)
    for name in ("results.json", "results.md", "plan.json"):
        shutil.copy(os.path.join(args.out, name), os.path.join(args.to, name))
    for svg in os.listdir(os.path.join(args.out, "curves")):
        shutil.copy(os.path.join(args.out, "curves", svg), os.path.join(args.to, "curves", svg))
    for run in load(os.path.join(args.out, "plan.json"))["runs"]:
        shutil.copy(os.path.join(args.out, "runs", run, "config.json"), os.path.join(args.to, "configs", run + ".json"))
    print(f"published to {args.to}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("plan")
    a.add_argument("--preset", required=True)
    a.add_argument("--out", required=True)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--root", required=True)
    a.add_argument("--deadline-s")
    a = sub.add_parser("data-commands")
    a.add_argument("--out", required=True)
    a.add_argument("--verity", required=True)
    a.add_argument("--device-flag", action="store_true", help="the build's train has --device (data on the CPU)")
    for name in ("eval-set", "report"):
        sub.add_parser(name).add_argument("--out", required=True)
    a = sub.add_parser("curve-points")
    a.add_argument("--out", required=True)
    a.add_argument("--run", required=True)
    a = sub.add_parser("publish")
    a.add_argument("--out", required=True)
    a.add_argument("--to", required=True)
    args = ap.parse_args()
    {"plan": plan, "data-commands": data_commands, "eval-set": eval_set, "report": report,
     "curve-points": curve_points, "publish": publish}[args.cmd](args)


if __name__ == "__main__":
    main()
