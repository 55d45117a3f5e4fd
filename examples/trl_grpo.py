"""TRL's GRPOTrainer drawing tasks from Verity's curriculum and reporting every reward back to it.

    pip install --no-build-isolation .  &&  pip install trl datasets        # then: python3 examples/trl_grpo.py
    PYTHONPATH=tests/python/fakes:build/python python3 examples/trl_grpo.py # here: against the test's fake trl

What you change: MODEL (any causal LM TRL accepts), GRPOConfig (max_steps is required with an
iterable dataset), the families and policy. With several training processes, serve the curriculum
(`verity serve --curriculum run.sqlite --families ...`) and pass verity.RemoteCurriculum(url) instead.
"""

import os
import tempfile
from pathlib import Path

from trl import GRPOConfig, GRPOTrainer

import verity
import verity.trl

MODEL = os.environ.get("MODEL", "Qwen/Qwen2.5-0.5B-Instruct")

run_dir = Path(tempfile.mkdtemp())
curriculum = verity.Curriculum(run_dir / "curriculum.sqlite", families={"causal_transitivity": 1, "syllogism": 1},
                               policy="target", target=0.5)
train = verity.trl.CurriculumDataset(curriculum, batch=64, chat=True)
try:
    train_dataset = train.to_hf()          # datasets.IterableDataset, as TRL wants
except ImportError:
    train_dataset = train                  # the fake trl takes any iterable
trainer = GRPOTrainer(model=MODEL, reward_funcs=verity.trl.make_reward(curriculum),
                      args=GRPOConfig(output_dir=str(run_dir / "out"), max_steps=20, num_generations=8,
                                      per_device_train_batch_size=32),
                      train_dataset=train_dataset)
trainer.train()
stats = curriculum.statistics()
print(f"{stats['reports']} rewards reported; difficulty per family:",
      {f["family"]: round(f["difficulty"], 2) for f in stats["families"]})
curriculum.close()
