"""mindformers.inference without MindSpore Lite (no wheel installs on this Python): InferConfig keeps upstream's
fields and renames, InferTask lists and checks tasks, pipeline(..., backend='mslite') validates its input and then
says in one line what to install; the post-processing Sampler against NumPy."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Tensor

from mindformers import pipeline
from mindformers.inference import InferConfig, InferTask
from mindformers.inference.postprocess_sampler import Sampler
from mindformers.tools.errors import ConfigError, NotAvailableError


def _lite_installed():
    try:
        import mindspore_lite  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return False
    return True


def test_infer_config_and_task_follow_upstream():
    config = InferConfig(prefill_model_path='p.mindir', infer_seq_length=512, ge_config_path='ge.ini',
                         pa_block_size=32, extra=1)
    assert (config.seq_length, config.config_path, config.block_size, config.num_blocks, config.extra) == \
        (512, 'ge.ini', 32, 512, 1)
    assert list(InferTask.support_list()) == ['text_generation'] and InferTask.check_task_valid('text_generation')
    with pytest.raises(ConfigError, match=r"^InferConfig: model_type must be one of \['mindir', 'mindir_lite'\]"):
        InferConfig(model_type='onnx')


@pytest.mark.skipif(_lite_installed(), reason='MindSpore Lite is installed: the not-installed message cannot show')
def test_mslite_backend_validates_then_names_what_to_install(tmp_path):
    graph = tmp_path / 'prefill.mindir'
    graph.write_bytes(b'mindir')
    with pytest.raises(NotAvailableError, match=r"^MindSpore Lite inference needs the mindspore-lite wheel"):
        pipeline('text_generation', model=str(graph), backend='mslite')
    with pytest.raises(ConfigError, match=r"^pipeline backend 'mslite': task 'fill_mask' is not supported"):
        pipeline('fill_mask', model=str(graph), backend='mslite')
    with pytest.raises(ConfigError, match=r"^InferTask: MindIR file not found: .*missing.mindir"):
        pipeline('text_generation', model=(str(graph), str(tmp_path / 'missing.mindir')), backend='mslite')
    with pytest.raises(ConfigError, match=r"^pipeline: backend 'tensorrt' is not supported; use 'ms' or 'mslite'"):
        pipeline('text_generation', model=str(graph), backend='tensorrt')


def test_sampler_penalises_repeats_and_softmaxes_the_top_k():
    logits = np.array([[2.0, -1.0, 0.5, 3.0, 1.0], [0.1, 0.2, 0.3, -2.0, 0.0]], np.float32)
    ids = np.array([[3, 1], [3, 0]], np.int32)
    probs, tokens = Sampler()(Tensor(logits), 0.7, 3, 2.0, Tensor(ids))
    penalised = logits.copy()
    for row, seen in enumerate(ids):
        for token in seen:
            value = logits[row, token]
            penalised[row, token] = value * 2.0 if value < 0 else value / 2.0
    scaled = penalised / 0.7
    top = np.argsort(-scaled, axis=1)[:, :3]
    chosen = np.take_along_axis(scaled, top, 1)
    expected = np.exp(chosen - chosen.max(1, keepdims=True))
    np.testing.assert_array_equal(tokens.asnumpy(), top)
    np.testing.assert_allclose(probs.asnumpy(), expected / expected.sum(1, keepdims=True), rtol=1e-5)
    assert probs.dtype == ms.float32
