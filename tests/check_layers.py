#!/usr/bin/env python3
"""Fails when an #include points up the layers (docs/architecture.md) or torch leaks below the trainer.

    python3 tests/check_layers.py [ROOT]      check the tree at ROOT (default: this repository)
    python3 tests/check_layers.py --self-test prove the checker fails on an upward include

A file may include headers of its own folder and of any layer below it; layers of the same rank
(generators and verifiers, solvers and curriculum, cli and python) never include each other. Every
folder that holds C++ must be in LAYERS, so a new folder has to be placed before it builds.
"""
import os
import re
import sys
import tempfile

# folder (relative to the root) -> rank; the longest matching prefix decides.
LAYERS = {
    "schemas": 0,
    "tasks": 1,
    "solvers": 2,
    "curriculum": 2,
    "generators": 3,
    "verifiers": 3,
    "tasks/registry": 4,
    "service": 5,
    "reports": 6,
    "trainer": 7,
    "experiments": 8,
    "cli": 9,
    "python": 9,
    "tests": 10,
    "bench": 10,
}
TORCH_ALLOWED = ("trainer", "experiments")  # the only folders whose files may include torch
SKIPPED = ("build", ".git", "docs", "datasets", "configs", "scripts", "node_modules")
SOURCE = re.compile(r"\.(h|hpp|cc|cpp)$")
LOCAL_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
TORCH_INCLUDE = re.compile(r"^\s*#\s*include\s+<(torch|ATen|c10)/")


def layer_of(path):
    """The layer folder of a path relative to the root, or None when no layer holds it."""
    best = None
    for folder in LAYERS:
        if path == folder or path.startswith(folder + "/"):
            if best is None or len(folder) > len(best):
                best = folder
    return best


def check(root):
    problems = []
    for directory, subdirs, files in os.walk(root):
        rel_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        if rel_dir == ".":
            subdirs[:] = [d for d in subdirs if d not in SKIPPED and not d.startswith("build")]
            continue
        for name in sorted(files):
            if not SOURCE.search(name):
                continue
            rel = f"{rel_dir}/{name}"
            own = layer_of(rel)
            if own is None:
                problems.append(f"{rel}: folder '{rel_dir}' is in no layer: add it to LAYERS in tests/check_layers.py "
                                "and docs/architecture.md")
                continue
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as source:
                for number, line in enumerate(source, 1):
                    if TORCH_INCLUDE.match(line) and own not in TORCH_ALLOWED and LAYERS[own] < LAYERS["tests"]:
                        problems.append(f"{rel}:{number}: includes torch; only {', '.join(TORCH_ALLOWED)} may")
                    match = LOCAL_INCLUDE.match(line)
                    if not match:
                        continue
                    target = layer_of(match.group(1))
                    if target is None or target == own:
                        continue  # same folder, or a file beside the source / generated (verity.pb.h is schemas)
                    if LAYERS[target] >= LAYERS[own]:
                        problems.append(f"{rel}:{number}: includes \"{match.group(1)}\": {own}/ (rank {LAYERS[own]}) "
                                        f"may not include {target}/ (rank {LAYERS[target]}); move the shared code down "
                                        "(see docs/architecture.md)")
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        write("solvers/a.h", '#include "tasks/generator.h"\n#include "solvers/b.h"\n')
        write("tasks/registry/registry.cpp", '#include "generators/generators.h"\n')
        assert check(root) == [], check(root)
        write("generators/x.cpp", '#include "verifiers/label_verifier.h"\n')      # sibling
        write("solvers/c.cpp", '#include "tasks/registry/registry.h"\n')          # up
        write("service/s.cpp", "#include <torch/torch.h>\n")                      # torch below trainer
        write("newdir/n.cpp", "\n")                                               # unplaced folder
        found = check(root)
        expected = ["generators/x.cpp:1", "newdir/n.cpp", "service/s.cpp:1", "solvers/c.cpp:1"]
        for prefix in expected:
            assert any(p.startswith(prefix) for p in found), f"not caught: {prefix}; got {found}"
        assert len(found) == len(expected), found
    print("layer checker self-test: upward, sibling, torch and unplaced-folder includes are caught")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} include(s) break the layers", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
