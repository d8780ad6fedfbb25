"""run_check(): report the MindSpore version and device, and run a tiny forward/backward step."""
import numpy as np
import mindspore as ms
from mindspore import ops, Tensor

from mindformers.tools.logger import logger


def run_check():
    """Returns True when a tiny LLaMA-style forward and backward pass runs and gives finite numbers."""
    from mindformers.models.llama import LlamaConfig, LlamaForCausalLM  # pylint: disable=import-outside-toplevel
    import mindformers  # pylint: disable=import-outside-toplevel
    logger.info("mindformers version: %s", mindformers.__version__)
    logger.info("MindSpore version: %s", ms.__version__)
    logger.info("device_target: %s, mode: %s", ms.get_context('device_target'),
                'GRAPH_MODE' if ms.get_context('mode') == ms.GRAPH_MODE else 'PYNATIVE_MODE')
    config = LlamaConfig(seq_length=8, hidden_size=16, num_layers=1, num_heads=2, vocab_size=32,
                         compute_dtype='float32', param_init_type='float32')
    model = LlamaForCausalLM(config)
    model.set_train(True)
    ids = Tensor(np.random.default_rng(0).integers(1, 32, size=(2, 9)), ms.int32)
    loss, grads = ms.value_and_grad(model, None, model.trainable_params())(ids)
    grad_norm = float(ops.sqrt(sum(ops.reduce_sum(g * g) for g in grads)).asnumpy())
    ok = bool(np.isfinite(loss.asnumpy()) and np.isfinite(grad_norm))
    logger.info("forward loss %.4f, gradient norm %.4f: %s", float(loss.asnumpy()), grad_norm,
                "MindFormers is installed and works" if ok else "non-finite values")
    return ok
