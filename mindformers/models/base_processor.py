"""BaseProcessor: holds a tokenizer (and later image processors); saves and loads itself as a YAML section."""
import os

from mindformers.models.base_config import SupportListMixin
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
