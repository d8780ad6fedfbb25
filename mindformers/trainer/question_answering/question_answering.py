"""QuestionAnsweringTrainer: the `question_answering` task (extract answers from a context, SQuAD EM/F1, predict)."""
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.text_classfication.text_classification import TextClassificationTrainer


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class QuestionAnsweringTrainer(TextClassificationTrainer):
    """Trainer for BertForQuestionAnswering: SQuAD-format questions (SQuADDataLoader), exact match and F1 of the
    extracted answers (SQuADMetric, logged as `QA Metric = {...}`) in eval, answers with their character offsets
    in predict. Rows longer than the model's seq_length stop with one line, as for text classification."""
    default_metric = 'SQuADMetric'

    task_name = 'question_answering'
    metric_name = 'QA Metric'

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Answer "context - question" strings (a string, a list, or a .txt file with one per line) through the
        question_answering pipeline: per input the `top_k` best `{text, score, start, end}`, written to
        `save_file` (default question_answering_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        texts, network, tokenizer = self.prepare_predict(config, input_data, network, tokenizer)
        options = {key: kwargs[key] for key in ('top_k', 'doc_stride', 'max_question_len', 'n_best_size',
                                                'max_answer_len') if kwargs.get(key) is not None}
        reader = pipeline('question_answering', model=network, tokenizer=tokenizer, **options)   # windows of seq_length
        results = reader(texts, batch_size=int(batch_size or config.predict_batch_size or 1))
        self.save_predict_results(config, results)
        return results
