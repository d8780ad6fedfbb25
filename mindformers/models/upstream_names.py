"""Checkpoints written by upstream MindFormers, loaded into our models: renaming (and transposing) their tensors.

Upstream r1.0 GPT-2 and BLOOM build their blocks from `mindformers.modules.transformer`: LayerNorms hold
`gamma`/`beta`, q/k/v are `attention.dense1/2/3` stored (out, in), while `attention.projection` and the MLP's
`output.mapping` / `output.projection` are Linear layers with `transpose_b=False`, stored (in, out). Ours are
all (out, in) with LLaMA-style names (`wq`, `wo`, `w1`, `w2`, `attention_norm`), so those three are transposed.
Upstream LLaMA checkpoints already use our names. Optimizer moments (`adam_m.<name>`, `adam_v.<name>`) follow
the parameter they belong to, so a resume from an upstream checkpoint works too.

A family opts in with `upstream_name_to_ours(name) -> (our name, transposed) | DROP | None` in its
`convert_weight.py` (None: not an upstream name; DROP: an upstream buffer with no parameter here).
"""
import re

import mindspore as ms
import numpy as np

from mindformers.tools.logger import logger

DROP = 'drop'
OPTIMIZER_PREFIXES = ('adam_m.', 'adam_v.')

# upstream block suffix -> (our layernorm_block suffix, stored transposed upstream)
LAYERNORM_BLOCK = {
    'layernorm1.gamma': ('attention_norm.weight', False), 'layernorm1.beta': ('attention_norm.bias', False),
    'layernorm2.gamma': ('ffn_norm.weight', False), 'layernorm2.beta': ('ffn_norm.bias', False),
    'attention.dense1.weight': ('attention.wq.weight', False), 'attention.dense1.bias': ('attention.wq.bias', False),
    'attention.dense2.weight': ('attention.wk.weight', False), 'attention.dense2.bias': ('attention.wk.bias', False),
    'attention.dense3.weight': ('attention.wv.weight', False), 'attention.dense3.bias': ('attention.wv.bias', False),
    'attention.projection.weight': ('attention.wo.weight', True),
    'attention.projection.bias': ('attention.wo.bias', False),
    'output.mapping.weight': ('feed_forward.w1.weight', True), 'output.mapping.bias': ('feed_forward.w1.bias', False),
    'output.projection.weight': ('feed_forward.w2.weight', True),
    'output.projection.bias': ('feed_forward.w2.bias', False),
}
# causal-mask buffers upstream's GPT-2 converter writes next to the weights
_MASK_BUFFERS = ('attention.beta', 'attention.masked_beta')


def layernorm_block_renamer(block_prefix, global_names):
    """-> upstream_name_to_ours for a family whose blocks are `<block_prefix><i>.<LAYERNORM_BLOCK suffix>` and whose
    other tensors are the {upstream name: our name} of `global_names` (none of them transposed)."""
    block = re.compile('^' + re.escape(block_prefix) + r'(\d+)\.(.+)$')

    def rename(name):
        if name in global_names:
            return global_names[name], False
        match = block.match(name)
        if not match:
            return None
        suffix = match.group(2)
        if suffix in _MASK_BUFFERS:
            return DROP
        if suffix not in LAYERNORM_BLOCK:
            return None
        our_suffix, transposed = LAYERNORM_BLOCK[suffix]
        return f'model.layers.{match.group(1)}.{our_suffix}', transposed
    return rename


def convert_upstream_state_dict(params, rename, our_names, source='checkpoint'):
    """{name: Parameter} with upstream names -> ours. Names the model has are kept as they are; names `rename` does
    not know are passed through (the load then reports them as it reports any foreign name)."""
    converted, transposed_count, dropped, out = 0, 0, 0, {}
    for name, value in params.items():
        if name in our_names:
            out[name] = value
            continue
        prefix = next((p for p in OPTIMIZER_PREFIXES if name.startswith(p)), '')
        mapped = rename(name[len(prefix):])
        if mapped is None:
            out[name] = value
            continue
        if mapped == DROP:
            dropped += 1
            continue
        our_name, transposed = mapped
        our_name = prefix + our_name
        if transposed:
            transposed_count += 1
            array = value.asnumpy()
            value = ms.Parameter(ms.Tensor(np.ascontiguousarray(array.T)), name=our_name,
                                 requires_grad=value.requires_grad)
        out[our_name] = value
        converted += 1
    if converted:
        logger.info("%s: %d tensors have upstream MindFormers names; renamed to ours (%d transposed from (in, out)), "
                    "%d mask buffers dropped", source, converted, transposed_count, dropped)
    return out
