"""LLaMA: token embedding -> decoder layers (RMSNorm, RoPE attention, SwiGLU) -> norm -> LM head -> loss."""
import mindspore as ms
from mindspore import nn, ops, Parameter
from mindspore.common.initializer import initializer, Normal

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.models.base_model import BaseModel
from mindformers.models.llama.llama_config import LlamaConfig
from mindformers.models.utils import runtime_dtype, on_cpu
from mindformers.modules.attention import CausalSelfAttention, causal_mask, MASK_VALUE
from mindformers.modules.feed_forward import SwiGLUFeedForward
from mindformers.modules.layers import Linear
from mindformers.modules.normalization import RMSNorm
from mindformers.modules.rotary import rotary_tables
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


class LlamaEmbedding(nn.Cell):
    """Token id -> vector lookup; the table is `embedding_weight` (vocab, hidden)."""

    def __init__(self, vocab_table_size, embedding_size, param_init_type='float32'):
        super().__init__()
        self.embedding_weight = Parameter(
            initializer(Normal(sigma=0.02), (vocab_table_size, embedding_size),
                        runtime_dtype(param_init_type, 'param_init_type')), name='embedding_weight')
        self.gather = ops.Gather()

    def shard(self, strategy):
        self.gather.shard(strategy)
        return self

    def construct(self, input_ids):
        return self.gather(self.embedding_weight, input_ids, 0)


class LLamaDecodeLayer(nn.Cell):
    """Pre-norm block: x + attention(norm(x)), then + feed_forward(norm(x))."""

    def __init__(self, config, layer_id):
        super().__init__()
        self.layer_id = layer_id
        dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        self.attention_norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config.layernorm_compute_type,
                                      config.param_init_type)
        self.attention = CausalSelfAttention(config.hidden_size, config.num_heads, config.n_kv_heads,
                                             qkv_has_bias=config.qkv_has_bias,
                                             softmax_compute_type=config.softmax_compute_type,
                                             use_past=bool(config.use_past), batch_size=config.batch_size,
                                             max_seq_length=config.seq_length, **dtypes)
        self.ffn_norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config.layernorm_compute_type,
                                config.param_init_type)
        self.feed_forward = SwiGLUFeedForward(config.hidden_size, config.ffn_hidden_size, **dtypes)

    def construct(self, x, cos, sin, mask, fill_cache=False):
        h = x + self.attention(self.attention_norm(x), cos, sin, mask, fill_cache)
        return h + self.feed_forward(self.ffn_norm(h))

    def decode(self, x, cos, sin, position, mask):
        h = x + self.attention.decode(self.attention_norm(x), cos, sin, position, mask)
        return h + self.feed_forward(self.ffn_norm(h))


class LlamaModel(nn.Cell):
    """The transformer trunk: returns final hidden states (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = LlamaEmbedding(config.vocab_size, config.hidden_size, config.embedding_init_type)
        self.layers = nn.CellList([LLamaDecodeLayer(config, i) for i in range(config.num_layers)])
        self.norm_out = RMSNorm(config.hidden_size, config.rms_norm_eps, config.layernorm_compute_type,
                                config.param_init_type)
        # +1: eval feeds the full seq_length + 1 record (the shift happens in the metric)
        max_positions = max(config.seq_length, config.max_position_embedding) + 1
        self.cos, self.sin = rotary_tables(config.hidden_size // config.num_heads, max_positions, config.theta,
                                           config.scaling_factor or 1.0)
        self.mask = causal_mask(max_positions)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        """Declare upstream's shard strategies, each layer's pipeline stage and recompute setting."""
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        stages = parallel_config.pipeline_stage
        if self.config.num_heads % mp or (self.config.n_kv_heads or self.config.num_heads) % mp:
            raise ConfigError(f"num_heads {self.config.num_heads} / n_kv_heads {self.config.n_kv_heads} must be "
                              f"divisible by parallel_config.model_parallel {mp}")
        vocab_split = ((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1))
        self.tok_embeddings.shard(vocab_split)
        self.tok_embeddings.pipeline_stage = 0
        per_stage = -(-len(self.layers) // stages)  # ceil
        recompute = getattr(parallel_config.recompute, 'recompute', False)
        for layer_id, layer in enumerate(self.layers):
            layer.attention_norm.shard((dp, 1, 1))
            layer.ffn_norm.shard((dp, 1, 1))
            layer.attention.shard(dp, mp)
            layer.feed_forward.shard(dp, mp)
            layer.pipeline_stage = min(layer_id // per_stage, stages - 1)
            if recompute:
                layer.recompute()
        self.norm_out.shard((dp, 1, 1))
        self.norm_out.pipeline_stage = stages - 1

    def construct(self, tokens, fill_cache=False):
        seq_len = tokens.shape[1]
        h = ops.cast(self.tok_embeddings(tokens), self.compute_dtype)
        cos = self.cos[:seq_len]
        sin = self.sin[:seq_len]
        mask = self.mask[:seq_len, :seq_len]
        for layer in self.layers:
            h = layer(h, cos, sin, mask, fill_cache)
        return self.norm_out(h)

    def decode(self, tokens, position):
        """tokens: (batch, 1) at `position` (batch,) of each row; the KV caches hold every earlier slot."""
        bsz = tokens.shape[0]
        h = ops.cast(self.tok_embeddings(tokens), self.compute_dtype)
        cos = ops.reshape(ops.gather(self.cos, position, 0), (bsz, 1, 1, -1))
        sin = ops.reshape(ops.gather(self.sin, position, 0), (bsz, 1, 1, -1))
        slots = ops.arange(0, self.config.seq_length, dtype=ms.int32)
        later = ops.greater(ops.expand_dims(slots, 0), ops.expand_dims(position, 1))      # (batch, seq)
        mask = ops.reshape(ops.cast(later, ms.float32) * MASK_VALUE, (bsz, 1, 1, self.config.seq_length))
        for layer in self.layers:
            h = layer.decode(h, cos, sin, position, mask)
        return self.norm_out(h)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class LlamaForCausalLM(BaseModel):
    """LLaMA with an LM head.

    Training: `input_ids` (batch, seq_length + 1) -> scalar loss on the shifted tokens, masked where
    the input is padding or the label is `ignore_token_id`.
    Eval/predict: returns (logits (batch, seq, vocab), tokens, input_mask).
    """
    _support_list = LlamaConfig._support_list
    config_class = LlamaConfig

    def __init__(self, config=None):
        config = config if config is not None else LlamaConfig()
        super().__init__(config)
        if config.use_flash_attention and on_cpu():
            logger.warning("use_flash_attention needs the Ascend FlashAttentionScore kernel; using plain "
                           "attention on CPU")
        self.model = LlamaModel(config)
        self.tie_word_embeddings = bool(config.tie_word_embeddings)
        if not self.tie_word_embeddings:
            self.lm_head = Linear(config.hidden_size, config.vocab_size, has_bias=False,
                                  param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
        parallel_config = getattr(config, 'parallel_config', None)
        if isinstance(parallel_config, TransformerOpParallelConfig):
            self.model.apply_parallel_config(parallel_config)
            if not self.tie_word_embeddings:
                dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
                self.lm_head.shard(((dp, 1), (1, 1)) if parallel_config.vocab_emb_dp else ((dp, 1), (mp, 1)))
                self.lm_head.pipeline_stage = parallel_config.pipeline_stage - 1
        self.loss = CrossEntropyLoss(parallel_config=getattr(config, 'parallel_config', None))
        self.pad_token_id = config.pad_token_id
        self.ignore_token_id = config.ignore_token_id
        self.vocab_size = config.vocab_size
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.load_checkpoint(config)

    def no_weight_decay_keywords(self):
        return ('norm',)

    def logits(self, tokens):
        return self._head(self.model(tokens))

    def _head(self, hidden):
        """LM head over hidden states (batch, seq, hidden) -> (batch, seq, vocab)."""
        if self.tie_word_embeddings:
            weight = ops.cast(self.model.tok_embeddings.embedding_weight, self.compute_dtype)
            bsz, seq_len, dim = hidden.shape
            out = ops.matmul(ops.reshape(hidden, (-1, dim)), ops.transpose(weight, (1, 0)))
            return ops.reshape(out, (bsz, seq_len, self.vocab_size))
        return self.lm_head(hidden)

    def prefill_next_logits(self, input_ids, batch_valid_length):
        """use_past prefill: input_ids (batch, seq_length) right-padded; fills the KV caches and returns the
        logits after each row's last real token, (batch, vocab)."""
        hidden = self.model(input_ids, True)
        last = ops.reshape(batch_valid_length - 1, (-1, 1, 1))
        last = ops.broadcast_to(last, (hidden.shape[0], 1, hidden.shape[2]))
        hidden = ops.gather_elements(hidden, 1, ops.cast(last, ms.int32))                 # (batch, 1, hidden)
        return ops.cast(ops.squeeze(self._head(hidden), 1), ms.float32)

    def decode_next_logits(self, input_ids, position):
        """use_past decode: input_ids (batch, 1) at `position` (batch,) -> next-token logits (batch, vocab)."""
        return ops.cast(ops.squeeze(self._head(self.model.decode(input_ids, position)), 1), ms.float32)

    def construct(self, input_ids, labels=None, input_position=None, position_ids=None, attention_mask=None,
                  input_embeds=None, init_reset=None, batch_valid_length=None):
        bsz, seq_len = input_ids.shape
        tokens = input_ids[:, :seq_len - 1] if self.training else input_ids
        logits = ops.cast(self.logits(tokens), ms.float32)
        input_mask = ops.cast(ops.not_equal(tokens, self.pad_token_id), ms.float32)
        if not self.training:
            return logits, tokens, input_mask
        if labels is None:
            labels = input_ids[:, 1:]
        else:
            labels = labels[:, 1:]
            input_mask = input_mask * ops.cast(ops.not_equal(labels, self.ignore_token_id), ms.float32)
        labels = ops.maximum(labels, 0)  # ignored positions are masked; keep their index in range
        return self.loss(ops.reshape(logits, (-1, self.vocab_size)), ops.reshape(labels, (-1,)),
                         ops.reshape(input_mask, (-1,)))
