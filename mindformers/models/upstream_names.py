"""Checkpoints written by upstream MindFormers, loaded into our models: renaming (and transposing) their tensors.

Upstream r1.0 GPT-2 and BLOOM build their blocks from `mindformers.modules.transformer`: LayerNorms hold
`gamma`/`beta`, q/k/v are `attention.dense1/2/3` stored (out, in), while `attention.projection` and the MLP's
`output.mapping` / `output.projection` are Linear layers with `transpose_b=False`, stored (in, out). Ours are
all (out, in) with LLaMA-style names (`wq`, `wo`, `w1`, `w2`, `attention_norm`), so those three are transposed.
Upstream LLaMA checkpoints already use our names. Optimizer moments (`adam_m.<name>`, `adam_v.<name>`) follow
the parameter they belong to, so a resume from an upstream checkpoint works too.

A family opts in with `upstream_name_to_ours(name) -> (our name, transposed) | [(our name, transposed), ...] |
DROP | None` in its `convert_weight.py` (None: not an upstream name; DROP: an upstream buffer with no parameter
here; a list: a fused tensor split along its first axis into that many equal parts, e.g. CLIP's q/k/v `in_proj`).
"""
import re

import mindspore as ms
import numpy as np

from mindformers.tools.errors import CheckpointError
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


def layernorm_block_renamer(block_prefix, global_names, our_prefix='model.layers.'):
    """-> upstream_name_to_ours for a family whose blocks are `<block_prefix><i>.<LAYERNORM_BLOCK suffix>` (ours:
    `<our_prefix><i>.<suffix>`) and whose other tensors are the {upstream name: our name} of `global_names` (none
    of them transposed). `block_prefix` may also be a {upstream prefix: our prefix} mapping (several stacks)."""
    stacks = block_prefix if isinstance(block_prefix, dict) else {block_prefix: our_prefix}
    return block_renamer(stacks, LAYERNORM_BLOCK, global_names, drop=_MASK_BUFFERS)


def block_renamer(stacks, block_names, global_names, drop=()):
    """-> upstream_name_to_ours: `<upstream prefix><i>.<suffix>` becomes `<our prefix><i>.<block_names[suffix]>` for
    each {upstream prefix: our prefix} of `stacks` (block_names values: (our suffix, transposed), or a list of them
    for a fused tensor); suffixes in `drop` are upstream buffers; other names come from `global_names`
    ({upstream: ours}, or {upstream: (ours, transposed)})."""
    blocks = [(re.compile('^' + re.escape(prefix) + r'(\d+)\.(.+)$'), ours) for prefix, ours in stacks.items()]

    def rename(name):
        if name in global_names:
            mapped = global_names[name]
            return mapped if isinstance(mapped, (tuple, list)) else (mapped, False)
        for block, our_prefix in blocks:
            match = block.match(name)
            if not match:
                continue
            suffix = match.group(2)
            if suffix in drop:
                return DROP
            if suffix not in block_names:
                return None
            mapped = block_names[suffix]
            if isinstance(mapped, list):
                return [(f'{our_prefix}{match.group(1)}.{part}', transposed) for part, transposed in mapped]
            return f'{our_prefix}{match.group(1)}.{mapped[0]}', mapped[1]
        return None
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
        parts = mapped if isinstance(mapped, list) else [mapped]
        if len(parts) > 1 and value.shape[0] % len(parts):
            raise CheckpointError(f"{source}: tensor '{name}' of shape {tuple(value.shape)} is {len(parts)} fused "
                                  f"tensors, but its first axis does not split into {len(parts)} equal parts")
        chunks = np.split(value.asnumpy(), len(parts)) if len(parts) > 1 else [None]
        for (our_name, transposed), chunk in zip(parts, chunks):
            our_name = prefix + our_name
            if transposed or chunk is not None:
                array = value.asnumpy() if chunk is None else chunk
                transposed_count += int(transposed)
                value_out = ms.Parameter(ms.Tensor(np.ascontiguousarray(array.T if transposed else array)),
                                         name=our_name, requires_grad=value.requires_grad)
            else:
                value_out = value
            out[our_name] = value_out
        converted += 1
    if converted:
        logger.info("%s: %d tensors have upstream MindFormers names; renamed to ours (%d transposed from (in, out)), "
                    "%d buffers dropped", source, converted, transposed_count, dropped)
    return out
