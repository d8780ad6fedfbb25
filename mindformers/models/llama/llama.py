"""LLaMA: token embedding -> pre-norm blocks (RMSNorm, RoPE attention with grouped KV heads, SwiGLU) -> RMSNorm
-> LM head. The layers are the shared ones in `modules/`; the head, loss and generation are `CausalLMBase`'s."""
from mindspore import nn

from mindformers.models.causal_lm import CausalLMBase
from mindformers.models.llama.llama_config import LlamaConfig
from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.embeddings import VocabEmbedding
from mindformers.modules.feed_forward import SwiGLUFeedForward
from mindformers.modules.masks import causal_mask
from mindformers.modules.normalization import RMSNorm
from mindformers.modules.rotary import RotaryEmbedding
from mindformers.modules.transformer import RotaryDecoderTrunk, TransformerBlock, apply_parallel_config
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

LlamaEmbedding = VocabEmbedding  # the upstream name; parameter `embedding_weight`


def llama_block(config, layer_id):
    """One decoder layer: RMSNorm -> attention (RoPE on the whole head) -> RMSNorm -> SwiGLU."""
    dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
    head_dim = config.hidden_size // config.num_heads
    attention_norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config.layernorm_compute_type,
                             config.param_init_type)
    attention = MultiHeadAttention(config.hidden_size, config.num_heads, config.n_kv_heads,
                                   qkv_has_bias=config.qkv_has_bias, rotary_dim=head_dim,
                                   softmax_compute_type=config.softmax_compute_type,
                                   use_past=bool(config.use_past), batch_size=config.batch_size,
                                   max_seq_length=config.seq_length, **dtypes)
    ffn_norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config.layernorm_compute_type,
                       config.param_init_type)
    feed_forward = SwiGLUFeedForward(config.hidden_size, config.ffn_hidden_size, **dtypes)
    block = TransformerBlock(attention_norm, attention, ffn_norm, feed_forward)
    block.layer_id = layer_id
    return block


LLamaDecodeLayer = llama_block  # upstream name of the layer


class LlamaModel(RotaryDecoderTrunk):
    """The transformer trunk: returns final hidden states (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.embedding_init_type)
        self.layers = nn.CellList([llama_block(config, i) for i in range(config.num_layers)])
        self.norm_out = RMSNorm(config.hidden_size, config.rms_norm_eps, config.layernorm_compute_type,
                                config.param_init_type)
        # +1: eval feeds the full seq_length + 1 record (the shift happens in the metric)
        max_positions = max(config.seq_length, config.max_position_embedding) + 1
        self.rotary = RotaryEmbedding(config.hidden_size // config.num_heads, max_positions, config.theta,
                                      config.scaling_factor or 1.0)
        self.mask = causal_mask(max_positions)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        """Declare upstream's shard strategies, each layer's pipeline stage and recompute setting."""
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        apply_parallel_config(parallel_config, self.layers, first=[self.tok_embeddings], last=[self.norm_out],
                              num_heads=self.config.num_heads,
                              num_kv_heads=self.config.n_kv_heads or self.config.num_heads)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class LlamaForCausalLM(CausalLMBase):
    """LLaMA with an LM head (tied to the embeddings with `tie_word_embeddings`)."""
    _support_list = LlamaConfig._support_list
    config_class = LlamaConfig

    def __init__(self, config=None):
        config = config if config is not None else LlamaConfig()
        super().__init__(config)
        self.build_causal_lm(LlamaModel(config), config)

    def construct(self, input_ids, labels=None, input_position=None, position_ids=None, attention_mask=None,
                  input_embeds=None, init_reset=None, batch_valid_length=None):
        return self.lm_forward(input_ids, labels)
