"""BaseProcessor (saves and loads itself as a YAML `processor` section) and TextProcessor (text -> padded ids)."""
import os

from mindformers.models.base_config import SupportListMixin
from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.build_tokenizer import build_tokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register.config import ordered_yaml_dump, ordered_yaml_load


class BaseProcessor(SupportListMixin):
    """Processors subclass this; `_saved_fields` are written to the YAML `processor` section."""
    _saved_fields = ()

    def save_pretrained(self, save_directory, save_name='mindspore_model'):
        """Write the tokenizer files and `<save_name>.yaml` with a `processor` section (type, fields, tokenizer)."""
        if getattr(self, 'tokenizer', None) is None:
            raise ConfigError(f"{type(self).__name__}.save_pretrained: the processor has no tokenizer to save")
        self.tokenizer.save_pretrained(save_directory, save_name=save_name)
        yaml_file = os.path.join(save_directory, f'{save_name}.yaml')
        with open(yaml_file, encoding='utf-8') as stream:
            config = ordered_yaml_load(stream) or {}
        section = dict(config.get('processor') or {})
        section['type'] = type(self).__name__
        section.update({name: getattr(self, name) for name in self._saved_fields})
        config['processor'] = section
        with open(yaml_file, 'w', encoding='utf-8') as stream:
            ordered_yaml_dump(config, stream)
        return yaml_file

    @classmethod
    def from_pretrained(cls, yaml_name_or_path, **kwargs):
        from mindformers.auto_class import AutoProcessor  # pylint: disable=import-outside-toplevel
        processor = AutoProcessor.from_pretrained(yaml_name_or_path, **kwargs)
        if not isinstance(processor, cls):
            raise ConfigError(f"{cls.__name__}.from_pretrained: '{yaml_name_or_path}' holds a "
                              f"{type(processor).__name__}")
        return processor


class TextProcessor(BaseProcessor):
    """Calls its tokenizer with `max_length`, `padding` and `return_tensors`; the families' text processors.

    `processor(text_input)` returns `{'text': input_ids}`; one string gives a [1, max_length] batch.
    Texts longer than max_length are not cut (upstream does not truncate here).
    """
    _saved_fields = ('max_length', 'padding', 'return_tensors')

    def __init__(self, tokenizer=None, max_length=128, padding='max_length', return_tensors='ms'):
        if isinstance(tokenizer, dict):
            tokenizer = build_tokenizer(tokenizer)
        if tokenizer is not None and not isinstance(tokenizer, PreTrainedTokenizer):
            raise ConfigError(f"{type(self).__name__}: tokenizer must be a tokenizer or a tokenizer config, "
                              f"got {type(tokenizer).__name__}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.padding = padding
        self.return_tensors = return_tensors

    def __call__(self, text_input=None, image_input=None):
        output = {}
        if text_input is not None:
            if self.tokenizer is None:
                raise ConfigError(f"{type(self).__name__} has no tokenizer; give processor.tokenizer in the config")
            if isinstance(text_input, str):
                text_input = [text_input]
            output['text'] = self.tokenizer(text_input, max_length=self.max_length, padding=self.padding,
                                            return_tensors=self.return_tensors)['input_ids']
        return output


class BaseAudioProcessor:
    """Base of audio processors (upstream's contract; no audio model is in this build): the constructor keeps its
    keyword arguments in `config`, calling the processor runs `preprocess(audio_data, **kwargs)`, which a
    subclass implements (waveform -> model inputs)."""

    def __init__(self, **kwargs):
        self.config = dict(kwargs)

    def __call__(self, audio_data, **kwargs):
        return self.preprocess(audio_data, **kwargs)

    def preprocess(self, audio_data, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.preprocess: an audio processor subclass turns audio into "
                                  f"model inputs; BaseAudioProcessor itself has no preprocessing")
