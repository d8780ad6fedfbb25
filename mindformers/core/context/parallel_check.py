"""Checks of `parallel_config` against the device count, the model and the device, run before anything compiles."""
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger

SEMI_AUTO_MODES = (1, 2, 'semi_auto_parallel', 'auto_parallel', 'SEMI_AUTO_PARALLEL', 'AUTO_PARALLEL')


def _get(section, key, default=None):
    """A key of a YAML section (dict) or of a built config object (TransformerOpParallelConfig, LlamaConfig)."""
    if section is None:
        return default
    value = section.get(key) if isinstance(section, dict) else getattr(section, key, None)
    return default if value is None else value


def check_parallel_config(config, device_num, device_target):
    """Raise ConfigError (one line naming the setting) when `parallel_config` cannot run.

    Upstream's rules: dp*mp*pp equals the device count under semi/auto parallel, micro_batch_num >=
    pipeline_stage, num_layers >= pipeline_stage, num_heads divisible by model_parallel. On CPU MindSpore
    runs data parallel only, so model_parallel > 1 or pipeline_stage > 1 stop here too; except that a stand-alone
    run (use_parallel False) shards nothing, so there model_parallel is only an annotation, as upstream (a warning).
    """
    parallel_config = config.get('parallel_config')
    data_parallel = int(_get(parallel_config, 'data_parallel', 1))
    model_parallel = int(_get(parallel_config, 'model_parallel', 1))
    pipeline_stage = int(_get(parallel_config, 'pipeline_stage', 1))
    micro_batch_num = int(_get(parallel_config, 'micro_batch_num', 1))
    parallel_mode = _get(config.get('parallel'), 'parallel_mode', 0)
    if config.get('use_parallel') and parallel_mode in SEMI_AUTO_MODES:
        product = data_parallel * model_parallel * pipeline_stage
        if product != device_num:
            raise ConfigError(f"parallel_config: data_parallel*model_parallel*pipeline_stage = {data_parallel}*"
                              f"{model_parallel}*{pipeline_stage} = {product} but {device_num} devices are running; "
                              f"make them equal")
    full_batch = _get(config.get('parallel'), 'full_batch', False)
    if config.get('use_parallel') and parallel_mode not in SEMI_AUTO_MODES and full_batch is True:
        raise ConfigError(f"parallel.full_batch: True needs semi_auto_parallel (parallel_mode 1), but parallel_mode is "
                          f"{parallel_mode!r} (data parallel, where each rank reads its own shard); set "
                          f"parallel.full_batch: False")
    if micro_batch_num < pipeline_stage:
        raise ConfigError(f"parallel_config.micro_batch_num ({micro_batch_num}) must be >= pipeline_stage "
                          f"({pipeline_stage}); raise micro_batch_num or lower pipeline_stage")
    model = config.get('model')
    model_config = _get(model, 'model_config')
    num_layers = _get(model_config, 'num_layers')
    if num_layers is not None and int(num_layers) < pipeline_stage:
        raise ConfigError(f"model.model_config.num_layers ({num_layers}) must be >= parallel_config.pipeline_stage "
                          f"({pipeline_stage}); lower pipeline_stage")
    num_heads = _get(model_config, 'num_heads')
    if num_heads is not None and model_parallel > 1 and int(num_heads) % model_parallel:
        raise ConfigError(f"model.model_config.num_heads ({num_heads}) is not divisible by "
                          f"parallel_config.model_parallel ({model_parallel}); pick a model_parallel that divides it")
    if device_target == 'CPU' and model_parallel > 1 and pipeline_stage == 1 and not config.get('use_parallel'):
        logger.warning("parallel_config.model_parallel=%d has no effect in a stand-alone run (use_parallel False): "
                       "nothing is sharded", model_parallel)
    elif device_target == 'CPU' and (model_parallel > 1 or pipeline_stage > 1) and not config.get('only_save_strategy'):
        raise ConfigError(f"parallel_config.model_parallel={model_parallel}, pipeline_stage={pipeline_stage} need "
                          f"semi_auto_parallel, which MindSpore cannot run on CPU; set both to 1 (data parallel)")
