"""T5 translation decode throughput: mindformers with and without the KV cache vs transformers, same run.

    python benchmarks/t5_translate_throughput.py [--new_tokens 32] [--batches 1 8] [--source 32] [--repeats 3]

Both sides build upstream's t5_tiny shape (vocab 32128, hidden 128, 1 encoder + 1 decoder layer, 8 heads of 64,
MLP 512, fp32, random weights, no dropout) and greedily decode `--new_tokens` tokens (EOS never stops a row) for
`--source`-token sources: mindformers `generate()` with its default KV cache (encoder once, decoder self and cross
caches) and with `use_past=False` (encoder and decoder recomputed every token), transformers `generate()` with and
without `use_cache`. Each side runs in its own process; the first call (compilation, warm-up) is not timed. Prints
the CPU, decoded tokens/s of each and the ratio to transformers with its cache.
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

from families import machine, run_child  # noqa: E402  pylint: disable=wrong-import-position

SIZE = dict(vocab_size=32128, d_kv=64, d_ff=512, num_layers=1, num_heads=8)
HIDDEN = 128


def sources(batch, length):
    return np.random.default_rng(0).integers(3, 32000, size=(batch, length)).astype(np.int64)


def bench_mindformers(cached, batch, length, new_tokens, repeats):
    import mindspore as ms
    from mindformers import T5Config, T5ForConditionalGeneration
    ms.set_context(mode=ms.PYNATIVE_MODE, device_target='CPU')
    ms.set_seed(0)
    config = T5Config(hidden_size=HIDDEN, seq_length=length, max_decode_length=new_tokens + 1,
                      hidden_dropout_rate=0.0, attention_dropout_rate=0.0, embedding_dropout_prob=0.0, **SIZE)
    model = T5ForConditionalGeneration(config)
    model.set_train(False)
    rows = sources(batch, length).tolist()

    def one():
        return model.generate(rows, max_length=new_tokens + 1, eos_token_id=[], use_past=cached)
    one()
    start = time.perf_counter()
    for _ in range(repeats):
        out = one()
    assert all(len(row) == new_tokens + 1 for row in out)
    return (time.perf_counter() - start) / repeats


def bench_torch(cached, batch, length, new_tokens, repeats):
    import torch
    import transformers
    torch.manual_seed(0)
    config = transformers.T5Config(d_model=HIDDEN, dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0,
                                   eos_token_id=1, **SIZE)
    model = transformers.T5ForConditionalGeneration(config).eval()
    ids = torch.from_numpy(sources(batch, length))

    def one():
        with torch.no_grad():
            return model.generate(ids, max_length=new_tokens + 1, min_length=new_tokens + 1, do_sample=False,
                                  num_beams=1, use_cache=cached)
    one()
    start = time.perf_counter()
    for _ in range(repeats):
        out = one()
    assert out.shape == (batch, new_tokens + 1)
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--new_tokens', type=int, default=32)
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--source', type=int, default=32)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--child', help=argparse.SUPPRESS)   # JSON arguments of one measurement (run_child)
    args = parser.parse_args()
    if args.child:
        child = json.loads(args.child)
        bench = bench_mindformers if child['backend'] == 'mindformers' else bench_torch
        print(json.dumps(bench(child['cached'], child['batch'], child['source'], child['new_tokens'],
                               child['repeats'])))
        return
    print(machine())
    print(f"T5 tiny (hidden {HIDDEN}, 1+1 layers, 8 heads of 64, MLP 512, vocab 32128), fp32, greedy, "
          f"{args.source}-token sources, {args.new_tokens} new tokens, mean of {args.repeats} calls after one untimed")
    sides = (('mindformers', True, 'mindformers, KV cache'), ('mindformers', False, 'mindformers, recompute'),
             ('torch', True, 'transformers, use_cache'), ('torch', False, 'transformers, no cache'))
    for batch in args.batches:
        times = {label: run_child(__file__, dict(backend=backend, cached=cached, batch=batch, source=args.source,
                                                 new_tokens=args.new_tokens, repeats=args.repeats))
                 for backend, cached, label in sides}
        reference = times['transformers, use_cache']
        for label, seconds in times.items():
            print(f"batch {batch} | {label:<24} | {batch * args.new_tokens / seconds:8.1f} tok/s | "
                  f"{seconds * 1000:7.0f} ms/call | {reference / seconds:5.2f}x transformers (cache)")


if __name__ == '__main__':
    main()
