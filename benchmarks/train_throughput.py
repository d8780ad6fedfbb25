"""Training throughput: mindformers vs Hugging Face transformers (PyTorch eager), same tiny LLaMA, same run.

    python benchmarks/train_throughput.py [--steps 20] [--warmup 3] [--batch 8] [--seq 256]

Both sides train the same architecture (vocab 32000, hidden 256, 4 layers, 8 heads, SwiGLU FFN 688,
fp32, AdamW, no dropout) on the same random token batches. mindformers runs its real training step
(MFTrainOneStepCell in GRAPH_MODE: forward, backward, global-norm clipping, optimizer update); the
reference is a plain PyTorch loop (forward, backward, clip_grad_norm_, AdamW step). Prints tokens/s
for each and the ratio. Needs `torch` and `transformers` (test/benchmark-only dependencies).
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SIZES = dict(vocab=32000, hidden=256, layers=4, heads=8, ffn=688)


def bench_mindformers(batches, steps, warmup):
    import mindspore as ms
    from mindspore import Tensor
    from mindformers import LlamaConfig, LlamaForCausalLM
    from mindformers.core.optim import AdamW
    from mindformers.wrapper import MFTrainOneStepCell
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(0)
    seq = batches[0].shape[1] - 1
    config = LlamaConfig(seq_length=seq, hidden_size=SIZES['hidden'], num_layers=SIZES['layers'],
                         num_heads=SIZES['heads'], vocab_size=SIZES['vocab'], intermediate_size=SIZES['ffn'],
                         compute_dtype='float32', param_init_type='float32')
    model = LlamaForCausalLM(config)
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


def bench_torch(batches, steps, warmup):
    import torch
    from transformers import LlamaConfig as HFConfig, LlamaForCausalLM as HFModel
    torch.manual_seed(0)
    config = HFConfig(vocab_size=SIZES['vocab'], hidden_size=SIZES['hidden'], intermediate_size=SIZES['ffn'],
                      num_hidden_layers=SIZES['layers'], num_attention_heads=SIZES['heads'],
                      max_position_embeddings=batches[0].shape[1], attn_implementation='eager')
    model = HFModel(config)
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


def _run_backend(backend, args):
    """Each side runs in its own process so neither framework's thread pools slow the other."""
    cmd = [sys.executable, os.path.abspath(__file__), '--backend', backend, '--steps', str(args.steps),
           '--warmup', str(args.warmup), '--batch', str(args.batch), '--seq', str(args.seq)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ, GLOG_v='3'))
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        print(bench(batches, args.steps, args.warmup))
        return
    tokens = args.steps * args.batch * args.seq
    torch_seconds = _run_backend('torch', args)
    ms_seconds = _run_backend('mindformers', args)
    ms_tps, torch_tps = tokens / ms_seconds, tokens / torch_seconds
    print(f"model: vocab {SIZES['vocab']}, hidden {SIZES['hidden']}, {SIZES['layers']} layers, {SIZES['heads']} heads, "
          f"seq {args.seq}, batch {args.batch}, fp32; {args.steps} timed steps after {args.warmup} warm-up")
    print(f"mindformers (GRAPH_MODE)     : {ms_tps:9.1f} tokens/s  ({ms_seconds / args.steps * 1000:.0f} ms/step)")
    print(f"transformers (PyTorch eager) : {torch_tps:9.1f} tokens/s  ({torch_seconds / args.steps * 1000:.0f} ms/step)")
    print(f"ratio mindformers / pytorch  : {ms_tps / torch_tps:.2f}")


if __name__ == '__main__':
    main()
