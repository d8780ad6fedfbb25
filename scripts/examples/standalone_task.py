"""Train, fine-tune, evaluate or predict with the Trainer API on one device (the upstream single-card example).

    python scripts/examples/standalone_task.py --task text_generation --model_type gpt2 --train_dataset ./train \
        --run_mode train
    python scripts/examples/standalone_task.py --task text_generation --model_type gpt2 --eval_dataset ./eval \
        --run_mode eval
    python scripts/examples/standalone_task.py --task text_generation --model_type gpt2 --train_dataset ./finetune \
        --pet_method lora --run_mode finetune
    python scripts/examples/standalone_task.py --task text_generation --model_type gpt2 --predict_data 'hello!' \
        --run_mode predict

`--model_type` is any name of the task in MindFormerBook (e.g. `gpt2`, or `gpt2_tiny` for a GPT-2 small enough
for a CPU) or a YAML path. Weights come from the model's `checkpoint_name_or_path` (for `gpt2`:
./checkpoint_download/gpt2/gpt2.ckpt, downloaded when absent) unless `--checkpoint` names a .ckpt file or a
checkpoint folder (e.g. the ./output/checkpoint a train run wrote). Datasets are MindRecord files or folders,
e.g. from mindformers/tools/dataset_preprocess/gpt2/wikitext2_data_process.py.
"""
import argparse
import sys

from mindformers import ContextConfig, Trainer, TrainingArguments, init_context
from mindformers.tools.errors import MindFormerError

RUN_MODES = ('train', 'finetune', 'eval', 'predict')


def main(run_mode='train', task='text_generation', model_type='gpt2', pet_method='', train_dataset='./train',
         eval_dataset='./eval', predict_data='hello!', checkpoint=None, device_target='Ascend'):
    # device_target falls back to CPU (with a warning) where this MindSpore build has no Ascend support
    init_context(context_config=ContextConfig(mode=0, device_target=device_target, device_id=0))
    training_args = TrainingArguments(num_train_epochs=1, batch_size=2, learning_rate=0.001, warmup_steps=100,
                                      sink_mode=True, sink_size=2)
    trainer = Trainer(task=task, model=model_type, pet_method=pet_method, args=training_args,
                      train_dataset=train_dataset, eval_dataset=eval_dataset)
    run_task(trainer, run_mode, checkpoint, predict_data)


def run_task(trainer, run_mode, checkpoint, predict_data):
    """train / finetune / evaluate / predict with the Trainer, from `checkpoint` or the model's own weights."""
    weights = checkpoint if checkpoint else False
    if run_mode == 'train':
        trainer.train(train_checkpoint=weights)
    elif run_mode == 'finetune':
        trainer.finetune(finetune_checkpoint=weights)
    elif run_mode == 'eval':
        print(trainer.evaluate(eval_checkpoint=weights))
    elif run_mode == 'predict':
        print(trainer.predict(predict_checkpoint=checkpoint, input_data=predict_data))


def parse_args(argv=None, parser=None):
    parser = parser or argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--run_mode', default='train', required=True, choices=RUN_MODES, help='set run mode for model.')
    parser.add_argument('--task', default='text_generation', required=True, help='set task type.')
    parser.add_argument('--model_type', default='gpt2', required=True, help='set model type (a model name or a YAML).')
    parser.add_argument('--train_dataset', default=None, help='set train dataset (MindRecord file or folder).')
    parser.add_argument('--eval_dataset', default=None, help='set eval dataset (MindRecord file or folder).')
    parser.add_argument('--predict_data', default='hello!', help='input data used to predict.')
    parser.add_argument('--pet_method', default='', choices=('', 'lora'),
                        help="set finetune method, now support type: ['', 'lora']")
    parser.add_argument('--checkpoint', default=None,
                        help='weights to start from: a .ckpt file or a checkpoint folder (default: the model\'s '
                             'checkpoint_name_or_path)')
    parser.add_argument('--device_target', default='Ascend', choices=('Ascend', 'GPU', 'CPU'),
                        help='device to run on (CPU where the MindSpore build has no Ascend)')
    return parser.parse_args(argv)


if __name__ == "__main__":
    ARGS = parse_args()
    try:
        main(run_mode=ARGS.run_mode, task=ARGS.task, model_type=ARGS.model_type, pet_method=ARGS.pet_method,
             train_dataset=ARGS.train_dataset, eval_dataset=ARGS.eval_dataset, predict_data=ARGS.predict_data,
             checkpoint=ARGS.checkpoint, device_target=ARGS.device_target)
    except MindFormerError as error:
        print(f"standalone_task.py: error: {error}", file=sys.stderr)
        sys.exit(2)
