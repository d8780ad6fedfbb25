"""BERT throughput: mindformers vs Hugging Face transformers (PyTorch eager), same model, same run.

    python benchmarks/bert_throughput.py [--steps 10] [--warmup 2] [--batch 32] [--seq 128]

Both sides build a BERT of all-MiniLM-L6-v2's size (vocab 30522, hidden 384, 6 layers, 12 heads, intermediate
1536, fp32, no dropout) and run the same random batches:
- inference: the encoder forward (mindformers BertModel in GRAPH_MODE vs transformers BertModel under no_grad);
- training: sequence classification (2 labels) forward + backward + AdamW, mindformers' real train step
  (MFTrainOneStepCell, GRAPH_MODE, no clipping) vs a plain PyTorch loop (zero_grad, backward, AdamW step).
Each side runs in its own process; prints the CPU, tokens/s of each side and the ratio. Needs `torch` and
`transformers` (test/benchmark-only dependencies).
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

SIZE = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
            max_position_embeddings=512)


def batches(batch, seq, count=3):
    rng = np.random.default_rng(0)
    return [(rng.integers(1000, SIZE['vocab_size'], size=(batch, seq)).astype(np.int32),
             rng.integers(0, 2, size=(batch,)).astype(np.int32)) for _ in range(count)]


def bench_mindformers(mode, data, steps, warmup):
    import mindspore as ms
    from mindspore import Tensor
    from mindformers import BertConfig, BertModel, BertForSequenceClassification
    from mindformers.core.optim import AdamW
    from mindformers.wrapper import MFTrainOneStepCell
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(0)
    config = BertConfig(seq_length=data[0][0].shape[1], hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                        compute_dtype='float32', num_labels=2, **SIZE)
    ids = [(Tensor(x, ms.int32), Tensor(np.ones_like(x), ms.int32), Tensor(np.zeros_like(x), ms.int32),
            Tensor(y, ms.int32)) for x, y in data]
    if mode == 'inference':
        model = BertModel(config)
        model.set_train(False)

        def one(item):
            return model(item[0], item[2], item[1])[0]
    else:
        model = BertForSequenceClassification(config)
        model.set_train(True)
        step = MFTrainOneStepCell(model, AdamW(model.trainable_params(), learning_rate=1e-4, weight_decay=0.01))
        step.set_train(True)

        def one(item):
            return step(*item)[0]
    for i in range(warmup):
        one(ids[i % len(ids)]).asnumpy()
    start = time.perf_counter()
    for i in range(steps):
        out = one(ids[i % len(ids)])
    out.asnumpy()
    return time.perf_counter() - start


def bench_torch(mode, data, steps, warmup):
    import torch
    import transformers
    torch.manual_seed(0)
    config = transformers.BertConfig(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, num_labels=2,
                                     attn_implementation='eager', **SIZE)
    items = [(torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y.astype(np.int64))) for x, y in data]
    if mode == 'inference':
        model = transformers.BertModel(config).eval()

        def one(item):
            with torch.no_grad():
                return model(input_ids=item[0]).last_hidden_state
    else:
        model = transformers.BertForSequenceClassification(config).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

        def one(item):
            optimizer.zero_grad(set_to_none=True)
            loss = model(input_ids=item[0], labels=item[1]).loss
            loss.backward()
            optimizer.step()
            return loss
    for i in range(warmup):
        one(items[i % len(items)])
    start = time.perf_counter()
    for i in range(steps):
        one(items[i % len(items)])
    return time.perf_counter() - start


def _run_backend(backend, mode, args):
    """Each side runs in its own process so neither framework's thread pools slow the other."""
    return run_child(__file__, dict(backend=backend, mode=mode, steps=args.steps, warmup=args.warmup,
                                    batch=args.batch, seq=args.seq))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--seq', type=int, default=128)
    parser.add_argument('--child', help=argparse.SUPPRESS)   # JSON arguments of one measurement (run_child)
    args = parser.parse_args()
    if args.child:
        child = json.loads(args.child)
        bench = bench_mindformers if child['backend'] == 'mindformers' else bench_torch
        print(json.dumps(bench(child['mode'], batches(child['batch'], child['seq']), child['steps'], child['warmup'])))
        return
    print(machine())
    print(f"BERT (MiniLM size: hidden 384, 6 layers, 12 heads, vocab 30522), seq {args.seq}, batch {args.batch}, "
          f"fp32; {args.steps} timed steps after {args.warmup} warm-up")
    tokens = args.steps * args.batch * args.seq
    print(f"{'mode':<10} | {'mindformers (GRAPH)':>26} | {'transformers (eager)':>26} | ratio")
    for mode in ('inference', 'training'):
        ours = _run_backend('mindformers', mode, args)
        theirs = _run_backend('torch', mode, args)
        print(f"{mode:<10} | {tokens / ours:9.1f} tok/s {ours / args.steps * 1000:6.0f} ms/step | "
              f"{tokens / theirs:9.1f} tok/s {theirs / args.steps * 1000:6.0f} ms/step | {theirs / ours:5.2f}")


if __name__ == '__main__':
    main()
