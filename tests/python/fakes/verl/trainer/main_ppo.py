"""How verl's trainer builds the dataset (create_rl_dataset) and the reward function
(get_custom_reward_fn) from its config, and how the naive reward manager calls it."""

from functools import partial

from verl.utils.dataset.rl_dataset import Dataset, RLHFDataset
from verl.utils.import_utils import load_extern_object


class Config(dict):
    """Attribute access like OmegaConf's DictConfig."""

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        return Config(value) if isinstance(value, dict) else value


def create_rl_dataset(data_paths, data_config, tokenizer, processor, is_train=True, max_samples: int = -1):
    if "custom_cls" in data_config and data_config.custom_cls.get("path", None) is not None:
        dataset_cls = load_extern_object(data_config.custom_cls.path, data_config.custom_cls.name)
        if not issubclass(dataset_cls, Dataset):
            raise TypeError(f"The custom dataset class '{data_config.custom_cls.name}' must inherit from Dataset")
    else:
        dataset_cls = RLHFDataset
    return dataset_cls(data_files=data_paths, tokenizer=tokenizer, processor=processor, config=data_config,
                       max_samples=max_samples)


def get_custom_reward_fn(config):
    reward_fn_config = config.get("custom_reward_function") or {}
    file_path = reward_fn_config.get("path")
    if not file_path:
        return None
    raw_fn = load_extern_object(file_path, reward_fn_config.get("name"))
    reward_kwargs = dict(reward_fn_config.get("reward_kwargs", {}))
    return partial(raw_fn, **reward_kwargs)


def naive_reward(compute_score, items, responses):
    """NaiveRewardManager: one call per sample with these keyword names."""
    return [compute_score(data_source=item["data_source"], solution_str=response,
                          ground_truth=item["reward_model"]["ground_truth"], extra_info=item.get("extra_info"))
            for item, response in zip(items, responses)]
