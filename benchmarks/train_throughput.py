"""Training throughput: mindformers vs Hugging Face transformers (PyTorch eager), same model, same run.

    python benchmarks/train_throughput.py [--family llama|gpt2|bloom|qwen2|glm2|glm|pangualpha|all] [--steps 20]
                                          [--warmup 3] [--batch 8] [--seq 256]

Both sides train the same architecture of each family at one tiny size (vocab 32000, hidden 256, 4 layers,
8 heads, fp32, AdamW, no dropout; see benchmarks/families.py) on the same random token batches. mindformers
runs its real training step (MFTrainOneStepCell in GRAPH_MODE: forward, backward, global-norm clipping,
optimizer update); the reference is a plain PyTorch loop (forward, backward, clip_grad_norm_, AdamW step).
Prints the CPU, tokens/s for each side and the ratio (GLM-6B and PanGu-Alpha have no transformers class: only
our side, next to the other families). Needs `torch` and `transformers` (test/benchmark-only dependencies).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from families import (DESCRIPTION, FAMILIES, NO_REFERENCE, SIZES,  # noqa: E402  pylint: disable=C0413
                      machine, ours, reference)


def bench_mindformers(family, batches, steps, warmup):
    import mindspore as ms
    from mindspore import Tensor
    from mindformers.core.optim import AdamW
    from mindformers.wrapper import MFTrainOneStepCell
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(0)
    model = ours(family, batches[0].shape[1] - 1)
    model.set_train(True)
    optimizer = AdamW(model.trainable_params(), learning_rate=1e-4, betas=(0.9, 0.95), weight_decay=0.01)
    step = MFTrainOneStepCell(model, optimizer, use_clip_grad=True, max_grad_norm=1.0)
    step.set_train(True)
    tensors = [Tensor(b, ms.int32) for b in batches]
    for i in range(warmup):
        step(tensors[i % len(tensors)])[0].asnumpy()
    start = time.perf_counter()
    for i in range(steps):
        loss = step(tensors[i % len(tensors)])[0]
    loss.asnumpy()
    return time.perf_counter() - start


def bench_torch(family, batches, steps, warmup):
    import torch
    torch.manual_seed(0)
    model = reference(family, batches[0].shape[1])
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.01)
    tensors = [torch.from_numpy(b.astype(np.int64)) for b in batches]

    def one(ids):
        optimizer.zero_grad(set_to_none=True)
        loss = model(input_ids=ids[:, :-1], labels=ids[:, :-1]).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    for i in range(warmup):
        one(tensors[i % len(tensors)])
    start = time.perf_counter()
    for i in range(steps):
        one(tensors[i % len(tensors)])
    return time.perf_counter() - start


def _run_backend(backend, family, args):
    """Each side runs in its own process so neither framework's thread pools slow the other."""
    cmd = [sys.executable, os.path.abspath(__file__), '--backend', backend, '--family', family,
           '--steps', str(args.steps),
           '--warmup', str(args.warmup), '--batch', str(args.batch), '--seq', str(args.seq)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ, GLOG_v='3'))
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--family', choices=FAMILIES + ('all',), default='llama')
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--seq', type=int, default=256)
    parser.add_argument('--backend', choices=('mindformers', 'torch'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batches = [rng.integers(1, SIZES['vocab'], size=(args.batch, args.seq + 1)).astype(np.int32) for _ in range(4)]
    if args.backend:
        bench = bench_mindformers if args.backend == 'mindformers' else bench_torch
        print(bench(args.family, batches, args.steps, args.warmup))
        return
    print(machine())
    print(f"seq {args.seq}, batch {args.batch}, fp32, AdamW + clipping; {args.steps} timed steps after "
          f"{args.warmup} warm-up")
    tokens = args.steps * args.batch * args.seq
    print(f"{'family':<10} | {'mindformers (GRAPH)':>26} | {'transformers (eager)':>26} | ratio")
    for family in (FAMILIES if args.family == 'all' else (args.family,)):
        ms_seconds = _run_backend('mindformers', family, args)
        ms_tps = tokens / ms_seconds
        if family in NO_REFERENCE:
            theirs, ratio = f"{'-':>26}", '    -'
        else:
            torch_seconds = _run_backend('torch', family, args)
            torch_tps = tokens / torch_seconds
            theirs = f"{torch_tps:9.1f} tok/s {torch_seconds / args.steps * 1000:6.0f} ms/step"
            ratio = f"{ms_tps / torch_tps:5.2f}"
        print(f"{family:<10} | {ms_tps:9.1f} tok/s {ms_seconds / args.steps * 1000:6.0f} ms/step | {theirs} | "
              f"{ratio}   {DESCRIPTION[family]}")


if __name__ == '__main__':
    main()
