"""Parallel settings: TransformerOpParallelConfig, TransformerRecomputeConfig, MoEConfig, the layer-level
OpParallelConfig / EmbeddingOpParallelConfig / MoEParallelConfig, and their builder."""
from mindformers.tools.errors import ConfigError


class _ConfigObject:
    _fields = {}
    _positional = ()          # upstream's positional argument order
    _positive_ints = ()

    def __init__(self, *args, **kwargs):
        if len(args) > len(self._positional):
            raise ConfigError(f"{self.__class__.__name__} takes at most {len(self._positional)} positional "
                              f"arguments ({', '.join(self._positional)}), got {len(args)}")
        for key, value in zip(self._positional, args):
            if key in kwargs:
                raise ConfigError(f"{self.__class__.__name__}: {key} given twice")
            kwargs[key] = value
        unknown = sorted(set(kwargs) - set(self._fields))
        if unknown:
            raise ConfigError(f"{self.__class__.__name__}: unknown keys {unknown}; known keys are "
                              f"{sorted(self._fields)}")
        for key, default in self._fields.items():
            setattr(self, key, kwargs.get(key, default))
        for key in self._positive_ints:
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{self.__class__.__name__}.{key} must be a positive integer, got {value!r}")

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = object.__hash__     # identity: configs are mutable

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
    _positional = ('recompute', 'select_recompute', 'parallel_optimizer_comm_recompute', 'mp_comm_recompute',
                   'recompute_slice_activation')


class MoEConfig(_ConfigObject):
    """Mixture-of-experts settings (upstream's fields; expert_num 1 = no experts)."""
    _fields = {'expert_num': 1, 'capacity_factor': 1.1, 'aux_loss_factor': 0.05, 'num_experts_chosen': 1,
               'expert_group_size': None, 'group_wise_a2a': False, 'comp_comm_parallel': False,
               'comp_comm_parallel_degree': 2, 'save_token_distribution': False, 'cur_layer': 0}
    _positional = ('expert_num', 'capacity_factor', 'aux_loss_factor', 'num_experts_chosen', 'expert_group_size',
                   'group_wise_a2a', 'comp_comm_parallel', 'comp_comm_parallel_degree')
    _positive_ints = ('expert_num', 'num_experts_chosen', 'comp_comm_parallel_degree')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.capacity_factor < 1.0:
            raise ConfigError(f"MoEConfig.capacity_factor must be at least 1.0, got {self.capacity_factor}")
        if not 0 < self.aux_loss_factor < 1.0:
            raise ConfigError(f"MoEConfig.aux_loss_factor must be in (0, 1), got {self.aux_loss_factor}")
        if self.num_experts_chosen > self.expert_num:
            raise ConfigError(f"MoEConfig.num_experts_chosen {self.num_experts_chosen} must not exceed expert_num "
                              f"{self.expert_num}")


class OpParallelConfig(_ConfigObject):
    """Data and model parallel sizes of one operator (upstream's layer-level parallel config)."""
    _fields = {'data_parallel': 1, 'model_parallel': 1, 'use_seq_parallel': False, 'select_recompute': False}
    _positional = tuple(_fields)
    _positive_ints = ('data_parallel', 'model_parallel')


class MoEParallelConfig(_ConfigObject):
    """OpParallelConfig plus the expert-parallel size (upstream's MoE layer config); `dpmp` is the former."""
    _fields = {'data_parallel': 1, 'model_parallel': 1, 'expert_parallel': 1, 'use_seq_parallel': False,
               'select_recompute': False}
    _positional = tuple(_fields)
    _positive_ints = ('data_parallel', 'model_parallel', 'expert_parallel')

    @property
    def dpmp(self):
        return OpParallelConfig(self.data_parallel, self.model_parallel, self.use_seq_parallel,
                                self.select_recompute)


class EmbeddingOpParallelConfig(_ConfigObject):
    """The embedding's parallel config: OpParallelConfig plus `vocab_emb_dp` (True: the table is replicated and
    the batch split; False: the table is split by rows over model_parallel)."""
    _fields = {'data_parallel': 1, 'model_parallel': 1, 'use_seq_parallel': False, 'select_recompute': False,
               'vocab_emb_dp': True}
    _positional = tuple(_fields)
    _positive_ints = ('data_parallel', 'model_parallel')

    @property
    def dp_mp_config(self):
        return OpParallelConfig(self.data_parallel, self.model_parallel, self.use_seq_parallel,
                                self.select_recompute)


class TransformerOpParallelConfig(_ConfigObject):
    """Model-level sharding: data/model/context/expert parallel sizes, pipeline stages, micro batches."""
    _fields = {'data_parallel': 1, 'model_parallel': 1, 'context_parallel': 1, 'expert_parallel': 1,
               'pipeline_stage': 1, 'micro_batch_num': 1, 'recompute': None, 'use_seq_parallel': False,
               'optimizer_shard': None, 'gradient_aggregation_group': 4, 'vocab_emb_dp': True,
               'context_parallel_algo': 'colossalai_cp', 'ulysses_degree_in_cp': 1, 'mem_coeff': 0.1}
    _positional = ('data_parallel', 'model_parallel', 'expert_parallel', 'pipeline_stage', 'micro_batch_num',
                   'recompute', 'use_seq_parallel', 'optimizer_shard', 'gradient_aggregation_group', 'vocab_emb_dp')

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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

    @property
    def embedding_dp_mp_config(self):
        return EmbeddingOpParallelConfig(self.data_parallel, self.model_parallel, self.use_seq_parallel,
                                         self.select_recompute, self.vocab_emb_dp)

    @property
    def dp_mp_config(self):
        return self.embedding_dp_mp_config.dp_mp_config

    @property
    def moe_parallel_config(self):
        return MoEParallelConfig(self.data_parallel, self.model_parallel, self.expert_parallel,
                                 self.use_seq_parallel, self.select_recompute)


default_transformer_config = TransformerOpParallelConfig()
default_recompute_config = TransformerRecomputeConfig()
default_moe_config = MoEConfig()
default_dpmp_config = OpParallelConfig()
default_embedding_parallel_config = EmbeddingOpParallelConfig()
default_moeparallel_config = MoEParallelConfig()


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
