"""Greedy generation speed: mindformers (use_past True / False) vs Hugging Face transformers, same run.

    python benchmarks/generate_throughput.py [--family llama|gpt2|bloom|qwen2|glm2|glm|pangualpha|all]
                                             [--new_tokens 128]
                                             [--prompt 32] [--batches 1 8]

Same tiny models as the training benchmark (benchmarks/families.py: vocab 32000, hidden 256, 4 layers,
8 heads, fp32), random weights, a random prompt, greedy decoding with EOS disabled so every run makes exactly --new_tokens
tokens. Reports new tokens/s (all rows) and time to first token (a 1-token generate, prefill included),
then (for one family) the KV-cache decode speed at 64/256/512 new tokens with seq_length = prompt + new
tokens, to show that a token's cost does not grow with the sequence. Each measurement runs in its own process.
GLM-6B prompts end with [gMASK] <sop>; GLM-6B and PanGu-Alpha have no transformers class (no reference column).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from families import (DESCRIPTION, FAMILIES, NO_REFERENCE, SIZES,  # noqa: E402  pylint: disable=C0413
                      machine, ours, prompt_suffix, reference, run_child)


def _prompts(batch, prompt_len, family):
    suffix = prompt_suffix(family)
    # ids below the vocabulary's last 8, where the families' special ids sit
    body = np.random.default_rng(0).integers(3, SIZES['vocab'] - 8, size=(batch, prompt_len - len(suffix)))
    return [row + suffix for row in body.tolist()]


def run_mindformers(family, batch, prompt_len, new_tokens, use_past):
    import mindspore as ms
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(0)
    model = ours(family, prompt_len + new_tokens, use_past=use_past, batch_size=batch)
    model.set_train(False)
    prompts = _prompts(batch, prompt_len, family)
    # use_past False: full recompute every step (generate's default would use a request-sized cache)
    kwargs = dict(do_sample=False, eos_token_id=[]) if use_past else dict(do_sample=False, eos_token_id=[],
                                                                          use_past=False)
    model.generate(prompts, max_new_tokens=2, **kwargs)  # compile both graphs
    start = time.perf_counter()
    model.generate(prompts, max_new_tokens=1, **kwargs)
    first = time.perf_counter() - start
    start = time.perf_counter()
    out = model.generate(prompts, max_new_tokens=new_tokens, **kwargs)
    total = time.perf_counter() - start
    assert all(len(row) == prompt_len + new_tokens for row in out)
    return {'tokens_per_s': batch * new_tokens / total, 'ttft_s': first}


def run_torch(family, batch, prompt_len, new_tokens):
    import torch
    torch.manual_seed(0)
    model = reference(family, prompt_len + new_tokens).eval()
    ids = torch.tensor(_prompts(batch, prompt_len, family))
    kwargs = dict(do_sample=False, eos_token_id=None, pad_token_id=0, use_cache=True)
    with torch.no_grad():
        model.generate(ids, max_new_tokens=2, min_new_tokens=2, **kwargs)
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=1, min_new_tokens=1, **kwargs)
        first = time.perf_counter() - start
        start = time.perf_counter()
        out = model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kwargs)
        total = time.perf_counter() - start
    assert out.shape[1] == prompt_len + new_tokens
    return {'tokens_per_s': batch * new_tokens / total, 'ttft_s': first}


def _child(args):
    return run_child(__file__, args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--family', choices=FAMILIES + ('all',), default='llama')
    parser.add_argument('--new_tokens', type=int, default=128)
    parser.add_argument('--prompt', type=int, default=32)
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--child', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        if spec['who'] == 'torch':
            result = run_torch(spec['family'], spec['batch'], spec['prompt'], spec['new'])
        else:
            result = run_mindformers(spec['family'], spec['batch'], spec['prompt'], spec['new'],
                                     spec['who'] == 'use_past')
        print(json.dumps(result))
        return
    print(machine())
    print(f"prompt {args.prompt}, {args.new_tokens} new tokens, greedy, fp32, random weights")
    print(f"{'family':<10} {'batch':>5} | {'mindformers use_past':>22} | {'mindformers full':>22} | "
          f"{'transformers':>22} | {'ratio (use_past/HF)':>19}")
    families = FAMILIES if args.family == 'all' else (args.family,)
    for family in families:
        for batch in args.batches:
            sides = ('use_past', 'full') + (('torch',) if family not in NO_REFERENCE else ())
            row = {who: _child({'who': who, 'family': family, 'batch': batch, 'prompt': args.prompt,
                                'new': args.new_tokens}) for who in sides}
            cells = [f"{row[w]['tokens_per_s']:8.1f} tok/s {row[w]['ttft_s'] * 1000:5.0f} ms" if w in row else '-'
                     for w in ('use_past', 'full', 'torch')]
            ratio = f"{row['use_past']['tokens_per_s'] / row['torch']['tokens_per_s']:19.2f}" if 'torch' in row \
                else f"{'-':>19}"
            print(f"{family:<10} {batch:>5} | {cells[0]:>22} | {cells[1]:>22} | {cells[2]:>22} | {ratio}")
    print("(tok/s = new tokens per second over all rows; ms = time to first token)")
    for family in families:
        print(f"  {family}: {DESCRIPTION[family]}")
    if len(families) == 1:
        print(f"KV-cache decode speed as the sequence grows ({families[0]}, batch 1, seq_length = prompt + new):")
        for new in (64, 256, 512):
            result = _child({'who': 'use_past', 'family': families[0], 'batch': 1, 'prompt': args.prompt,
                             'new': new})
            print(f"  {new:4d} new tokens: {result['tokens_per_s']:8.1f} tok/s")


if __name__ == '__main__':
    main()
