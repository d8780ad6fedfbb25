"""TextClassificationDataset: padded token rows with one label each -> shuffled, sharded int32 batches."""
from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['TextClassificationDataset']


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class TextClassificationDataset(CausalLanguageModelDataset):
    """The text_classification task's dataset (upstream columns `input_ids, attention_mask, labels`, as the
    gpt2 txtcls_dataset_to_mindrecord.py tool writes them). Reading, sharding, batching and the int32 cast are
    those of CausalLanguageModelDataset; rows are `max_length` tokens (no `seq_length + 1` shift) and each
    `labels` entry holds one class id."""
