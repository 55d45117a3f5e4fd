"""RLHFDataset's constructor, reading and item shapes (verl/utils/dataset/rl_dataset.py), minus the
tokenisation: items carry raw_prompt and a fake input_ids from the tokenizer passed in."""


class Dataset:  # stands in for torch.utils.data.Dataset
    pass


class RLHFDataset(Dataset):
    def __init__(self, data_files, tokenizer, config, processor=None, max_samples: int = -1):
        if not isinstance(data_files, (list, tuple)):
            data_files = [data_files]
        self.data_files = list(data_files)
        self.tokenizer = tokenizer
        self.processor = processor
        self.config = config
        self.max_samples = max_samples
        self.prompt_key = config.get("prompt_key", "prompt")
        self.filter_overlong_prompts = config.get("filter_overlong_prompts", True)
        self._read_files_and_tokenize()

    def _read_files_and_tokenize(self):
        raise NotImplementedError("the fake reads no parquet (verl uses datasets.load_dataset('parquet'))")

    def maybe_filter_out_long_prompts(self, dataframe):
        return dataframe

    def __len__(self):
        return len(self.dataframe)

    def __getitem__(self, item):
        row_dict = dict(self.dataframe[item])
        messages = row_dict.pop(self.prompt_key)
        assert isinstance(messages, list) and messages[0]["role"] == "user", "verl expects a chat message list"
        row_dict["raw_prompt"] = messages
        row_dict["input_ids"] = self.tokenizer(messages[-1]["content"])
        extra = row_dict.get("extra_info") or {}
        row_dict["index"] = extra.get("index", 0)
        return row_dict
