"""CausalLanguageModelingTrainer: the `text_generation` task (pre-train, fine-tune, perplexity, generate)."""
import os

from mindformers.tools.checkpoint import write_error
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.tools.utils import get_real_rank
from mindformers.trainer.base_trainer import BaseTrainer


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class CausalLanguageModelingTrainer(BaseTrainer):
    """Trainer for decoder-only language models."""

    def __init__(self, model_name=None):
        super().__init__('text_generation', model_name)

    def train(self, config=None, network=None, dataset=None, optimizer=None, wrapper=None, callbacks=None,
              **kwargs):
        return self.training_process(config, network=network, dataset=dataset, optimizer=optimizer,
                                     wrapper=wrapper, callbacks=callbacks, **kwargs)

    def evaluate(self, config=None, network=None, dataset=None, **kwargs):
        return self.evaluate_process(config, network=network, dataset=dataset, **kwargs)

    def predict(self, config=None, input_data=None, network=None, tokenizer=None, batch_size=None, **kwargs):
        """Generate for a string, a list of strings, or a .txt file (one prompt per line).

        Returns a list with one {'text_generation_text': [...]} dict per batch, as the upstream
        text_generation pipeline does, and writes str(result) to `save_file`
        (default text_generation_result.txt).
        """
        prompts = _read_prompts(input_data if input_data is not None else config.input_data)
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
        logger.info("output result is: %s", results)
        if get_real_rank() == 0:
            save_file = config.save_file or 'text_generation_result.txt'
            try:
                with open(save_file, 'w', encoding='utf-8') as stream:
                    stream.write(str(results))
            except OSError as err:
                raise write_error('prediction results', save_file, err) from None
            logger.info("output result is saved at: %s", os.path.abspath(save_file))
        return results


def _read_prompts(input_data):
    if input_data is None:
        raise ConfigError("predict needs input data: --predict_data \"text\" or a .txt file with one prompt per line")
    if isinstance(input_data, str):
        if input_data.endswith('.txt') and os.path.isfile(input_data):
            with open(input_data, encoding='utf-8') as stream:
                # one prompt per line; a literal backslash-n inside a line stands for a newline
                prompts = [line.rstrip('\n').replace('\\n', '\n') for line in stream if line.strip()]
            if not prompts:
                raise ConfigError(f"predict data file {input_data} has no non-empty line")
            return prompts
        if input_data.endswith('.txt') and ' ' not in input_data:
            raise ConfigError(f"predict data file does not exist: {input_data}")
        return [input_data]
    if isinstance(input_data, (list, tuple)) and all(isinstance(p, str) for p in input_data):
        return list(input_data)
    raise ConfigError(f"predict input must be a string, a list of strings or a .txt file, got "
                      f"{type(input_data).__name__}")
