"""Fake TRL: GRPOConfig / GRPOTrainer with TRL's reward-function calling convention (see README.md)."""

import itertools
import random
from dataclasses import dataclass


@dataclass
class GRPOConfig:
    output_dir: str = "out"
    max_steps: int = -1
    num_generations: int = 8
    per_device_train_batch_size: int = 8   # completions per step (prompts = this / num_generations)
    num_train_epochs: int = 1
    seed: int = 0


class _FakePolicy:
    """Stands in for the model: answers Yes / No at random in the requested tag."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def __call__(self, prompt):
        return f"Thinking...\n<answer>{self.rng.choice(['Yes', 'No'])}</answer>"


class GRPOTrainer:
    def __init__(self, model, reward_funcs, args=None, train_dataset=None, **kwargs):
        if train_dataset is None:
            raise ValueError("train_dataset is required")
        self.args = args or GRPOConfig()
        is_iterable = not hasattr(train_dataset, "__len__")
        if is_iterable and self.args.max_steps <= 0:
            raise ValueError("an iterable train_dataset needs args.max_steps > 0 (as in TRL)")
        self.model = model if callable(model) else _FakePolicy(self.args.seed)
        self.reward_funcs = reward_funcs if isinstance(reward_funcs, list) else [reward_funcs]
        self.train_dataset = train_dataset
        self.log = []  # per step: mean reward of each reward function

    def train(self):
        prompts_per_step = max(1, self.args.per_device_train_batch_size // self.args.num_generations)
        rows = iter(self.train_dataset)
        steps = self.args.max_steps if self.args.max_steps > 0 else None
        for _ in itertools.count() if steps is None else range(steps):
            batch = list(itertools.islice(rows, prompts_per_step))
            if not batch:
                break
            inputs = [row for row in batch for _ in range(self.args.num_generations)]
            prompts = [x["prompt"] for x in inputs]
            completions = []
            for prompt in prompts:
                text = self.model(prompt if isinstance(prompt, str) else prompt[-1]["content"])
                # conversational prompts get conversational completions, as in TRL
                completions.append(text if isinstance(prompt, str) else [{"role": "assistant", "content": text}])
            completion_ids = [[ord(c) % 256 for c in (t if isinstance(t, str) else t[0]["content"])] for t in completions]
            keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
            reward_kwargs = {key: [example[key] for example in inputs] for key in keys}
            reward_kwargs["trainer_state"] = {"global_step": len(self.log)}
            step = []
            for f in self.reward_funcs:
                rewards = f(prompts=prompts, completions=completions, completion_ids=completion_ids, **reward_kwargs)
                assert len(rewards) == len(prompts), "a reward function must return one reward per completion"
                step.append(sum(rewards) / len(rewards))
            self.log.append(step)
        return self.log
