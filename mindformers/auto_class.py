"""AutoConfig / AutoModel / AutoTokenizer / AutoProcessor: build the right class from a name, a YAML or a directory.

r1.0 semantics: a supported model name resolves to its packaged YAML, cached as
`checkpoint_download/<family>/<name>.yaml`, and to the weights `checkpoint_download/<family>/<name>.ckpt`
(downloaded when absent). A directory holds either `*.yaml` + `*.ckpt` (what `save_pretrained` writes) or
the Hugging Face layout `config.json` + `*.safetensors` (+ tokenizer files).
"""
import json
import os

from mindformers.mindformer_book import MindFormerBook
from mindformers.models.auto_mapping import DEFAULT_ARCH, HF_MODEL_TYPES, HF_TOKENIZER_CLASSES
from mindformers.models.base_config import BaseConfig
from mindformers.models.build_config import build_model_config
from mindformers.models.build_model import build_model
from mindformers.models.build_processor import build_processor
from mindformers.models.hf_conversion import family_converter, load_hf_directory
from mindformers.tools.download import (named_config_path, named_file_folder, resolve_named_checkpoint,
                                        download_with_progress_bar)
from mindformers.tools.errors import ConfigError, CheckpointError
from mindformers.tools.hf_checkpoint import is_hf_directory, pickle_refusal
from mindformers.tools.register import MindFormerConfig, MindFormerRegister, MindFormerModuleType
from mindformers.tools.register.config import ordered_yaml_dump

__all__ = ['AutoConfig', 'AutoModel', 'AutoTokenizer', 'AutoProcessor']

def _is_yaml(path):
    return isinstance(path, str) and path.endswith(('.yaml', '.yml')) and os.path.isfile(path)


def _first(directory, suffixes):
    files = sorted(f for f in os.listdir(directory) if f.endswith(suffixes))
    return os.path.join(directory, files[0]) if files else None


def _is_hf_directory(path):
    return is_hf_directory(path)


def _hf_model_type(directory):
    with open(os.path.join(directory, 'config.json'), encoding='utf-8') as stream:
        try:
            model_type = json.load(stream).get('model_type', 'llama')
        except json.JSONDecodeError as err:
            raise ConfigError(f"{directory}/config.json is not valid JSON: {err}") from None
    if model_type not in HF_MODEL_TYPES:
        raise ConfigError(f"{directory}/config.json: model_type '{model_type}' is not supported; supported: "
                          f"{sorted(HF_MODEL_TYPES)}")
    return model_type


def _hf_arch(directory):
    """The model class a HF directory describes: its config.json `architectures[0]` when that is a registered
    model of the family's config class (BertForMaskedLM, BertForSequenceClassification, ...), else the family's
    default (HF_MODEL_TYPES)."""
    _, config_name, default = HF_MODEL_TYPES[_hf_model_type(directory)]
    with open(os.path.join(directory, 'config.json'), encoding='utf-8') as stream:
        declared = (json.load(stream).get('architectures') or [None])[0]
    if declared and MindFormerRegister.is_exist(MindFormerModuleType.MODELS, declared):
        model_class = MindFormerRegister.get_cls(MindFormerModuleType.MODELS, declared)
        if getattr(model_class, 'config_class', None) is not None and \
                model_class.config_class.__name__ == config_name:
            return declared
    return default


def name_to_yaml(name):
    """A supported model name -> `checkpoint_download/<family>/<name>.yaml` (copied from the packaged YAML)."""
    packaged = MindFormerBook.get_model_config_path(name)
    cached = named_config_path(name)
    if not os.path.isfile(cached):
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        # merged with its base_config: the copy lives away from the packaged YAMLs its relative path names
        with open(cached + '.tmp', 'w', encoding='utf-8') as stream:
            ordered_yaml_dump(MindFormerConfig(packaged).to_dict(), stream)
        os.replace(cached + '.tmp', cached)
    return cached


def _resolve_yaml(yaml_name_or_path, what):
    """A YAML file, a directory holding one, or a model name -> the YAML path."""
    if _is_yaml(yaml_name_or_path):
        return yaml_name_or_path
    if isinstance(yaml_name_or_path, str) and os.path.isdir(yaml_name_or_path):
        path = _first(yaml_name_or_path, ('.yaml', '.yml'))
        if path is None:
            raise ConfigError(f"{what}: directory {yaml_name_or_path} holds neither a *.yaml (with *.ckpt) nor a "
                              f"Hugging Face config.json with *.safetensors")
        return path
    if not isinstance(yaml_name_or_path, str):
        raise ConfigError(f"{what}: expected a model name, a YAML path or a directory, got "
                          f"{type(yaml_name_or_path).__name__}")
    if os.sep in yaml_name_or_path.strip('/').replace('mindspore/', '', 1) or yaml_name_or_path.endswith(
            ('.yaml', '.yml')):
        raise ConfigError(f"{what}: {yaml_name_or_path} does not exist")
    return name_to_yaml(yaml_name_or_path)


def _update_model_config(run_config, kwargs):
    model_config = run_config.model.model_config
    for key, value in kwargs.items():
        model_config[key] = value
    return run_config


class AutoConfig:
    """`AutoConfig.from_pretrained(name | yaml | directory, **overrides)` -> the family's config object."""
    _arch_of_config = {}

    @classmethod
    def from_pretrained(cls, yaml_name_or_path=None, **kwargs):
        yaml_name_or_path = kwargs.pop('pretrained_model_name_or_path', yaml_name_or_path)
        if isinstance(yaml_name_or_path, str) and os.path.isdir(yaml_name_or_path) and \
                _first(yaml_name_or_path, ('.yaml', '.yml')) is None and _is_hf_directory(yaml_name_or_path):
            return cls._from_hf_directory(yaml_name_or_path, **kwargs)
        path = _resolve_yaml(yaml_name_or_path, 'AutoConfig.from_pretrained')
        run_config = MindFormerConfig(path)
        if run_config.model is None or run_config.model.model_config is None:
            raise ConfigError(f"{path} has no model.model_config section")
        _update_model_config(run_config, kwargs)
        config = build_model_config(run_config.model.model_config)
        if run_config.model.arch is not None:
            cls._arch_of_config[id(config)] = run_config.model.arch.type
        return config

    @classmethod
    def _from_hf_directory(cls, directory, **kwargs):
        family, config_name, _ = HF_MODEL_TYPES[_hf_model_type(directory)]
        arch = _hf_arch(directory)
        with open(os.path.join(directory, 'config.json'), encoding='utf-8') as stream:
            args = family_converter(family).hf_config_to_kwargs(json.load(stream))
        args.update(kwargs)
        config = MindFormerRegister.get_cls(MindFormerModuleType.CONFIG, config_name)(**args)
        cls._arch_of_config[id(config)] = arch
        return config

    @classmethod
    def arch_of(cls, config):
        return cls._arch_of_config.get(id(config))

    @staticmethod
    def get_support_list():
        return MindFormerBook.get_model_support_list()

    @staticmethod
    def show_support_list():
        MindFormerBook.show_model_support_list()


class AutoModel:
    """`AutoModel.from_pretrained(name | directory)` and `AutoModel.from_config(config | yaml)`."""

    @classmethod
    def from_config(cls, config, download_checkpoint=True, **kwargs):
        """Build a model from a MindFormerConfig (run config), a model config object or a YAML path."""
        if isinstance(config, str):
            if not _is_yaml(config):
                raise ConfigError(f"AutoModel.from_config: {config} is not a YAML file")
            config = MindFormerConfig(config)
        if isinstance(config, BaseConfig):
            arch = AutoConfig.arch_of(config) or _default_arch(config)
            model_config = config.to_dict()
            model_config.update(kwargs)
            if not download_checkpoint:
                model_config['checkpoint_name_or_path'] = None
            return build_model(MindFormerConfig(model_config=model_config, arch={'type': arch}))
        if isinstance(config, MindFormerConfig):
            if config.model is None:
                raise ConfigError("AutoModel.from_config: the config has no model section")
            config = MindFormerConfig(**config.to_dict())
            _update_model_config(config, kwargs)
            if not download_checkpoint:
                config.model.model_config.checkpoint_name_or_path = None
            return build_model(config.model)
        raise ConfigError(f"AutoModel.from_config: expected a config object, a MindFormerConfig or a YAML path, got "
                          f"{type(config).__name__}")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_dir, download_checkpoint=True, **kwargs):
        """A directory (*.yaml + *.ckpt, or config.json + *.safetensors) or a supported model name -> model."""
        source = pretrained_model_name_or_dir
        if isinstance(source, str) and os.path.isdir(source):
            yaml_path = _first(source, ('.yaml', '.yml'))
            ckpt_path = _first(source, ('.ckpt',))
            if yaml_path and ckpt_path:
                run_config = MindFormerConfig(yaml_path)
                _update_model_config(run_config, dict(kwargs, checkpoint_name_or_path=ckpt_path))
                return build_model(run_config.model)
            if _is_hf_directory(source):
                arch = _hf_arch(source)
                model_class = MindFormerRegister.get_cls(MindFormerModuleType.MODELS, arch)
                return load_hf_directory(model_class, source, **kwargs)
            raise CheckpointError(f"AutoModel.from_pretrained: directory {source} holds neither *.yaml + *.ckpt nor "
                                  f"config.json + *.safetensors{pickle_refusal(source)}")
        yaml_path = _resolve_yaml(source, 'AutoModel.from_pretrained')
        run_config = MindFormerConfig(yaml_path)
        checkpoint = None
        if download_checkpoint and not _is_yaml(source):
            # resolve (download) the weights before building: a missing file fails before any allocation
            checkpoint = resolve_named_checkpoint(source)
        _update_model_config(run_config, dict(kwargs, checkpoint_name_or_path=checkpoint))
        return build_model(run_config.model)

    @staticmethod
    def get_support_list():
        return MindFormerBook.get_model_support_list()

    @staticmethod
    def show_support_list():
        MindFormerBook.show_model_support_list()


def _default_arch(config):
    name = type(config).__name__
    if name in DEFAULT_ARCH:
        return DEFAULT_ARCH[name]
    raise ConfigError(f"AutoModel.from_config: no model class known for {name}; pass a MindFormerConfig with "
                      f"model.arch")


def _tokenizer_class(name):
    if not MindFormerRegister.is_exist(MindFormerModuleType.TOKENIZER, name):
        raise ConfigError(f"tokenizer class '{name}' is not registered")
    return MindFormerRegister.get_cls(MindFormerModuleType.TOKENIZER, name)


class AutoTokenizer:
    """`AutoTokenizer.from_pretrained(name | directory | yaml)` -> the tokenizer named by the YAML or config files."""

    @classmethod
    def from_pretrained(cls, yaml_name_or_path, **kwargs):
        source = yaml_name_or_path
        if isinstance(source, str) and os.path.isdir(source):
            class_name = cls._class_in_directory(source)
            return _tokenizer_class(class_name).from_pretrained(source, **kwargs)
        yaml_path = _resolve_yaml(source, 'AutoTokenizer.from_pretrained')
        section = (MindFormerConfig(yaml_path).processor or {}).get('tokenizer') or {}
        if not section.get('type'):
            raise ConfigError(f"{yaml_path} has no processor.tokenizer.type")
        tokenizer_class = _tokenizer_class(section['type'])
        if _is_yaml(source):
            args = {k: v for k, v in section.items() if k != 'type'}
            args.update(kwargs)
            return tokenizer_class(**args)
        return tokenizer_class.from_pretrained(cls.named_vocab_folder(source, tokenizer_class), **kwargs)

    @staticmethod
    def named_vocab_folder(name, tokenizer_class):
        """checkpoint_download/<family>/ holding the vocabulary files of `name`, downloaded when absent."""
        folder = named_file_folder(name)
        family = name.split('/')[-1].split('_')[0]
        urls = {os.path.basename(url): url for url in MindFormerBook.get_tokenizer_url_list().get(family, [])}
        for file_name in tokenizer_class.vocab_files_names.values():
            path = os.path.join(folder, file_name)
            if os.path.isfile(path):
                continue
            if file_name not in urls:
                raise ConfigError(f"AutoTokenizer.from_pretrained('{name}'): {file_name} is not at "
                                  f"{os.path.abspath(path)} and has no download URL; place the file there or pass a "
                                  f"directory")
            download_with_progress_bar(urls[file_name], path)
        return folder

    @staticmethod
    def _class_in_directory(directory):
        """Our YAML's processor.tokenizer.type; else what the HF directory declares (tokenizer_config.json's
        tokenizer_class, checked against the files that class needs); else what its files are."""
        yaml_path = _first(directory, ('.yaml', '.yml'))
        if yaml_path is not None:
            section = (MindFormerConfig(yaml_path).processor or {}).get('tokenizer') or {}
            if section.get('type'):
                return section['type']
        files = _tokenizer_files(directory)
        declared = _read_json(os.path.join(directory, 'tokenizer_config.json')).get('tokenizer_class') \
            if 'tokenizer_config.json' in files else None
        if declared and declared != 'PreTrainedTokenizerFast':
            ours = HF_TOKENIZER_CLASSES.get(declared, declared)
            if not MindFormerRegister.is_exist(MindFormerModuleType.TOKENIZER, ours):
                raise ConfigError(f"{directory}/tokenizer_config.json declares tokenizer_class {declared}, which "
                                  f"this build has no tokenizer for")
            needed = {'LlamaTokenizer': ('tokenizer.model',), 'BloomTokenizer': ('tokenizer.json',),
                      'BertTokenizer': ('vocab.txt',), 'T5Tokenizer': ('spiece.model',)}.get(ours)
            if ours == 'BPETokenizer' and 'tokenizer.json' not in files:
                needed = ('vocab.json', 'merges.txt')
            absent = [name for name in needed or () if name not in files]
            if absent:
                found = f"it holds {sorted(files)}" if files else "it holds no tokenizer file"
                raise ConfigError(f"{directory}/tokenizer_config.json declares {declared} but the directory has no "
                                  f"{' / '.join(absent)}; {found}")
            return ours
        if 'vocab.txt' in files and not {'vocab.json', 'tokenizer.model'} & files:
            return 'BertTokenizer'
        if 'tokenizer.json' in files:
            data = _read_json(os.path.join(directory, 'tokenizer.json'))
            model_type, decoder_type = (data.get('model') or {}).get('type'), (data.get('decoder') or {}).get('type')
            if model_type == 'BPE' and decoder_type == 'ByteLevel':
                return 'BPETokenizer'
            if 'tokenizer.model' not in files:
                raise ConfigError(f"{directory}/tokenizer.json is a {model_type} tokenizer with a {decoder_type} "
                                  f"decoder; only byte-level BPE tokenizer.json files are read")
        if 'tokenizer.model' in files:
            return 'LlamaTokenizer'
        if 'spiece.model' in files:
            return 'T5Tokenizer'
        if {'vocab.json', 'merges.txt'} <= files:
            return 'BPETokenizer'
        raise ConfigError(f"AutoTokenizer.from_pretrained: {directory} holds no tokenizer (no YAML with "
                          f"processor.tokenizer, tokenizer_config.json, tokenizer.json, tokenizer.model, "
                          f"spiece.model, vocab.json + merges.txt or vocab.txt)")


def _tokenizer_files(directory):
    names = ('tokenizer_config.json', 'tokenizer.json', 'tokenizer.model', 'spiece.model', 'vocab.json', 'merges.txt',
             'vocab.txt')
    return {name for name in names if os.path.isfile(os.path.join(directory, name))}


def _read_json(path):
    try:
        with open(path, encoding='utf-8') as stream:
            data = json.load(stream)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object")
    return data


def _hf_image_processor(directory, hf_file):
    """A Hugging Face image model directory -> our processor of its preprocessor_config.json: CLIP's (with the
    directory's tokenizer) for a CLIPImageProcessor, else ViT's."""
    # pylint: disable=import-outside-toplevel
    from mindformers.models.image_processor import hf_image_processor_kwargs, read_hf_preprocessor_config
    kwargs = hf_image_processor_kwargs(hf_file)
    kind = read_hf_preprocessor_config(hf_file).get('image_processor_type') or ''
    if kind.startswith('CLIP'):
        from mindformers.models.clip import CLIPImageProcessor, CLIPProcessor
        tokenizer = AutoTokenizer.from_pretrained(directory) if os.path.isfile(
            os.path.join(directory, 'tokenizer_config.json')) else None
        return CLIPProcessor(CLIPImageProcessor(**kwargs), tokenizer=tokenizer)
    from mindformers.models.vit import ViTImageProcessor, ViTProcessor
    return ViTProcessor(ViTImageProcessor(**kwargs))


class AutoProcessor:
    """`AutoProcessor.from_pretrained(name | yaml | directory)` -> the YAML's `processor` with its tokenizer; a
    Hugging Face directory with preprocessor_config.json (an image model) gives a ViTProcessor of its settings."""

    @classmethod
    def from_pretrained(cls, yaml_name_or_path, **kwargs):
        hf_file = os.path.join(str(yaml_name_or_path), 'preprocessor_config.json')
        if os.path.isdir(str(yaml_name_or_path)) and os.path.isfile(hf_file):
            return _hf_image_processor(str(yaml_name_or_path), hf_file)
        yaml_path = _resolve_yaml(yaml_name_or_path, 'AutoProcessor.from_pretrained')
        section = MindFormerConfig(yaml_path).processor
        if section is None or not section.get('type'):
            raise ConfigError(f"{yaml_path} has no processor section with a type")
        section = section.to_dict()
        tokenizer_section = section.get('tokenizer') or {}
        vocab_given = any(tokenizer_section.get(key) for key in ('vocab_file', 'merges_file'))
        default_args = dict(kwargs)
        if tokenizer_section and not vocab_given and 'tokenizer' not in default_args:
            source = yaml_name_or_path if not _is_yaml(yaml_name_or_path) else os.path.dirname(yaml_path)
            default_args['tokenizer'] = AutoTokenizer.from_pretrained(source)
            section.pop('tokenizer')
        return build_processor(section, default_args=default_args or None)
