"""Train, fine-tune, evaluate or predict with the Trainer API on several devices (the upstream multi-card example).

    bash scripts/msrun_launcher.sh "scripts/examples/distribute_task.py --task text_generation \
        --model_type gpt2 --train_dataset ./train --run_mode train --use_parallel True" 8

The context is semi-auto parallel with full_batch, as upstream's example sets it, and the layout comes from
`Trainer.set_parallel_config` (data_parallel defaults to the device count / (model_parallel * pipeline_stage)).
On CPU, where MindSpore cannot compile semi-auto parallel, model_parallel = pipeline_stage = 1 runs as data
parallel (one log line says so: each rank reads its shard of every global batch, gradients are averaged);
model_parallel or pipeline_stage > 1 stops with a one-line error. The other arguments are standalone_task.py's.
"""
import argparse
import sys

from standalone_task import parse_args, run_task

from mindformers import ContextConfig, ParallelContextConfig, Trainer, TrainingArguments, init_context
from mindformers.tools.errors import MindFormerError
from mindformers.tools.utils import str2bool


def context_init(use_parallel=False, optimizer_parallel=False, device_target='Ascend'):
    """GRAPH mode on `device_target`; with `use_parallel`, semi-auto parallel over all launched devices."""
    context_config = ContextConfig(mode=0, device_target=device_target, device_id=0)
    parallel_config = None
    if use_parallel:
        parallel_config = ParallelContextConfig(parallel_mode='SEMI_AUTO_PARALLEL', gradients_mean=False,
                                                enable_parallel_optimizer=optimizer_parallel, full_batch=True)
    return init_context(use_parallel=use_parallel, context_config=context_config, parallel_config=parallel_config)


def main(args):
    _, device_num = context_init(args.use_parallel, args.optimizer_parallel, args.device_target)
    training_args = TrainingArguments(num_train_epochs=1, batch_size=2, learning_rate=0.001, warmup_steps=100,
                                      sink_mode=True, sink_size=2)
    trainer = Trainer(task=args.task, model=args.model_type, pet_method=args.pet_method, args=training_args,
                      train_dataset=args.train_dataset, eval_dataset=args.eval_dataset)
    data_parallel = args.data_parallel or max(device_num // (args.model_parallel * args.pipeline_stage), 1)
    trainer.set_parallel_config(data_parallel=data_parallel, model_parallel=args.model_parallel,
                                pipeline_stage=args.pipeline_stage, micro_batch_num=args.micro_batch_num)
    run_task(trainer, args.run_mode, args.checkpoint, args.predict_data)


def distribute_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--use_parallel', default=True, type=str2bool, help='run on all launched devices')
    parser.add_argument('--optimizer_parallel', default=False, type=str2bool,
                        help='shard the optimizer state (semi-auto parallel on Ascend)')
    parser.add_argument('--data_parallel', default=None, type=int,
                        help='default: device count / (model_parallel * pipeline_stage)')
    parser.add_argument('--model_parallel', default=1, type=int)
    parser.add_argument('--pipeline_stage', default=1, type=int)
    parser.add_argument('--micro_batch_num', default=1, type=int)
    return parse_args(argv, parser)


if __name__ == "__main__":
    try:
        main(distribute_args())
    except MindFormerError as error:
        print(f"distribute_task.py: error: {error}", file=sys.stderr)
        sys.exit(2)
