"""MaskedLanguageModelingTrainer: the `fill_mask` task (BERT pre-training, masked-LM perplexity, fill-mask predict)."""
from mindformers.dataset.mindrecord_files import column_range
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.text_classfication.text_classification import TextClassificationTrainer

# token ids are checked on the first rows only: a pre-training set can hold millions, and rows made with another
# vocabulary show it at once
CHECKED_ROWS = 20000


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class MaskedLanguageModelingTrainer(TextClassificationTrainer):
    """Trainer for BertForPreTraining / BertForMaskedLM on MaskLanguageModelDataset rows (the bert
    create_pretraining_data.py tool): train on masked-LM (+ next-sentence) loss, eval the masked-LM perplexity
    (MLMPerplexityMetric, logged as `MLM Metric = {...}`), predict fills [MASK] through pipeline('fill_mask').
    Rows longer than the model's seq_length, or with token ids outside its vocabulary, stop with one line."""
    default_metric = 'MLMPerplexityMetric'

    task_name = 'fill_mask'
    metric_name = 'MLM Metric'

    def _check_record_length(self, dataset, network, section):
        super()._check_record_length(dataset, network, section)
        vocab_size = getattr(getattr(network, 'config', None), 'vocab_size', None)
        files = getattr(dataset, 'record_files', None)
        columns = getattr(dataset, 'model_input_columns', None) or []
        if not files or not vocab_size:
            return
        for column in ('input_ids', 'masked_lm_ids'):
            if column not in columns:
                continue
            low, high = column_range(files, column, limit=CHECKED_ROWS)
            if high is not None and high >= vocab_size:
                raise DatasetError(f"{section} data has token id {high} in column '{column}' but the model's "
                                   f"vocab_size is {vocab_size}; make the rows with the model's vocabulary or set "
                                   f"model.model_config.vocab_size")
            if low is not None and low < 0 and column == 'input_ids':
                raise DatasetError(f"{section} data has token id {low} in column 'input_ids'; ids must be >= 0")

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Fill the [MASK] tokens of a string, a list of strings, or a .txt file (one text per line) through the
        fill_mask pipeline: per text the `top_k` (default 5) best `{score, token, token_str, sequence}`, written
        to `save_file` (default fill_mask_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        texts, network, tokenizer = self.prepare_predict(config, input_data, network, tokenizer)
        options = {key: kwargs[key] for key in ('top_k',) if kwargs.get(key) is not None}
        filler = pipeline('fill_mask', model=network, tokenizer=tokenizer)
        results = filler(texts, batch_size=int(batch_size or config.predict_batch_size or 1), **options)
        self.save_predict_results(config, results)
        return results
