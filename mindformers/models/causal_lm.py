"""CausalLMBase: what every decoder-only LM shares — the shift, loss masks, LM head and generation contract.

A family supplies its config and a trunk (`self.model`) with this contract:
- `construct(tokens, fill_cache=False) -> hidden (batch, seq, hidden)` (fill_cache: prefill of the KV cache),
- `decode(tokens (batch, 1), position (batch,)) -> hidden (batch, 1, hidden)` reading the KV cache,
- `tok_embeddings`: a VocabEmbedding (its `embedding_weight` is the tied head's weight),
- `apply_parallel_config(parallel_config)`.
Everything above the trunk — training loss, eval outputs, prefill/decode logits, head sharding, `generate`,
beam search, streamers, LoRA, checkpoint loading — comes from here, with no per-family branch.
"""
import mindspore as ms
from mindspore import ops

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.generation.text_generator import GeneratorMixin
from mindformers.models.base_model import BaseModel
from mindformers.modules.layers import Linear
from mindformers.tools.dtype import runtime_dtype, on_cpu
from mindformers.tools.errors import ConfigError
from mindformers.tools.flops import causal_lm_training_flops
from mindformers.tools.logger import logger


class CausalLMBase(BaseModel, GeneratorMixin):
    """Training: `input_ids` (batch, seq_length + 1) -> scalar loss on the shifted tokens, masked where the
    input is padding (`pad_token_id`) or the label is `ignore_token_id`.
    Eval/predict: returns (logits (batch, seq, vocab), tokens, input_mask).
    """

    def build_causal_lm(self, trunk, config):
        """Attach the trunk as `self.model`, the head (tied to the embeddings or a `lm_head` Linear), the loss
        and the parallel strategies, then load `checkpoint_name_or_path`. Families call it from __init__."""
        if getattr(config, 'use_flash_attention', False) and on_cpu():
            logger.warning("use_flash_attention needs the Ascend FlashAttentionScore kernel; using plain "
                           "attention on CPU")
        self.model = trunk
        self.tie_word_embeddings = bool(getattr(config, 'tie_word_embeddings', False))
        # hidden @ embedding^T without materialising the transposed (vocab, hidden) table every call
        self.tied_head_matmul = ops.MatMul(transpose_b=True)
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
        self.loss = CrossEntropyLoss(parallel_config=parallel_config)
        self.loss_mask_id = getattr(config, self.loss_mask_token)
        self.ignore_token_id = config.ignore_token_id
        self.vocab_size = config.vocab_size
        self.compute_dtype = runtime_dtype(config.compute_dtype, 'compute_dtype')
        self.load_checkpoint(config)

    def training_flops_per_sample(self):
        """Model FLOPs of one training sample at seq_length (the MFU convention; the loss monitor turns it into
        achieved TFLOPS), from the 2-D (matmul) weights: the tied head's matmul counts, the lookup of an untied
        embedding table does not; norms and biases are left out."""
        config = self.config
        lookup = 0 if self.tie_word_embeddings else self.model.tok_embeddings.embedding_weight.size
        return causal_lm_training_flops(sum(p.size for p in self.get_parameters() if p.ndim >= 2), lookup,
                                        config.num_layers, config.hidden_size, config.seq_length)

    def enable_token_weighted_loss(self):
        self.loss.calculate_per_token_loss = True
        return True

    # 'inputs': training records hold seq_length + 1 tokens and the labels are the inputs (or `labels`) shifted by
    # one here (LLaMA, GPT-2, BLOOM); 'dataset': records hold seq_length tokens and `labels` come already shifted
    # (labels[i] is the token after input i; ChatGLM2's KeyWordGenDataset), so logits and labels align as they are
    label_shift = 'inputs'

    def record_length(self, seq_length):
        """Tokens a training record holds: the inputs plus one for the shifted labels, unless the dataset shifts."""
        return seq_length if self.label_shift == 'dataset' else seq_length + 1

    # parameter-name fragments the optimizer exempts from weight decay; families may extend it
    no_weight_decay_names = ('norm',)

    def no_weight_decay_keywords(self):
        return self.no_weight_decay_names

    def logits(self, tokens, *trunk_inputs):
        """trunk_inputs: what a family's trunk takes after (tokens, fill_cache), e.g. GLM's position ids and mask."""
        if trunk_inputs:
            return self._head(self.model(tokens, False, *trunk_inputs))
        return self._head(self.model(tokens))

    def _head(self, hidden):
        """LM head over hidden states (batch, seq, hidden) -> (batch, seq, vocab)."""
        if self.tie_word_embeddings:
            weight = ops.cast(self.model.tok_embeddings.embedding_weight, self.compute_dtype)
            bsz, seq_len, dim = hidden.shape
            out = self.tied_head_matmul(ops.reshape(hidden, (-1, dim)), weight)
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

    # the config field whose token id marks padding for the loss: pad_token_id, or BLOOM's eos_token_id (its data
    # is padded with EOS); masked where the *input* is that id (LLaMA, BLOOM) or, with pad_mask_at_labels, where
    # the *label* is (GPT-2, whose pad id is also its EOS id)
    loss_mask_token = 'pad_token_id'
    pad_mask_at_labels = False

    def lm_forward(self, input_ids, labels=None, attention_mask=None, trunk_inputs=()):
        """The train / eval computation behind every family's `construct`.

        Train: records of seq_length + 1 tokens; the loss mask is `attention_mask` at the label positions when
        given, else the pad rule above, times (label != ignore_token_id) when `labels` are given.
        Eval: at most seq_length tokens go through the model (a seq_length + 1 record's last token is only a
        label); returns (logits, input_ids, input_mask) for PerplexityMetric.
        trunk_inputs (training on dataset-shifted labels) go to the trunk after (tokens, fill_cache): GLM's
        position_ids and attention_mask.
        """
        bsz, seq_len = input_ids.shape
        if self.training and self.label_shift == 'dataset' and labels is not None:
            logits = ops.cast(self.logits(input_ids, *trunk_inputs), ms.float32)
            input_mask = ops.cast(ops.not_equal(labels, self.ignore_token_id), ms.float32)
            return self.loss(ops.reshape(logits, (-1, self.vocab_size)), ops.reshape(ops.maximum(labels, 0), (-1,)),
                             ops.reshape(input_mask, (-1,)))
        if self.training:
            tokens = input_ids[:, :seq_len - 1]
        else:
            tokens = input_ids[:, :self.config.seq_length] if seq_len > self.config.seq_length else input_ids
        logits = ops.cast(self.logits(tokens), ms.float32)
        if not self.training:
            return logits, input_ids, ops.cast(ops.not_equal(input_ids, self.loss_mask_id), ms.float32)
        if attention_mask is not None:
            input_mask = ops.cast(attention_mask[:, 1:], ms.float32)
        elif self.pad_mask_at_labels:
            input_mask = ops.cast(ops.not_equal(input_ids[:, 1:], self.loss_mask_id), ms.float32)
        else:
            input_mask = ops.cast(ops.not_equal(tokens, self.loss_mask_id), ms.float32)
        if labels is None:
            labels = input_ids[:, 1:]
        else:
            labels = labels[:, 1:]
            input_mask = input_mask * ops.cast(ops.not_equal(labels, self.ignore_token_id), ms.float32)
        labels = ops.maximum(labels, 0)  # ignored positions are masked; keep their index in range
        return self.loss(ops.reshape(logits, (-1, self.vocab_size)), ops.reshape(labels, (-1,)),
                         ops.reshape(input_mask, (-1,)))


def build_then_adapt(model, base_cls, config, adapt):
    """Build `model` as `base_cls` without its weights, `adapt()` it (LoRA layers, a P-Tuning prefix encoder),
    then load `checkpoint_name_or_path` (the base model's or an adapted checkpoint) into the adapted network:
    the PET variants (ChatGLM2WithLora, GLMForPreTrainingWithLora, ...) build this way."""
    checkpoint = config.checkpoint_name_or_path
    config.checkpoint_name_or_path = ''
    try:
        base_cls.__init__(model, config)
    finally:
        config.checkpoint_name_or_path = checkpoint
    adapt()
    if checkpoint:
        model.load_checkpoint(config)


def build_with_lora(model, base_cls, config):
    """The LoRA archs of a family (ChatGLM2WithLora, GLMForPreTrainingWithLora, ...): `base_cls` built, adapted by
    `config.pet_config` (get_pet_model), then `checkpoint_name_or_path` loaded (build_then_adapt)."""
    from mindformers.pet import get_pet_model  # pylint: disable=import-outside-toplevel
    if not getattr(config, 'pet_config', None):
        raise ConfigError(f"{type(model).__name__} needs model_config.pet_config (pet_type: lora, lora_rank, "
                          f"lora_alpha, lora_dropout)")
    build_then_adapt(model, base_cls, config, lambda: get_pet_model(model, config.pet_config))
