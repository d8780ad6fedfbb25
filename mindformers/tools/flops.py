"""Achieved model FLOPs against this machine's own fp32 matmul speed, for the training log and TensorBoard."""
import time

import numpy as np

_PEAK = {}


def measured_matmul_peak(size=1024, repeats=3):
    """TFLOP/s of one fp32 (size x size) @ (size x size) through MindSpore's MatMul kernel, the best of `repeats`
    after a warm-up: the speed the model's own matmuls can reach here. Measured once per process, then cached."""
    if size not in _PEAK:
        from mindspore import Tensor, ops  # pylint: disable=import-outside-toplevel
        rng = np.random.default_rng(0)
        left = Tensor(rng.standard_normal((size, size)).astype(np.float32))
        right = Tensor(rng.standard_normal((size, size)).astype(np.float32))
        ops.matmul(left, right).asnumpy()
        best = float('inf')
        for _ in range(repeats):
            start = time.perf_counter()
            ops.matmul(left, right).asnumpy()
            best = min(best, time.perf_counter() - start)
        _PEAK[size] = 2.0 * size ** 3 / best / 1e12
    return _PEAK[size]


def causal_lm_training_flops(num_params, embedding_params, num_layers, hidden_size, seq_length):
    """FLOPs of one training sample (forward + backward) of a decoder of `num_params` weights at `seq_length`
    tokens: 6 FLOPs per token per weight a token's matmuls use (every weight but the `embedding_params` only looked
    up), plus 12 x layers x hidden x seq_length per token for the attention scores and their weighted sum."""
    per_token = 6 * (num_params - embedding_params) + 12 * num_layers * hidden_size * seq_length
    return per_token * seq_length
