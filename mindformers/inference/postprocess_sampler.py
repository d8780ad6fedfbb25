"""Sampler: upstream's on-device post-processing of the Lite text generator, a MindSpore cell that runs anywhere."""
import mindspore as ms
from mindspore import nn, ops


class Sampler(nn.Cell):
    """construct(logits (batch, vocab), temperature, top_k=1, repetition_penalty=1.0, input_ids=None) ->
    (probabilities over the top_k tokens (batch, top_k), their token ids). With a repetition penalty the logits of
    tokens in input_ids are divided by it when positive and multiplied when negative, then every logit is divided
    by the temperature before the top-k softmax."""

    def construct(self, logits, temperature, top_k=1, repetition_penalty=1.0, input_ids=None):
        logits = ops.cast(logits, ms.float32)
        if repetition_penalty != 1.0 and input_ids is not None:
            ids = ops.cast(input_ids, ms.int32)
            seen = ops.gather_elements(logits, 1, ids)
            penalised = ops.select(seen < 0, seen * repetition_penalty, seen / repetition_penalty)
            logits = ops.tensor_scatter_elements(logits, ids, penalised, axis=1)
        values, indices = ops.topk(logits / temperature, top_k, sorted=True)
        return ops.softmax(values, -1), indices
