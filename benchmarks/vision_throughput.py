"""ViT-tiny and Swin-tiny throughput: mindformers vs Hugging Face transformers (PyTorch eager), same model, same run.

    python benchmarks/vision_throughput.py [--steps 20] [--warmup 3] [--batch 64]

Both sides build the model of configs/vit/run_vit_tiny_p7_28_mnist.yaml (28x28 grey images, 7x7 patches, 4 blocks
of width 64) and of configs/swin/run_swin_tiny_p2w7_28_mnist.yaml (2x2 patches, 7x7 windows, stages of 2 + 2 blocks
of width 32 / 64), fp32, no dropout, and run the same random batches:
- inference: the classifier forward (mindformers in GRAPH_MODE vs transformers under no_grad);
- training: forward + backward + AdamW, mindformers' real train step (MFTrainOneStepCell, GRAPH_MODE) vs a plain
  PyTorch loop. Each side runs in its own process; prints the CPU, images/s of each side and the ratio (ours /
  theirs: above 1 is faster). Needs `torch` and `transformers` (test/benchmark-only dependencies).
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

VIT = dict(image_size=28, patch_size=7, num_channels=1, hidden_size=64, num_hidden_layers=4, num_attention_heads=4,
           intermediate_size=128)
SWIN = dict(image_size=28, patch_size=2, num_channels=1, embed_dim=32, depths=[2, 2], num_heads=[2, 4],
            window_size=7, mlp_ratio=2.0)
LABELS = 10


def batches(batch, count=3):
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(batch, 1, 28, 28)).astype(np.float32),
             rng.integers(0, LABELS, size=(batch,)).astype(np.int32)) for _ in range(count)]


def _timed(one, items, steps, warmup, sync):
    for i in range(warmup):
        sync(one(items[i % len(items)]))
    start = time.perf_counter()
    out = None
    for i in range(steps):
        out = one(items[i % len(items)])
    sync(out)
    return time.perf_counter() - start


def bench_mindformers(family, mode, data, steps, warmup):
    import mindspore as ms
    from mindspore import Tensor
    from mindformers import ViTConfig, ViTForImageClassification, SwinConfig, SwinForImageClassification
    from mindformers.core.optim import AdamW
    from mindformers.wrapper import MFTrainOneStepCell
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(0)
    if family == 'vit':
        model = ViTForImageClassification(ViTConfig(num_labels=LABELS, drop_path_rate=0.0, use_mean_pooling=False,
                                                    hidden_act='gelu_exact', **VIT))
    else:
        model = SwinForImageClassification(SwinConfig(num_labels=LABELS, drop_path_rate=0.0, hidden_act='gelu_exact',
                                                      **SWIN))
    items = [(Tensor(x), Tensor(y)) for x, y in data]
    if mode == 'inference':
        model.set_train(False)

        def one(item):
            return model(item[0])
    else:
        model.set_train(True)
        step = MFTrainOneStepCell(model, AdamW(model.trainable_params(), learning_rate=1e-3, weight_decay=0.05))
        step.set_train(True)

        def one(item):
            return step(*item)[0]
    return _timed(one, items, steps, warmup, lambda out: out.asnumpy())


def bench_torch(family, mode, data, steps, warmup):
    import torch
    import transformers
    torch.manual_seed(0)
    if family == 'vit':
        model = transformers.ViTForImageClassification(transformers.ViTConfig(
            num_labels=LABELS, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
            attn_implementation='eager', **VIT))
    else:
        model = transformers.SwinForImageClassification(transformers.SwinConfig(
            num_labels=LABELS, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, drop_path_rate=0.0,
            **SWIN))
    items = [(torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))) for x, y in data]
    if mode == 'inference':
        model.eval()

        def one(item):
            with torch.no_grad():
                return model(pixel_values=item[0]).logits
    else:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

        def one(item):
            optimizer.zero_grad(set_to_none=True)
            loss = model(pixel_values=item[0], labels=item[1]).loss
            loss.backward()
            optimizer.step()
            return loss
    return _timed(one, items, steps, warmup, lambda out: None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--child', help=argparse.SUPPRESS)   # JSON arguments of one measurement (run_child)
    args = parser.parse_args()
    if args.child:
        child = json.loads(args.child)
        bench = bench_mindformers if child['backend'] == 'mindformers' else bench_torch
        print(json.dumps(bench(child['family'], child['mode'], batches(child['batch']), child['steps'],
                               child['warmup'])))
        return
    print(machine())
    print(f"28x28 grey images, batch {args.batch}, fp32; {args.steps} timed steps after {args.warmup} warm-up")
    print(f"{'model':<10} {'mode':<10} | {'mindformers (GRAPH)':>24} | {'transformers (eager)':>24} | ratio")
    images = args.steps * args.batch
    for family in ('vit', 'swin'):
        for mode in ('inference', 'training'):
            times = {backend: run_child(__file__, dict(backend=backend, family=family, mode=mode, steps=args.steps,
                                                       warmup=args.warmup, batch=args.batch))
                     for backend in ('mindformers', 'torch')}
            ours, theirs = times['mindformers'], times['torch']
            print(f"{family + '-tiny':<10} {mode:<10} | {images / ours:8.0f} img/s {ours / args.steps * 1000:6.1f} "
                  f"ms/step | {images / theirs:8.0f} img/s {theirs / args.steps * 1000:6.1f} ms/step | "
                  f"{theirs / ours:5.2f}")


if __name__ == '__main__':
    main()
