# The file verl's config points at (data.custom_cls.path and custom_reward_function.path).
from verity.verl import VerityDataset, compute_score, compute_score_batch  # noqa: F401
