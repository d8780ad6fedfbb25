"""InferConfig: where the exported MindIR graphs are and how MindSpore Lite runs them."""
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig

MODEL_TYPES = ('mindir', 'mindir_lite')


class InferConfig(MindFormerConfig):
    """Upstream's fields (a dict with attribute access): prefill / increment MindIR paths, `model_type`
    ('mindir' or 'mindir_lite'), `model_name`, `seq_length` (from infer_seq_length), `target`, `device_id`,
    `rank_id`, `config_path` (the GE config ini, from ge_config_path), `dynamic`, and paged attention's
    `block_size` / `num_blocks` (from pa_block_size / pa_num_blocks); extra keys are kept."""

    def __init__(self, prefill_model_path="", increment_model_path="", model_type="mindir", model_name="common",
                 infer_seq_length=1024, target="Ascend", device_id=0, rank_id=0, ge_config_path="", dynamic=False,
                 paged_attention=False, pa_block_size=16, pa_num_blocks=512, **kwargs):
        if model_type not in MODEL_TYPES:
            raise ConfigError(f"InferConfig: model_type must be one of {list(MODEL_TYPES)}, got {model_type!r}")
        if not isinstance(infer_seq_length, int) or isinstance(infer_seq_length, bool) or infer_seq_length < 1:
            raise ConfigError(f"InferConfig: infer_seq_length must be a positive integer, got {infer_seq_length!r}")
        super().__init__(prefill_model_path=prefill_model_path, increment_model_path=increment_model_path,
                         model_type=model_type, model_name=model_name, seq_length=infer_seq_length, target=target,
                         device_id=device_id, rank_id=rank_id, config_path=ge_config_path, dynamic=dynamic,
                         paged_attention=paged_attention, block_size=pa_block_size, num_blocks=pa_num_blocks,
                         **kwargs)

    def lite_model_type(self):
        """mindspore_lite.ModelType of `model_type` (needs MindSpore Lite)."""
        from mindformers.inference.lite import mindspore_lite  # pylint: disable=import-outside-toplevel
        lite = mindspore_lite()
        return lite.ModelType.MINDIR if self.model_type == 'mindir' else lite.ModelType.MINDIR_LITE
