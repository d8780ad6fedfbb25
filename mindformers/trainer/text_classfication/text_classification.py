"""TextClassificationTrainer: the `text_classification` task (fine-tune a classifier, Top1 accuracy, predict)."""
from mindformers.dataset.mindrecord_files import column_range
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.base_trainer import BaseTrainer, read_predict_inputs


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class TextClassificationTrainer(BaseTrainer):
    """Trainer for sequence classifiers (BertForSequenceClassification, GPT2ForSequenceClassification): rows of
    token ids with one label."""
    default_metric = 'Accuracy'
    lowest_label = 0   # token classification rows may also hold -100 (ignored positions)

    task_name = 'text_classification'
    metric_name = 'Top1 Accuracy'

    def __init__(self, model_name=None):
        super().__init__(self.task_name, model_name)

    def _check_record_length(self, dataset, network, section):
        """Rows are whole (padded) texts: at most seq_length tokens, the positions the model has; and every label
        must be one of the model's classes (0..num_labels-1)."""
        config = getattr(network, 'config', None)
        record_length = getattr(dataset, 'record_length', None)
        seq_length = getattr(config, 'seq_length', None)
        if record_length is not None and seq_length is not None and record_length > seq_length:
            raise DatasetError(f"{section} rows hold {record_length} tokens but the model's seq_length is "
                               f"{seq_length}; re-run the txtcls data tool with a length of {seq_length} "
                               f"(--max_length / --max_seq_length) or set model.model_config.seq_length "
                               f"{record_length}")
        num_labels = getattr(config, 'num_labels', None)
        label_count = getattr(dataset, 'label_count', None)   # labels a text loader can produce
        if num_labels and label_count and label_count > num_labels:
            raise DatasetError(f"{section} data has {label_count} labels but the model has num_labels {num_labels}; "
                               f"set model.model_config.num_labels {label_count}")
        files = getattr(dataset, 'record_files', None)
        columns = getattr(dataset, 'model_input_columns', None) or []
        label_column = next((c for c in ('label_ids', 'labels', 'label_id') if c in columns), None)
        if not files or label_column is None or not num_labels:
            return
        low, high = column_range(files, label_column)
        if low is not None and (low < self.lowest_label or high >= num_labels):
            bad = high if high >= num_labels else low
            raise DatasetError(f"{section} data has label {bad} in column '{label_column}' but the model has "
                               f"num_labels {num_labels} (ids 0..{num_labels - 1}); set "
                               f"model.model_config.num_labels to the number of classes in the data")

    def prepare_predict(self, config, input_data, network, tokenizer):
        """(texts, network in eval mode with the checkpoint's weights, tokenizer) of a predict call."""
        texts = read_predict_inputs(input_data if input_data is not None else config.input_data)
        if tokenizer is None:
            tokenizer = self.build_task_tokenizer(config)
        if network is None:
            network = self.create_network(config)
        if config.load_checkpoint:
            self.load_weights(config, network)
        network.set_train(False)
        return texts, network, tokenizer

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Classify a string, a list of strings, or a .txt file (one text per line) through the
        text_classification pipeline: one `[{'label': str, 'score': float}, ...]` list per text, best first
        (`top_k` keeps the first k), written to `save_file` (default text_classification_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        texts, network, tokenizer = self.prepare_predict(config, input_data, network, tokenizer)
        options = {key: kwargs[key] for key in ('top_k', 'dataset') if kwargs.get(key) is not None}
        classifier = pipeline('text_classification', model=network, tokenizer=tokenizer,
                              max_length=network.config.seq_length, padding='max_length')
        results = classifier(texts, batch_size=int(batch_size or config.predict_batch_size or 1), **options)
        self.save_predict_results(config, results)
        return results
