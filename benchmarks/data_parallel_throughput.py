"""Data-parallel training throughput on CPU workers: 1 worker vs 2 (msrun), and the gradient all-reduce share.

    python benchmarks/data_parallel_throughput.py [--steps 20] [--warmup 3] [--batch 4] [--seq 256]

Both runs train the same tiny LLaMA (vocab 32000, hidden 256, 4 layers, 8 heads, fp32, AdamW) through the
user's commands: `python run_mindformer.py ...` for 1 worker, `bash scripts/msrun_launcher.sh "..." 2` for 2
workers with the same per-device batch (so the global batch doubles). Step times are the median of the
`per_step_time` values in the loss lines after the warm-up steps. The all-reduce share is a standalone
`ops.AllReduce` of one fp32 buffer with as many elements as the model has trainable parameters, timed
under msrun with 2 workers (GRAPH_MODE, median of 10), divided by the 2-worker step time.
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

YAML = """base_config: {base}
runner_config:
  epochs: 1
  batch_size: {batch}
train_dataset:
  data_loader:
    shuffle: False
model:
  model_config:
    seq_length: {seq}
    hidden_size: 256
    num_layers: 4
    num_heads: 8
    n_kv_heads: 8
    vocab_size: 32000
    intermediate_size: 688
    max_decode_length: {seq}
lr_schedule:
  warmup_ratio: 0.0
callbacks:
  - type: MFLossMonitor
    per_print_times: 1
"""
STEP_TIME = re.compile(r'per_step_time: (\d+)ms')
PARAMS = re.compile(r'Network Parameters: ([0-9.]+) M')


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_data(path, rows, seq):
    from mindspore.mindrecord import FileWriter  # pylint: disable=import-outside-toplevel
    rng = np.random.default_rng(0)
    writer = FileWriter(path, 1)
    writer.add_schema({'input_ids': {'type': 'int32', 'shape': [-1]}}, 'bench')
    writer.write_raw_data([{'input_ids': rng.integers(1, 32000, seq + 1).astype(np.int32)} for _ in range(rows)])
    writer.commit()


def median_step_ms(log_text, warmup):
    times = [int(t) for t in STEP_TIME.findall(log_text)]
    if len(times) <= warmup:
        raise RuntimeError(f"only {len(times)} loss lines in the log; the run failed?\n{log_text[-2000:]}")
    return statistics.median(times[warmup:])


def env():
    out = dict(os.environ, GLOG_v='3', PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    out.pop('LOG_MF_PATH', None)
    return out


def run_one_worker(work, config, data):
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'run_mindformer.py'), '--config', config,
                             '--run_mode', 'train', '--train_dataset_dir', data, '--output_dir',
                             os.path.join(work, 'one')], cwd=work, capture_output=True, text=True, env=env(),
                            check=False)
    return result.stdout + result.stderr


def run_two_workers(work, config, data):
    order = (f"{os.path.join(ROOT, 'run_mindformer.py')} --config {config} --use_parallel True --run_mode train "
             f"--train_dataset_dir {data} --output_dir {os.path.join(work, 'two')}")
    result = subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'msrun_launcher.sh'), order, '2',
                             str(free_port()), 'msrun_log_train', 'True', '120'], cwd=work, capture_output=True,
                            text=True, env=env(), check=False)
    if result.returncode:
        raise RuntimeError(f"2-worker run failed:\n{result.stdout[-3000:]}")
    with open(os.path.join(work, 'msrun_log_train', 'worker_0.log'), encoding='utf-8', errors='replace') as stream:
        return stream.read()


def allreduce_worker(numel, repeats):
    """Runs under msrun: time AllReduce(SUM) of `numel` fp32 values; rank 0 prints the median in ms."""
    import time  # pylint: disable=import-outside-toplevel
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    from mindspore import nn, ops  # pylint: disable=import-outside-toplevel
    from mindspore.communication import init, get_rank  # pylint: disable=import-outside-toplevel
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    init()

    class Reduce(nn.Cell):
        def __init__(self):
            super().__init__()
            self.allreduce = ops.AllReduce()

        def construct(self, x):
            return self.allreduce(x)

    cell = Reduce()
    buffer = ms.Tensor(np.ones(numel, np.float32))
    cell(buffer).asnumpy()  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        cell(buffer).asnumpy()
        times.append((time.perf_counter() - start) * 1000)
    if get_rank() == 0:
        print(f"ALLREDUCE_MS {statistics.median(times):.1f}", flush=True)


def time_allreduce(work, numel):
    order = f"{os.path.abspath(__file__)} --allreduce-worker {numel}"
    result = subprocess.run(['bash', os.path.join(ROOT, 'scripts', 'msrun_launcher.sh'), order, '2',
                             str(free_port()), 'msrun_log_allreduce', 'True', '120'], cwd=work, capture_output=True,
                            text=True, env=env(), check=False)
    with open(os.path.join(work, 'msrun_log_allreduce', 'worker_0.log'), encoding='utf-8', errors='replace') as stream:
        match = re.search(r'ALLREDUCE_MS ([0-9.]+)', stream.read())
    if result.returncode or match is None:
        raise RuntimeError(f"all-reduce timing failed:\n{result.stdout[-3000:]}")
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--batch', type=int, default=4, help='per-device batch')
    parser.add_argument('--seq', type=int, default=256)
    parser.add_argument('--allreduce-worker', type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allreduce_worker is not None:
        allreduce_worker(args.allreduce_worker, 10)
        return

    work = tempfile.mkdtemp(prefix='dp_bench_')
    config = os.path.join(work, 'bench.yaml')
    with open(config, 'w', encoding='utf-8') as stream:
        stream.write(YAML.format(base=os.path.join(ROOT, 'configs', 'llama2', 'pretrain_llama2_tiny.yaml'),
                                 batch=args.batch, seq=args.seq))
    # enough records for `steps` steps on each of 2 ranks
    data = os.path.join(work, 'bench.mindrecord')
    write_data(data, 2 * args.batch * args.steps, args.seq)

    one_log = run_one_worker(work, config, data)
    one_ms = median_step_ms(one_log, args.warmup)
    params_m = float(PARAMS.search(one_log).group(1))
    two_ms = median_step_ms(run_two_workers(work, config, data), args.warmup)
    reduce_ms = time_allreduce(work, int(params_m * 1e6))

    tokens = args.batch * args.seq
    one_tps, two_tps = tokens / one_ms * 1000, 2 * tokens / two_ms * 1000
    print(f"model: {params_m:.1f} M parameters, per-device batch {args.batch} x seq {args.seq} = {tokens} tokens")
    print(f"1 worker : {one_ms:7.0f} ms/step  {one_tps:8.0f} tokens/s")
    print(f"2 workers: {two_ms:7.0f} ms/step  {two_tps:8.0f} tokens/s  (speed-up {two_tps / one_tps:.2f}x)")
    print(f"all-reduce of {params_m:.1f} M fp32 gradients: {reduce_ms:.0f} ms = {100 * reduce_ms / two_ms:.0f}% "
          f"of the 2-worker step")


if __name__ == '__main__':
    main()
