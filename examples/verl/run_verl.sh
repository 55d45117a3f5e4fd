#!/usr/bin/env bash
# verl's GRPO on a served Verity curriculum. What you change: the model path, GPUs, batch sizes.
set -euo pipefail
verity serve --port 8080 --curriculum run.sqlite --families causal_transitivity,syllogism --policy window &
python3 -m verl.trainer.main_ppo algorithm.adv_estimator=grpo \
  data.train_files=[unused.parquet] data.val_files=[val.parquet] \
  +data.verity_curriculum=http://127.0.0.1:8080 +data.verity_size=100000 \
  data.custom_cls.path=examples/verl/my_verity.py data.custom_cls.name=VerityDataset \
  custom_reward_function.path=examples/verl/my_verity.py custom_reward_function.name=compute_score \
  +custom_reward_function.reward_kwargs.curriculum_url=http://127.0.0.1:8080 \
  actor_rollout_ref.model.path=Qwen/Qwen2.5-0.5B-Instruct trainer.n_gpus_per_node=1
