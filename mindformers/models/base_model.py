"""BaseModel: a MindSpore Cell with checkpoint loading, from_pretrained and save_pretrained (generation is
mixed in by `causal_lm.CausalLMBase`, for the models that generate)."""
import os

from mindspore import nn

from mindformers.models.base_config import BaseConfig, SupportListMixin
from mindformers.tools.checkpoint import read_checkpoint, load_param_dict, save_checkpoint_atomic, list_checkpoints
from mindformers.tools.errors import CheckpointError, ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register.config import MindFormerConfig, ordered_yaml_dump


class BaseModel(nn.Cell, SupportListMixin):
    """Models subclass this with `config_class` set; `config.checkpoint_name_or_path` loads weights."""
    _support_list = []
    config_class = BaseConfig
    # our child name -> the upstream MindFormers name (LoRA target regexes from upstream YAMLs match either)
    upstream_param_aliases = {}
    # parameter-name fragments a checkpoint of this model may lack (heads that fine-tuning adds)
    checkpoint_optional_keys = ()

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    def enable_token_weighted_loss(self):
        """Make the training forward return (sum of token losses, number of tokens that count) instead of their
        ratio, so gradient accumulation can weight micro-batches by real tokens. Returns whether this model can;
        models whose loss is not a masked token average keep their mean loss (False)."""
        return False

    def convert_state_dict(self, params, source='checkpoint'):
        """{name: Parameter} of a checkpoint -> our names. Tensors named as upstream MindFormers names them are
        renamed (and transposed where upstream stores (in, out)) by the family's `upstream_name_to_ours`."""
        from mindformers.models.hf_conversion import converter_of  # pylint: disable=import-outside-toplevel
        from mindformers.models.upstream_names import convert_upstream_state_dict  # pylint: disable=C0415
        try:
            converter = converter_of(type(self))
        except ConfigError:  # a family without a convert_weight.py has no upstream names to map
            return params
        our_names = {p.name for p in self.get_parameters()}
        whole = getattr(converter, 'convert_upstream_checkpoint', None)  # fused tensors need the whole checkpoint
        if whole is not None:
            return whole(params, self.config, our_names, source)
        rename = getattr(converter, 'upstream_name_to_ours', None)
        if rename is None:
            return params
        return convert_upstream_state_dict(params, rename, our_names, source)

    def load_checkpoint(self, config):
        """Load `config.checkpoint_name_or_path` (a .ckpt/.safetensors file or a folder holding one)."""
        path = getattr(config, 'checkpoint_name_or_path', None)
        if not path:
            return
        if os.path.isdir(path):
            files = list_checkpoints(path)
            if not files:
                raise CheckpointError(f"checkpoint_name_or_path folder {path} holds no .ckpt/.safetensors file")
            path = files[0]
        elif not os.path.exists(path):
            from mindformers.tools.download import resolve_named_checkpoint  # pylint: disable=import-outside-toplevel
            path = resolve_named_checkpoint(path)
        logger.info("loading weights of %s from %s", self.__class__.__name__, path)
        load_param_dict(self, self.convert_state_dict(read_checkpoint(path), path), source=path,
                        optional_keys=self.checkpoint_optional_keys,
                        allow_partial=bool(getattr(config, 'allow_partial_checkpoint', False)))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_dir, **kwargs):
        """A supported model name, a directory with *.yaml + *.ckpt, or a Hugging Face directory (config.json +
        *.safetensors) -> this class with its weights; kwargs override model_config fields (e.g. seq_length)."""
        from mindformers.auto_class import AutoModel  # pylint: disable=import-outside-toplevel
        model = AutoModel.from_pretrained(pretrained_model_name_or_dir, **kwargs)
        if not isinstance(model, cls):
            raise ConfigError(f"{cls.__name__}.from_pretrained('{pretrained_model_name_or_dir}') describes a "
                              f"{type(model).__name__}; use that class or AutoModel")
        return model

    def save_pretrained(self, save_directory=None, save_name="mindspore_model"):
        """Write `<dir>/<save_name>.ckpt` (weights) and `<dir>/<save_name>.yaml` (model section)."""
        save_directory = save_directory or os.getenv('CHECKPOINT_SAVE_FOLDER', './checkpoint_save')
        os.makedirs(save_directory, exist_ok=True)
        save_checkpoint_atomic(self, os.path.join(save_directory, f"{save_name}.ckpt"))
        yaml_path = os.path.join(save_directory, f"{save_name}.yaml")
        existing = MindFormerConfig(yaml_path).to_dict() if os.path.exists(yaml_path) else {}
        config = self.config.to_dict()
        config.pop('checkpoint_name_or_path', None)
        existing['model'] = {'model_config': config, 'arch': {'type': self.__class__.__name__}}
        with open(yaml_path, 'w', encoding='utf-8') as stream:
            ordered_yaml_dump(existing, stream)
        return save_directory
