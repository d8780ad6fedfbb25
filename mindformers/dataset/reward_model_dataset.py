"""RewardModelDataset: preference pairs (a chosen and a rejected response per prompt) from MindRecord files, batched
into the reward model's inputs."""
import copy

import numpy as np
import mindspore as ms
from mindspore.dataset.transforms import TypeCast

from mindformers.dataset.base_dataset import BaseDataset
from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister
from mindformers.tools.utils import get_real_group_size, get_real_rank

__all__ = ['RewardModelDataset']

INPUT_COLUMNS = ['chosen_input_ids', 'chosen_attention_mask', 'rejected_input_ids', 'rejected_attention_mask',
                 'position_id', 'loss_mask', 'end_ind']
OUTPUT_COLUMNS = ['input_ids', 'position_id', 'attention_mask', 'loss_mask', 'end_ind']


def pair_batch(pad_id):
    """The map from a batch of B stored pairs to the model's inputs: input_ids / attention_mask (2B, S) the chosen
    rows then the rejected ones, position_id repeated, loss_mask (B, S) as stored, end_ind (2B,) the count of
    non-pad ids of each row (the stored end_ind is recomputed, as upstream)."""
    def build(chosen_ids, chosen_mask, rejected_ids, rejected_mask, position_id, loss_mask, end_ind):
        del end_ind
        input_ids = np.concatenate([chosen_ids, rejected_ids], 0)
        return (input_ids, np.concatenate([position_id, position_id], 0),
                np.concatenate([chosen_mask, rejected_mask], 0), loss_mask,
                (input_ids != pad_id).sum(-1).astype(np.int32))
    return build


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class RewardModelDataset(BaseDataset):
    """A factory (constructing it returns the MindSpore dataset), as upstream's datasets: `data_loader` a MindDataset
    section (dataset_dir / dataset_files) whose records hold the seven `input_columns` (chosen/rejected ids and
    masks, position_id, loss_mask, end_ind); batches of `batch_size` pairs become the five `output_columns`
    input_ids, position_id, attention_mask, loss_mask, end_ind (BloomRewardModel's arguments, in its order).
    `pad_token_id` (default 2) marks padding when end_ind is counted."""

    def __new__(cls, dataset_config=None, data_loader=None, tokenizer=None, max_length=None, input_columns=None,
                output_columns=None, batch_size=8, drop_remainder=True, repeat=1, pad_token_id=None, seed=0,
                prefetch_size=1, numa_enable=False, auto_tune=False, filepath_prefix='./autotune',
                autotune_per_step=10, profile=False, **kwargs):
        config = MindFormerConfig(**copy.deepcopy(dict(cls.check_dataset_config(dataset_config, locals()))))
        cls.init_dataset_config(config)
        if config.data_loader is None:
            raise DatasetError("RewardModelDataset: the dataset config has no data_loader section")
        loader = MindFormerConfig(**dict(config.data_loader))
        if loader.type != 'MindDataset':
            raise DatasetError(f"RewardModelDataset reads MindRecord pairs (data_loader type MindDataset), got "
                               f"{loader.type!r}; write the tokenized pairs to MindRecord first")
        input_columns = list(config.input_columns or INPUT_COLUMNS)
        if len(input_columns) != len(INPUT_COLUMNS):
            raise DatasetError(f"RewardModelDataset: input_columns must name the {len(INPUT_COLUMNS)} stored columns "
                               f"{INPUT_COLUMNS} (in that role order), got {input_columns}")
        device_num = get_real_group_size()
        shard = {'num_shards': device_num, 'shard_id': get_real_rank()} if device_num > 1 else {}
        dataset, _ = CausalLanguageModelDataset._open_source(config, loader, input_columns, shard)
        batch = int(config.batch_size or 1)
        dataset = dataset.batch(batch, drop_remainder=config.drop_remainder is not False)
        pad_id = 2 if config.pad_token_id is None else int(config.pad_token_id)
        dataset = dataset.map(operations=pair_batch(pad_id), input_columns=input_columns,
                              output_columns=OUTPUT_COLUMNS)
        for column, dtype in (('input_ids', ms.int32), ('position_id', ms.int32), ('attention_mask', ms.float32),
                              ('loss_mask', ms.float32), ('end_ind', ms.int32)):
            dataset = dataset.map(operations=TypeCast(dtype), input_columns=column)
        dataset = dataset.project(list(config.output_columns or OUTPUT_COLUMNS))
        if config.repeat and int(config.repeat) > 1:
            dataset = dataset.repeat(int(config.repeat))
        dataset.model_input_columns = list(config.output_columns or OUTPUT_COLUMNS)
        logger.info("RewardModelDataset: %d batches of %d pairs", dataset.get_dataset_size(), batch)
        return dataset
