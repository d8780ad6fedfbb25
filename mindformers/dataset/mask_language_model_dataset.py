"""MaskLanguageModelDataset: masked-LM (+ next-sentence) rows -> shuffled, sharded batches for BERT pre-training."""
from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['MaskLanguageModelDataset']


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class MaskLanguageModelDataset(CausalLanguageModelDataset):
    """The fill_mask task's dataset (upstream name). Rows are those of the bert create_pretraining_data.py tool
    (`input_ids, input_mask, segment_ids, next_sentence_labels, masked_lm_positions, masked_lm_ids,
    masked_lm_weights`, BertForPreTraining's argument order), `max_seq_length` tokens each (no `seq_length + 1`
    shift). Reading, sharding and batching are CausalLanguageModelDataset's; `masked_lm_weights` stays float32,
    the other columns become int32."""
    float_columns = ('masked_lm_weights',)
