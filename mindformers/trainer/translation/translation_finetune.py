"""TranslationTrainer: the `translation` task (fine-tune an encoder-decoder, BLEU of its translations, predict)."""
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.base_trainer import BaseTrainer, read_predict_inputs


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class TranslationTrainer(BaseTrainer):
    """Trainer for T5ForConditionalGeneration on source/target pairs (TranslationDataset). Beyond upstream, whose
    translation trainer has no evaluate: eval generates a translation of every source row and scores it against
    the target with corpus BLEU (BleuMetric, logged as `BLEU = {...}`)."""
    default_metric = 'BleuMetric'
    metric_name = 'BLEU'

    def __init__(self, model_name=None):
        super().__init__('translation', model_name)

    def _evaluate_with(self, config, network, dataset, metrics):
        return self.evaluate_by_generation(config, network, dataset, metrics)

    @staticmethod
    def _check_record_length(dataset, network, section):
        """Source rows must fit the encoder (seq_length) and target rows the decoder (max_decode_length)."""
        config = getattr(network, 'config', None)
        for what, length, field in (('source', getattr(dataset, 'record_length', None), 'seq_length'),
                                    ('target', getattr(dataset, 'target_length', None), 'max_decode_length')):
            limit = getattr(config, field, None)
            if length is not None and limit is not None and length > limit:
                key = 'src_max_length' if what == 'source' else 'tgt_max_length'
                raise DatasetError(f"{section} {what} rows hold {length} tokens but the model's {field} is {limit}; "
                                   f"set the dataset's tokenizer.{key} to at most {limit} or "
                                   f"model.model_config.{field} to {length}")

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Translate a string, a list of strings, or a .txt file (one source per line, with its task prefix)
        through the translation pipeline: one `{'translation_text': [...]}` per batch, written to `save_file`
        (default translation_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        texts = read_predict_inputs(input_data if input_data is not None else config.input_data)
        if tokenizer is None:
            tokenizer = self.build_task_tokenizer(config)
        if network is None:
            model_config = config.model.model_config
            batch = int(batch_size or config.predict_batch_size or 1)
            if model_config.use_past and (model_config.batch_size or 1) < batch:
                model_config.batch_size = batch     # the KV cache is allocated for model_config.batch_size rows
            network = self.create_network(config)
        if config.load_checkpoint:
            self.load_weights(config, network)
        network.set_train(False)
        options = {key: kwargs[key] for key in ('max_length', 'max_new_tokens', 'do_sample', 'top_k', 'top_p',
                                                'num_beams', 'repetition_penalty', 'seed')
                   if kwargs.get(key) is not None}
        options.setdefault('max_length', int(network.config.max_decode_length))
        translator = pipeline('translation', model=network, tokenizer=tokenizer)
        results = translator(texts, batch_size=int(batch_size or config.predict_batch_size or 1), **options)
        self.save_predict_results(config, results)
        return results


# upstream's T5 YAMLs write `trainer: {type: translation}`
MindFormerRegister.register_cls(TranslationTrainer, MindFormerModuleType.TRAINER, alias='translation')
