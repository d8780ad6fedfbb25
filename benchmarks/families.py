"""The model families the benchmarks compare, each as a pair: our model and its Hugging Face `transformers`
counterpart, built at the same tiny size (vocab 32000, hidden 256, 4 layers, 8 heads, fp32, no dropout).
GLM-6B and PanGu-Alpha have no transformers class: `reference` returns None for them and the benchmarks report
their speed next to the other families of the same run.

    ours(family, seq_length, **model_kwargs) -> a mindformers causal LM
    reference(family, positions)             -> a transformers causal LM (eager attention), or None
    prompt_suffix(family)                    -> ids a prompt must end with (GLM-6B: [gMASK] <sop>)
"""
import json
import os
import platform
import subprocess
import sys

SIZES = dict(vocab=32000, hidden=256, layers=4, heads=8, ffn=688, kv_heads=2)
FAMILIES = ('llama', 'gpt2', 'bloom', 'qwen2', 'glm2', 'glm', 'pangualpha')
# GLM-6B's special ids, inside the benchmark vocabulary
GLM_IDS = dict(mask_token_id=SIZES['vocab'] - 4, gmask_token_id=SIZES['vocab'] - 3, bos_token_id=SIZES['vocab'] - 2,
               eos_token_id=SIZES['vocab'] - 1, pad_token_id=0)
DESCRIPTION = {
    'llama': 'LLaMA (RoPE, RMSNorm, SwiGLU 688, MHA)',
    'gpt2': 'GPT-2 (learned positions, LayerNorm, GELU 1024, MHA, biases, tied head)',
    'bloom': 'BLOOM (ALiBi, LayerNorm, GELU 1024, MHA, biases, tied head)',
    'qwen2': 'Qwen2 (RoPE, RMSNorm, SwiGLU 688, GQA 8/2, q/k/v bias, tied head)',
    'glm2': 'ChatGLM2 (RoPE on half of each head, RMSNorm, SwiGLU 688, GQA 8/2, q/k/v bias; vs GlmForCausalLM)',
    'glm': 'GLM-6B (2D RoPE, prefix-LM mask, DeepNorm, LayerNorm, GELU 1024, MHA, biases; no transformers class)',
    'pangualpha': 'PanGu-Alpha (learned positions + top query layer, LayerNorm, fast GELU 1024, tied; no '
                  'transformers class)',
}


NO_REFERENCE = ('glm', 'pangualpha')   # no transformers class


def prompt_suffix(family):
    return [GLM_IDS['gmask_token_id'], GLM_IDS['bos_token_id']] if family == 'glm' else []


def ours(family, seq_length, **kwargs):
    """Our model of `family`; kwargs (use_past, batch_size) go to its config."""
    common = dict(seq_length=seq_length, vocab_size=SIZES['vocab'], hidden_size=SIZES['hidden'],
                  num_layers=SIZES['layers'], num_heads=SIZES['heads'], compute_dtype='float32',
                  param_init_type='float32', **kwargs)
    if family in ('llama', 'qwen2'):
        from mindformers import LlamaConfig, LlamaForCausalLM  # pylint: disable=import-outside-toplevel
        extra = dict(n_kv_heads=SIZES['kv_heads'], qkv_has_bias=True, tie_word_embeddings=True) \
            if family == 'qwen2' else {}
        return LlamaForCausalLM(LlamaConfig(intermediate_size=SIZES['ffn'], **extra, **common))
    dropout = dict(hidden_dropout_rate=0.0, attention_dropout_rate=0.0)
    if family == 'gpt2':
        from mindformers import GPT2Config, GPT2LMHeadModel  # pylint: disable=import-outside-toplevel
        ids = dict(pad_token_id=0, eos_token_id=SIZES['vocab'] - 1, bos_token_id=SIZES['vocab'] - 1)  # in the vocab
        return GPT2LMHeadModel(GPT2Config(embedding_dropout_prob=0.0, **ids, **dropout, **common))
    if family == 'bloom':
        from mindformers import BloomConfig, BloomLMHeadModel  # pylint: disable=import-outside-toplevel
        return BloomLMHeadModel(BloomConfig(**dropout, **common))
    if family == 'glm2':
        from mindformers import ChatGLM2Config, ChatGLM2ForConditionalGeneration  # pylint: disable=C0415
        return ChatGLM2ForConditionalGeneration(ChatGLM2Config(
            padded_vocab_size=SIZES['vocab'], hidden_size=SIZES['hidden'], num_layers=SIZES['layers'],
            num_attention_heads=SIZES['heads'], kv_channels=SIZES['hidden'] // SIZES['heads'],
            ffn_hidden_size=SIZES['ffn'], multi_query_group_num=SIZES['kv_heads'], seq_length=seq_length,
            compute_dtype='float32', param_init_type='float32', **kwargs))
    if family == 'glm':
        from mindformers import GLMConfig, GLMForPreTraining  # pylint: disable=import-outside-toplevel
        return GLMForPreTraining(GLMConfig(inner_hidden_size=4 * SIZES['hidden'], **GLM_IDS, **dropout, **common))
    if family == 'pangualpha':
        from mindformers import PanguAlphaConfig, PanguAlphaHeadModel  # pylint: disable=import-outside-toplevel
        return PanguAlphaHeadModel(PanguAlphaConfig(ffn_hidden_size=4 * SIZES['hidden'], embedding_dropout_prob=0.0,
                                                    softmax_compute_type='float32', **dropout, **common))
    raise ValueError(f"unknown family {family!r}; choose from {FAMILIES}")


def reference(family, positions):
    """The transformers model of `family` at the same size, eager attention."""
    import transformers  # pylint: disable=import-outside-toplevel
    hidden, layers, heads, vocab = SIZES['hidden'], SIZES['layers'], SIZES['heads'], SIZES['vocab']
    if family in ('llama', 'qwen2'):
        cls, config_cls = (transformers.LlamaForCausalLM, transformers.LlamaConfig) if family == 'llama' else \
            (transformers.Qwen2ForCausalLM, transformers.Qwen2Config)
        extra = dict(num_key_value_heads=SIZES['kv_heads'], tie_word_embeddings=True) if family == 'qwen2' else {}
        config = config_cls(vocab_size=vocab, hidden_size=hidden, intermediate_size=SIZES['ffn'],
                            num_hidden_layers=layers, num_attention_heads=heads, max_position_embeddings=positions,
                            attn_implementation='eager', **extra)
        return cls(config)
    if family == 'gpt2':
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(
            vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=heads, n_positions=positions, resid_pdrop=0.0,
            embd_pdrop=0.0, attn_pdrop=0.0, attn_implementation='eager'))
    if family == 'bloom':
        return transformers.BloomForCausalLM(transformers.BloomConfig(
            vocab_size=vocab, hidden_size=hidden, n_layer=layers, n_head=heads, hidden_dropout=0.0,
            attention_dropout=0.0, attn_implementation='eager'))
    if family == 'glm2':
        return transformers.GlmForCausalLM(transformers.GlmConfig(
            vocab_size=vocab, hidden_size=hidden, intermediate_size=SIZES['ffn'], num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=SIZES['kv_heads'], head_dim=hidden // heads,
            max_position_embeddings=positions, pad_token_id=0, eos_token_id=vocab - 1, bos_token_id=vocab - 2,
            attn_implementation='eager'))
    if family in NO_REFERENCE:
        return None
    raise ValueError(f"unknown family {family!r}; choose from {FAMILIES}")


def run_child(script, args):
    """Run `script --child <json args>` in its own process (one measurement each, nothing shared) and return the
    JSON its last stdout line prints."""
    cmd = [sys.executable, os.path.abspath(script), '--child', json.dumps(args)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, GLOG_v='3'), check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine():
    """One line naming the CPU and its vector extensions: a speed holds only where it was measured."""
    model, flags = platform.processor() or 'unknown CPU', ''
    try:
        info = subprocess.run(['lscpu'], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(':', 1) for line in info.splitlines() if ':' in line)
        model = fields.get('Model name', model).strip()
        flags = ' '.join(f for f in fields.get('Flags', '').split() if f.startswith(('avx', 'amx', 'fma')))
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"CPU: {model}, {os.cpu_count()} logical cores; vector flags: {flags or 'unknown'}"
