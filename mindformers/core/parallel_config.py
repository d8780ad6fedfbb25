"""Parallel settings: TransformerOpParallelConfig, TransformerRecomputeConfig, MoEConfig, and their builder."""
from mindformers.tools.errors import ConfigError


class _ConfigObject:
    _fields = {}

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(self._fields))
        if unknown:
            raise ConfigError(f"{self.__class__.__name__}: unknown keys {unknown}; known keys are "
                              f"{sorted(self._fields)}")
        for key, default in self._fields.items():
            setattr(self, key, kwargs.get(key, default))

    def to_dict(self):
        return {key: (v.to_dict() if isinstance(v, _ConfigObject) else v)
                for key, v in ((k, getattr(self, k)) for k in self._fields)}

    def to_diff_dict(self):
        return {k: v for k, v in self.to_dict().items() if v != self._fields[k]}

    def __repr__(self):
        return f"{self.__class__.__name__}({self.to_dict()})"


class TransformerRecomputeConfig(_ConfigObject):
    """Which activations are recomputed in the backward pass."""
    _fields = {'recompute': False, 'select_recompute': False, 'parallel_optimizer_comm_recompute': False,
               'select_comm_recompute': False, 'mp_comm_recompute': True, 'recompute_slice_activation': False}


class MoEConfig(_ConfigObject):
    _fields = {'expert_num': 1, 'capacity_factor': 1.1, 'aux_loss_factor': 0.05, 'num_experts_chosen': 1,
               'expert_group_size': None, 'group_wise_a2a': False, 'comp_comm_parallel': False,
               'comp_comm_parallel_degree': 2, 'save_token_distribution': False, 'cur_layer': 0}


class TransformerOpParallelConfig(_ConfigObject):
    """Model-level sharding: data/model/context/expert parallel sizes, pipeline stages, micro batches."""
    _fields = {'data_parallel': 1, 'model_parallel': 1, 'context_parallel': 1, 'expert_parallel': 1,
               'pipeline_stage': 1, 'micro_batch_num': 1, 'recompute': None, 'use_seq_parallel': False,
               'optimizer_shard': None, 'gradient_aggregation_group': 4, 'vocab_emb_dp': True,
               'context_parallel_algo': 'colossalai_cp', 'ulysses_degree_in_cp': 1, 'mem_coeff': 0.1}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.recompute is None:
            self.recompute = TransformerRecomputeConfig()
        elif isinstance(self.recompute, dict):
            self.recompute = TransformerRecomputeConfig(**self.recompute)
        elif isinstance(self.recompute, bool):
            self.recompute = TransformerRecomputeConfig(recompute=self.recompute)
        for key in ('data_parallel', 'model_parallel', 'context_parallel', 'expert_parallel', 'pipeline_stage',
                    'micro_batch_num', 'gradient_aggregation_group'):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"parallel_config.{key} must be a positive integer, got {value!r}")

    @property
    def select_recompute(self):
        return self.recompute.select_recompute


default_transformer_config = TransformerOpParallelConfig()
default_recompute_config = TransformerRecomputeConfig()
default_moe_config = MoEConfig()


def build_parallel_config(config):
    """Turn the YAML dicts `parallel_config`, `recompute_config`, `moe_config` into config objects."""
    if isinstance(config.recompute_config, dict) or config.recompute_config is None:
        config.recompute_config = TransformerRecomputeConfig(**dict(config.recompute_config or {}))
    if isinstance(config.moe_config, dict) or config.moe_config is None:
        config.moe_config = MoEConfig(**dict(config.moe_config or {}))
    if isinstance(config.parallel_config, dict) or config.parallel_config is None:
        args = dict(config.parallel_config or {})
        args.setdefault('recompute', config.recompute_config)
        args.pop('auto_parallel', None)
        config.parallel_config = TransformerOpParallelConfig(**args)
        if config.parallel_config.pipeline_stage > 1:
            config.parallel_config.vocab_emb_dp = False
    return config


def reset_parallel_config(config):
    """Back to plain dicts (for YAML dumps)."""
    for key in ('parallel_config', 'recompute_config', 'moe_config'):
        if isinstance(config.get(key), _ConfigObject):
            config[key] = config[key].to_dict()
    return config
