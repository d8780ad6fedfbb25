"""ChatGLM2: token embedding -> pre-norm blocks (RMSNorm, grouped-query attention with q/k/v biases and RoPE on
the first half of each head in neighbouring pairs, SwiGLU) -> RMSNorm -> untied output layer.

The layers are the shared ones in `modules/`; the head, loss and generation are `CausalLMBase`'s. Training records
are `seq_length` tokens with `labels` shifted by the dataset (upstream's KeyWordGenDataset), so the loss compares
logits and labels position by position.
"""
from mindspore import nn

from mindformers.models.causal_lm import CausalLMBase, build_then_adapt, build_with_lora
from mindformers.models.glm2.glm2_config import ChatGLM2Config
from mindformers.modules.attention import MultiHeadAttention
from mindformers.modules.embeddings import VocabEmbedding
from mindformers.modules.feed_forward import SwiGLUFeedForward
from mindformers.modules.masks import causal_mask
from mindformers.modules.normalization import LayerNorm, RMSNorm
from mindformers.modules.rotary import RotaryEmbedding
from mindformers.modules.transformer import RotaryDecoderTrunk, TransformerBlock, apply_parallel_config
from mindformers.tools.dtype import runtime_dtype
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

# our child name -> upstream's (LoRA target regexes from upstream YAMLs, e.g. '.*query_key_value.*', match either)
GLM2_UPSTREAM_NAMES = {'wq': 'query_key_value', 'wk': 'query_key_value', 'wv': 'query_key_value', 'wo': 'dense',
                       'w1': 'dense_h_to_4h', 'w3': 'dense_h_to_4h', 'w2': 'dense_4h_to_h',
                       'attention_norm': 'input_layernorm', 'ffn_norm': 'post_attention_layernorm'}


def _norm(config):
    if config.rmsnorm:
        return RMSNorm(config.hidden_size, config.layernorm_epsilon, config.layernorm_compute_type,
                       config.param_init_type)
    return LayerNorm(config.hidden_size, eps=config.layernorm_epsilon, compute_type=config.layernorm_compute_type,
                     param_init_type=config.param_init_type)


def glm2_block(config, layer_id):
    """One ChatGLM2 layer: norm -> attention (RoPE on kv_channels / 2 channels, interleaved) -> norm -> SwiGLU."""
    dtypes = dict(param_init_type=config.param_init_type, compute_dtype=config.compute_dtype)
    attention = MultiHeadAttention(config.hidden_size, config.num_heads, config.n_kv_heads,
                                   qkv_has_bias=bool(config.add_qkv_bias or config.add_bias_linear),
                                   out_has_bias=bool(config.add_bias_linear), rotary_dim=config.kv_channels // 2,
                                   rotary_interleaved=True, attention_dropout=config.attention_dropout,
                                   softmax_compute_type=config.softmax_compute_type, use_past=bool(config.use_past),
                                   batch_size=config.batch_size, max_seq_length=config.seq_length, **dtypes)
    feed_forward = SwiGLUFeedForward(config.hidden_size, config.ffn_hidden_size, has_bias=bool(config.add_bias_linear),
                                     **dtypes)
    block = TransformerBlock(_norm(config), attention, _norm(config), feed_forward,
                             hidden_dropout=config.hidden_dropout)
    block.layer_id = layer_id
    return block


class ChatGLM2Model(RotaryDecoderTrunk):
    """The ChatGLM2 trunk: returns final hidden states (batch, seq, hidden)."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.tok_embeddings = VocabEmbedding(config.vocab_size, config.hidden_size, config.param_init_type)
        self.layers = nn.CellList([glm2_block(config, i) for i in range(config.num_layers)])
        self.norm_out = _norm(config) if config.post_layer_norm else None
        max_positions = config.seq_length + 1  # eval may feed a seq_length + 1 record
        self.rotary = RotaryEmbedding(config.kv_channels // 2, max_positions, 10000.0 * config.rope_ratio,
                                      interleaved=True)
        self.mask = causal_mask(max_positions)
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')

    def apply_parallel_config(self, parallel_config):
        """Declare upstream's shard strategies, each layer's pipeline stage and recompute setting."""
        dp, mp = parallel_config.data_parallel, parallel_config.model_parallel
        self.tok_embeddings.shard(((1, 1), (dp, 1)) if parallel_config.vocab_emb_dp else ((mp, 1), (dp, 1)))
        apply_parallel_config(parallel_config, self.layers, first=[self.tok_embeddings],
                              last=[self.norm_out] if self.norm_out is not None else [],
                              num_heads=self.config.num_heads,
                              num_kv_heads=self.config.n_kv_heads or self.config.num_heads)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ChatGLM2ForConditionalGeneration(CausalLMBase):
    """ChatGLM2 with its output layer. Train: `input_ids` and `labels` (batch, seq_length), labels already shifted
    (-100 where nothing is predicted); without labels, a seq_length + 1 record is shifted here as for LLaMA."""
    _support_list = ChatGLM2Config._support_list
    config_class = ChatGLM2Config
    upstream_param_aliases = GLM2_UPSTREAM_NAMES
    label_shift = 'dataset'

    takes_prefix = False   # P-Tuning v2 prefixes: ChatGLM2WithPtuning2

    def __init__(self, config=None):
        config = config if config is not None else ChatGLM2Config()
        if config.pre_seq_len and not self.takes_prefix:
            raise ConfigError(f"model_config.pre_seq_len {config.pre_seq_len} asks for P-Tuning v2 prefixes, which "
                              f"{type(self).__name__} has not; use arch ChatGLM2WithPtuning2 with a pet_config "
                              f"(pet_type: ptuning2), or set pre_seq_len null")
        super().__init__(config)
        self.build_causal_lm(ChatGLM2Model(config), config)

    def construct(self, input_ids, labels=None, input_position=None, position_ids=None, attention_mask=None,
                  input_embeds=None, init_reset=True, batch_valid_length=None, prefix_key_values=None):
        return self.lm_forward(input_ids, labels)

    def chat(self, tokenizer, query, history=None, max_length=None, do_sample=True, top_p=0.8, temperature=0.8,
             **kwargs):
        """One ChatGLM2 chat turn: the `[Round n]\\n\\n问：...\\n\\n答：` prompt of `history` + `query`, generated
        up to `max_length` tokens (default seq_length), the answer cleaned by `process_response`.

        Returns (response, history + [(query, response)]). Sampling defaults are ChatGLM2's (top_p 0.8,
        temperature 0.8); do_sample=False decodes greedily. Other keywords go to `generate`.
        """
        from mindformers.models.glm.glm_processor import glm_chat  # pylint: disable=import-outside-toplevel
        return glm_chat(self, tokenizer, query, history, max_length, do_sample=do_sample, top_p=top_p,
                        temperature=temperature, **kwargs)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ChatGLM2WithLora(ChatGLM2ForConditionalGeneration):
    """ChatGLM2 with LoRA (upstream's arch of run_glm2_6b_lora.yaml), built from `config.pet_config` (pet_type lora,
    lora_rank, lora_alpha, lora_dropout). Without `target_modules` LoRA goes on the attention's query_key_value
    (our wq, wk, wv), as upstream; only the LoRA weights train. `checkpoint_name_or_path` (the base model, or a
    LoRA checkpoint) is loaded after the adaptation."""
    _support_list = ['glm2_6b_lora', 'glm2_tiny_lora']
    default_lora_target_modules = '.*query_key_value.*'

    def __init__(self, config=None):
        build_with_lora(self, ChatGLM2ForConditionalGeneration, config if config is not None else ChatGLM2Config())


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class ChatGLM2WithPtuning2(ChatGLM2ForConditionalGeneration):
    """ChatGLM2 with P-Tuning v2 (upstream's arch of run_glm2_6b_ptuning2.yaml): `config.pet_config` (pet_type
    ptuning2, pre_seq_len, prefix_projection, projection_dim, dropout_prob) adds `pre_seq_len` trainable keys and
    values to every layer's attention (`prefix_encoder`, a Ptuning2Encoder); every other weight is frozen.
    Generation recomputes the sequence each step (use_past must be False: the KV cache holds no prefix)."""
    _support_list = ['glm2_6b_ptuning2', 'glm2_tiny_ptuning2']
    takes_prefix = True
    kv_cache_generation = False

    def __init__(self, config=None):
        from mindformers.pet.pet_config import Ptuning2Config  # pylint: disable=import-outside-toplevel
        from mindformers.pet.tuners.ptuning2_adapter import Ptuning2Encoder  # pylint: disable=import-outside-toplevel
        config = config if config is not None else ChatGLM2Config()
        pet_config = getattr(config, 'pet_config', None)
        if not pet_config:
            raise ConfigError("ChatGLM2WithPtuning2 needs model_config.pet_config (pet_type: ptuning2, pre_seq_len)")
        if not isinstance(pet_config, Ptuning2Config):
            pet_config = Ptuning2Config(**dict(pet_config))
        if config.use_past:
            raise ConfigError("ChatGLM2WithPtuning2: use_past True is not supported (the KV cache holds no P-Tuning "
                              "prefix); set model_config.use_past False")
        config.pre_seq_len = pet_config.pre_seq_len   # as upstream, the pet_config's length wins

        def add_prefix():
            self.prefix_encoder = Ptuning2Encoder(pet_config.pre_seq_len, config.num_layers, config.n_kv_heads or
                                                  config.num_heads, config.kv_channels, pet_config.prefix_projection,
                                                  pet_config.projection_dim, pet_config.dropout_prob,
                                                  config.param_init_type, config.compute_dtype)
            for param in self.get_parameters():
                param.requires_grad = param.name.startswith('prefix_encoder.')
            self.pet_config = pet_config
        build_then_adapt(self, ChatGLM2ForConditionalGeneration, config, add_prefix)

    def logits(self, tokens):
        prefix = self.prefix_encoder(tokens.shape[0])
        return self._head(self.model(tokens, False, prefix))
