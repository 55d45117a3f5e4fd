"""A Reasoning-Gym-style loop on Verity, then the same loop with an adaptive curriculum.

Code written for Reasoning Gym runs with one line changed: `import verity as reasoning_gym` (or
`from verity import create_dataset`). Dataset names are Verity's families (`verity.families()`);
knobs are `verity.describe(name)["knobs"]`, `level=` picks a rung of the family's 1..10 ladder.

    PYTHONPATH=build/python python3 examples/reasoning_gym_loop.py       (after `pip install .`: python3 examples/...)

What you change: `my_model` below -> your model's generate call.
"""

import random
import tempfile
from pathlib import Path

import verity as reasoning_gym  # was: import reasoning_gym

rng = random.Random(0)


def my_model(question: str, gold: str, level: int) -> str:
    """Stand-in for your model (it peeks at the gold answer to act like one): right 90% of the time at
    level 1 and 10 points less per level above it."""
    right = rng.random() < 0.9 - 0.1 * (level - 1)
    return f"<answer>{gold if right else 'I do not know'}</answer>"


# 1. Reasoning Gym's own loop, unchanged.
data = reasoning_gym.create_dataset("syllogism", size=10, seed=42)
for i, x in enumerate(data):
    print(f'{i}: q="{x["question"][:60]}...", a="{x["answer"]}"')
    assert data.score_answer(answer=x["answer"], entry=x) == 1.0

# 2. The same with the curriculum choosing each task's level from the rewards reported back.
with tempfile.TemporaryDirectory() as tmp:
    curriculum = reasoning_gym.Curriculum(Path(tmp) / "curriculum.sqlite",
                                          families={"syllogism": 1, "causal_transitivity": 1},
                                          policy="window", window=32)  # promote at >= 0.7, demote at <= 0.3
    for step in range(40):
        tasks = curriculum.next_batch(16)
        completions = [my_model(t["prompt"], t["answer"], t["level"]) for t in tasks]
        rewards = [s["reward"] for s in reasoning_gym.score_batch(tasks, completions)]
        curriculum.report([t["id"] for t in tasks], rewards)
    print("levels after 40 steps:", curriculum.levels())
    for change in curriculum.level_changes():
        print(f"  report {change['step']}: {change['family']} {change['from_level']} -> {change['to_level']} "
              f"(window mean {change['evidence']:.2f})")
    curriculum.close()
