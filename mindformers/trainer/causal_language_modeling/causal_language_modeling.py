"""CausalLanguageModelingTrainer: the `text_generation` task (pre-train, fine-tune, perplexity or generation
metrics, generate)."""
from mindformers.core.metric.text_generation_metrics import GENERATION_METRICS
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.base_trainer import BaseTrainer, read_predict_inputs


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class CausalLanguageModelingTrainer(BaseTrainer):
    """Trainer for decoder-only language models."""

    def __init__(self, model_name=None):
        super().__init__('text_generation', model_name)

    def _evaluate_with(self, config, network, dataset, metrics):
        """PerplexityMetric runs the loss; ADGENMetric / EmF1Metric generate for each prompt and score the text."""
        if not any(name in GENERATION_METRICS for name in metrics):
            return super()._evaluate_with(config, network, dataset, metrics)
        return self.evaluate_by_generation(config, network, dataset, metrics)

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Generate for a string, a list of strings, or a .txt file (one prompt per line).

        Returns a list with one {'text_generation_text': [...]} dict per batch, as the upstream
        text_generation pipeline does, and writes str(result) to `save_file`
        (default text_generation_result.txt).
        """
        prompts = read_predict_inputs(input_data if input_data is not None else config.input_data)
        batch_size = int(batch_size or config.predict_batch_size or 1)
        if tokenizer is None:
            tokenizer = self.build_task_tokenizer(config)
        if network is None:
            model_config = config.model.model_config
            if model_config.use_past and (model_config.batch_size or 1) < batch_size:
                # the KV cache is allocated for model_config.batch_size rows
                model_config.batch_size = batch_size
            network = self.create_network(config)
        if config.load_checkpoint:
            self.load_weights(config, network)
        network.set_train(False)
        generate_kwargs = {key: kwargs[key] for key in ('max_length', 'max_new_tokens', 'do_sample', 'top_k',
                                                        'top_p', 'temperature', 'repetition_penalty', 'seed')
                           if kwargs.get(key) is not None}
        if 'do_sample' not in generate_kwargs and config.model and config.model.model_config and \
                config.model.model_config.do_sample is not None:
            generate_kwargs['do_sample'] = config.model.model_config.do_sample
        if tokenizer.eos_token_id is not None:
            generate_kwargs.setdefault('eos_token_id', tokenizer.eos_token_id)
        if tokenizer.pad_token_id is not None:
            generate_kwargs.setdefault('pad_token_id', tokenizer.pad_token_id)
        results = []
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start:start + batch_size]
            ids = [tokenizer(text)['input_ids'] for text in chunk]
            outputs = network.generate(ids, **generate_kwargs)
            texts = [tokenizer.decode(out.tolist(), skip_special_tokens=True) for out in outputs]
            results.append({'text_generation_text': texts})
        self.save_predict_results(config, results)
        return results

