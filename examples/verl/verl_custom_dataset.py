"""verl's way of loading examples/verl/my_verity.py, run against the test's fake verl (no GPU, no torch):
builds the dataset as verl's create_rl_dataset does, scores stand-in responses as its reward manager
does, and reports the rewards to a served curriculum.

    PYTHONPATH=tests/python/fakes:build/python python3 examples/verl/verl_custom_dataset.py [VERITY_BINARY]
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from verl.trainer.main_ppo import Config, create_rl_dataset, get_custom_reward_fn, naive_reward

here = Path(__file__).resolve().parent
binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VERITY_BINARY", "verity")
tmp = Path(tempfile.mkdtemp())
server = subprocess.Popen([binary, "serve", "--port", "0", "--curriculum", str(tmp / "run.sqlite"),
                           "--families", "causal_transitivity,syllogism", "--policy", "window"],
                          stdout=subprocess.PIPE, text=True)
url = "http://" + server.stdout.readline().split("http://")[1].split()[0]
try:
    config = Config({"data": {"prompt_key": "prompt", "verity_curriculum": url, "verity_size": 1000,
                              "custom_cls": {"path": str(here / "my_verity.py"), "name": "VerityDataset"}},
                     "custom_reward_function": {"path": str(here / "my_verity.py"), "name": "compute_score",
                                                "reward_kwargs": {"curriculum_url": url}}})
    dataset = create_rl_dataset(["unused.parquet"], config.data, tokenizer=lambda text: [len(text)], processor=None)
    items = [dataset[i] for i in range(16)]
    compute_score = get_custom_reward_fn(config)
    responses = [f"<answer>{item['reward_model']['ground_truth']}</answer>" for item in items]  # stand-in rollouts
    results = naive_reward(compute_score, items, responses)
    print(f"{len(dataset)} items (curriculum mode); scored {len(results)}:", [r["score"] for r in results])
    import urllib.request
    state = json.loads(urllib.request.urlopen(url + "/curriculum").read())
    print(f"the curriculum holds {state['reports']} reports")
finally:
    server.terminate()
    server.wait()
