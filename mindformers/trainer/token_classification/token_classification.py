"""TokenClassificationTrainer: the `token_classification` task (tag entities in text, EntityScore, predict)."""
from mindformers.dataset.labels import cluener_labels
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.text_classfication.text_classification import TextClassificationTrainer


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class TokenClassificationTrainer(TextClassificationTrainer):
    """Trainer for BertForTokenClassification: texts with a BIOS label per character (CLUENER), span
    precision / recall / F1 (EntityScore) in eval, entity groups in predict. Labels outside the model's
    num_labels stop train and eval with one line, as for text classification."""
    default_metric = 'EntityScore'
    lowest_label = -100

    task_name = 'token_classification'
    metric_name = 'Entity Metric'

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Tag a string, a list of strings, or a .txt file (one text per line) through the token_classification
        pipeline: one list of `{entity_group, start, end, score, word}` per text, written to `save_file`
        (default token_classification_result.txt). Tag names are CLUENER's unless `id2label` is given."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        texts, network, tokenizer = self.prepare_predict(config, input_data, network, tokenizer)
        tagger = pipeline('token_classification', model=network, tokenizer=tokenizer,
                          id2label=kwargs.get('id2label') or cluener_labels, max_length=network.config.seq_length,
                          padding='max_length')
        results = tagger(texts, batch_size=int(batch_size or config.predict_batch_size or 1))
        self.save_predict_results(config, results)
        return results
