"""GLM-6B (ChatGLM-6B): token embedding -> DeepNorm blocks (LayerNorm, multi-head attention with q/k/v/out biases and
2D rotary positions, GELU MLP; each residual is the normed input times sqrt(2 * num_layers)) -> LayerNorm -> untied
output layer, under a prefix-LM mask: the prompt (up to `<sop>`) is seen bidirectionally, the answer causally.

Position ids follow GLM: up to the context length (the index of `<sop>`) the position is the token's index and the
block position 0; from `<sop>` on, the position stays at the mask token's index (`[gMASK]`, else `[MASK]`) and the
block position counts 1, 2, ... A row without `<sop>` has context length 0 (causal over the whole row).
Training rows (KeyWordGenDataset version 1) bring `position_ids` (batch, 2, seq) and `attention_mask`
(batch, 1, seq, seq; 1 = hidden) made by the same rule; without them they are computed here from the ids.
The layers are the shared ones in `modules/`; the head, loss and generation are `CausalLMBase`'s.
"""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor

from mindformers.models.causal_lm import CausalLMBase, build_with_lora
from mindformers.models.glm.glm_config import GLMConfig
from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.embeddings import VocabEmbedding
from mindformers.modules.feed_forward import FeedForward
from mindformers.modules.masks import MASK_VALUE, decode_mask, prefix_causal_mask
from mindformers.modules.normalization import LayerNorm
from mindformers.modules.rotary import RotaryEmbedding
from mindformers.modules.transformer import TransformerBlock, apply_parallel_config
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['GLMModel', 'GLMForPreTraining', 'GLMChatModel', 'GLMForPreTrainingWithLora', 'GLMChatModelWithLora']

# our child name -> upstream's (LoRA target regexes from upstream YAMLs, e.g. '.*query_key_value.*', match either)
GLM_UPSTREAM_NAMES = {'wq': 'query_key_value', 'wk': 'query_key_value', 'wv': 'query_key_value', 'wo': 'dense',
                      'w1': 'dense_h_to_4h', 'w2': 'dense_4h_to_h', 'feed_forward': 'mlp',
                      'attention_norm': 'input_layernorm', 'ffn_norm': 'post_attention_layernorm',
                      'tok_embeddings': 'word_embeddings', 'norm_out': 'final_layernorm'}


def _layer_norm(config):
    return LayerNorm(config.hidden_size, eps=config.layernorm_epsilon, compute_type=config.layernorm_compute_type,
                     param_init_type=config.param_init_type)


def glm_block(config, layer_id):
    """One GLM-6B layer: LayerNorm -> attention (2D RoPE over the whole head) -> LayerNorm -> GELU MLP, with
    DeepNorm residuals."""
    dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
    attention = MultiHeadAttention(config.hidden_size, config.num_heads, qkv_has_bias=True, out_has_bias=True,
                                   rotary_dim=config.head_dim, rotary_2d=True,
                                   attention_dropout=config.attention_dropout_rate,
                                   softmax_compute_type=config.softmax_compute_type, use_past=bool(config.use_past),
                                   batch_size=config.batch_size, max_seq_length=config.seq_length, **dtypes)
    feed_forward = FeedForward(config.hidden_size, config.inner_hidden_size, 'gelu', has_bias=True, **dtypes)
    block = TransformerBlock(_layer_norm(config), attention, _layer_norm(config), feed_forward,
                             hidden_dropout=config.hidden_dropout_rate,
                             norm_residual_scale=math.sqrt(2 * config.num_layers))
    block.layer_id = layer_id
    return block


def _first_index(hits):
    """(index of the first True in each row, whether the row has one), both (batch,)."""
    hits = ops.cast(hits, ms.float32)
    return ops.cast(ops.argmax(hits, 1), ms.int32), ops.reduce_max(hits, 1) > 0


class GLMModel(nn.Cell):
    """The GLM-6B trunk: returns final hidden states (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.param_init_type)
        self.embedding_dropout = nn.Dropout(p=config.embedding_dropout_prob) if config.embedding_dropout_prob \
            else None
        self.layers = nn.CellList([glm_block(config, i) for i in range(config.num_layers)])
        self.norm_out = _layer_norm(config) if config.use_final_layernorm else None
        # each half of a head rotates with its own ids: positions go up to seq_length, block positions one further
        self.rotary = RotaryEmbedding(config.head_dim // 2, config.seq_length + 1)
        self.bos_token_id = config.bos_token_id
        self.gmask_token_id = config.gmask_token_id
        self.mask_token_id = config.mask_token_id
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.use_past = bool(config.use_past)
        if self.use_past:   # prefill keeps each row's context length and mask position for the decode steps
            # (checkpoints need not hold them: 'decode_state_' names are optional on load, as the KV caches are)
            self.decode_state_context_lengths = Parameter(Tensor(np.zeros(config.batch_size, np.int32)),
                                                          name='decode_state_context_lengths', requires_grad=False)
            self.decode_state_mask_positions = Parameter(Tensor(np.zeros(config.batch_size, np.int32)),
                                                         name='decode_state_mask_positions', requires_grad=False)

    def context_and_mask_position(self, tokens):
        """Per row (batch,) int32: the context length (index of the first `<sop>`; 0 without one) and the mask
        token's index within the context (`[gMASK]` if it has one, else `[MASK]`; 0 without either), so tokens
        generated after `<sop>` never move the positions."""
        bsz, seq_len = tokens.shape
        context, has_bos = _first_index(ops.equal(tokens, self.bos_token_id))
        index = ops.reshape(ops.arange(0, seq_len, dtype=ms.int32), (1, seq_len))
        in_context = ops.less(index, ops.reshape(ops.where(has_bos, context, ops.full_like(context, seq_len)),
                                                 (bsz, 1)))
        gmask, has_gmask = _first_index(ops.logical_and(ops.equal(tokens, self.gmask_token_id), in_context))
        mask, _ = _first_index(ops.logical_and(ops.equal(tokens, self.mask_token_id), in_context))
        return ops.where(has_bos, context, ops.zeros_like(context)), ops.where(has_gmask, gmask, mask)

    @staticmethod
    def glm_position_ids(index, context, mask_position):
        """Position and block position ids at `index` (broadcast against (batch, 1) context / mask position)."""
        after = ops.greater_equal(index, context)
        position = ops.where(after, ops.broadcast_to(mask_position, index.shape), index)
        block = ops.where(after, index - context + 1, ops.zeros_like(index))
        return position, block

    def _embed(self, tokens):
        h = ops.cast(self.tok_embeddings(tokens), self.compute_dtype)
        return self.embedding_dropout(h) if self.embedding_dropout is not None else h

    def _final_norm(self, h):
        return h if self.norm_out is None else self.norm_out(h)

    def construct(self, tokens, fill_cache=False, position_ids=None, attention_mask=None):
        """tokens (batch, seq); position_ids (batch, 2, seq) and attention_mask (batch, 1, seq, seq) with 1 where a
        query may not look (upstream's layout), both optional. fill_cache: prefill of the KV caches."""
        bsz, seq_len = tokens.shape
        context, mask_position = self.context_and_mask_position(tokens)
        if fill_cache:
            ops.assign(self.decode_state_context_lengths, context)
            ops.assign(self.decode_state_mask_positions, mask_position)
        if position_ids is None:
            index = ops.broadcast_to(ops.reshape(ops.arange(0, seq_len, dtype=ms.int32), (1, seq_len)),
                                     (bsz, seq_len))
            position, block = self.glm_position_ids(index, ops.reshape(context, (bsz, 1)),
                                                    ops.reshape(mask_position, (bsz, 1)))
        else:
            position_ids = ops.cast(position_ids, ms.int32)
            position, block = position_ids[:, 0], position_ids[:, 1]
        if attention_mask is None:
            bias = prefix_causal_mask(context, seq_len)
        else:
            bias = ops.reshape(ops.cast(attention_mask, ms.float32), (bsz, 1, seq_len, seq_len)) * MASK_VALUE
        cos, sin = self.rotary.two_d(position, block)                    # (batch, seq, head_dim)
        freqs = (ops.expand_dims(cos, 1), ops.expand_dims(sin, 1))
        h = self._embed(tokens)
        for layer in self.layers:
            h = layer(h, bias, freqs, fill_cache)
        return self._final_norm(h)

    def decode(self, tokens, position):
        """tokens: (batch, 1) at `position` (batch,) of each row, after a prefill of the same rows."""
        bsz = tokens.shape[0]
        position_id, block = self.glm_position_ids(position, self.decode_state_context_lengths,
                                                   self.decode_state_mask_positions)
        cos, sin = self.rotary.two_d(position_id, block)                  # (batch, head_dim)
        freqs = (ops.reshape(cos, (bsz, 1, 1, -1)), ops.reshape(sin, (bsz, 1, 1, -1)))
        mask = decode_mask(position, self.config.seq_length)
        h = self._embed(tokens)
        for layer in self.layers:
            h = layer.decode(h, mask, freqs, position)
        return self._final_norm(h)

    def apply_parallel_config(self, parallel_config):
        """Declare upstream's shard strategies, each layer's pipeline stage and recompute setting."""
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        apply_parallel_config(parallel_config, self.layers, first=[self.tok_embeddings],
                              last=[self.norm_out] if self.norm_out is not None else [],
                              num_heads=self.config.num_heads)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class GLMForPreTraining(CausalLMBase):
    """GLM-6B with its output layer. Train: `input_ids`, `labels` (already shifted, -100 where nothing is
    predicted), and optionally `position_ids`, `attention_mask` (upstream's four columns); eval/predict: logits.
    Generation needs prompts that end with `[gMASK] <sop>` (ChatGLMTokenizer adds them)."""
    _support_list = ['glm_6b', 'glm_tiny']
    config_class = GLMConfig
    upstream_param_aliases = GLM_UPSTREAM_NAMES
    label_shift = 'dataset'
    shorter_records = True    # training rows may be shorter than seq_length (upstream: 64 + 64 + 1 of 512)

    def __init__(self, config=None):
        config = config if config is not None else GLMConfig()
        super().__init__(config)
        self.build_causal_lm(GLMModel(config), config)

    def construct(self, input_ids, labels=None, position_ids=None, attention_mask=None, input_position=None,
                  init_reset=True, batch_valid_length=None):
        if position_ids is None and attention_mask is None:
            return self.lm_forward(input_ids, labels)
        return self.lm_forward(input_ids, labels, trunk_inputs=(position_ids, attention_mask))

    def check_prompts(self, rows, max_length):
        """GLM prompts carry `[gMASK]` (or `[MASK]`) and then `<sop>`, with room for an answer after them."""
        bos, masks = self.config.bos_token_id, (self.config.gmask_token_id, self.config.mask_token_id)
        for index, row in enumerate(rows):
            if bos not in row or not any(token in row[:row.index(bos)] for token in masks):
                raise ConfigError(f"generate: prompt {index} has no '[gMASK] <sop>' (ids {masks[0]}, {bos}); GLM "
                                  f"prompts end with them: encode with ChatGLMTokenizer (add_special_tokens=True) "
                                  f"or set model_config.gmask_token_id / bos_token_id to your tokenizer's ids")
            if len(row) >= max_length:
                raise ConfigError(f"generate: prompt {index} has {len(row)} tokens with '[gMASK] <sop>', which "
                                  f"leaves no room for an answer within max_length {max_length} (seq_length "
                                  f"{self.config.seq_length}); shorten the prompt or raise seq_length")

    def chat(self, tokenizer, query, history=None, max_length=None, do_sample=True, top_p=0.7, temperature=0.95,
             **kwargs):
        """One ChatGLM-6B chat turn: the `[Round n]\\n问：...\\n答：` prompt of `history` + `query` (just the query
        when there is no history), generated up to `max_length` tokens (default seq_length), the answer cleaned
        by `process_response`. Returns (response, history + [(query, response)]). Sampling defaults are
        ChatGLM-6B's (top_p 0.7, temperature 0.95); do_sample=False decodes greedily."""
        from mindformers.models.glm.glm_processor import glm_chat  # pylint: disable=import-outside-toplevel
        return glm_chat(self, tokenizer, query, history, max_length, do_sample=do_sample, top_p=top_p,
                        temperature=temperature, **kwargs)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class GLMChatModel(GLMForPreTraining):
    """GLM-6B for chat and inference (upstream's arch of run_glm_6b_infer.yaml, usually with use_past True). The
    network is GLMForPreTraining's; sampling (top_k, top_p, repetition_penalty) runs in `generate`, on every
    device (upstream moves it into the graph on Ascend with is_npu_acceleration)."""
    _support_list = ['glm_6b_chat', 'glm_tiny_chat']


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class GLMForPreTrainingWithLora(GLMForPreTraining):
    """GLM-6B with LoRA (upstream's arch of run_glm_6b_lora.yaml), built from `config.pet_config`. Without
    `target_modules` LoRA goes on the attention's query_key_value (our wq, wk, wv), as upstream; only the LoRA
    weights train. `checkpoint_name_or_path` (the base model or a LoRA checkpoint) is loaded after adapting."""
    _support_list = ['glm_6b_lora', 'glm_tiny_lora']
    default_lora_target_modules = '.*query_key_value.*'

    def __init__(self, config=None, pet=None, **kwargs):
        build_with_lora(self, GLMForPreTraining, config if config is not None else GLMConfig())


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class GLMChatModelWithLora(GLMChatModel):
    """GLMChatModel with LoRA (upstream's arch of run_glm_6b_lora_infer.yaml): load a LoRA fine-tuned checkpoint
    and chat with it."""
    _support_list = ['glm_6b_lora_chat', 'glm_tiny_lora_chat']
    default_lora_target_modules = '.*query_key_value.*'

    def __init__(self, config=None, pet=None, **kwargs):
        build_with_lora(self, GLMChatModel, config if config is not None else GLMConfig())
