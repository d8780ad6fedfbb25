"""Mutation check: plant each known bug in a copy of the tree, run the tests that should catch it, report survivors.

    python tests/mutations/mutate.py [--only NAME ...] [--list] [--keep]

Each mutation replaces one exact piece of code (it must occur exactly once, else the mutation is reported as
stale: the code moved and the table needs updating). A mutation is KILLED when its tests fail, SURVIVED when
they pass. Exit code 1 when anything survived or went stale. Not part of the normal suite (it runs the named
tests once per mutation); record its output in docs/testing.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name, file, original code, planted bug, tests that must go red
MUTATIONS = [
    ('generation-twin-shares-no-weights', 'mindformers/generation/text_generator.py',
     'cell._params[attr] = own[param.name]       # pylint: disable=protected-access',
     'param.init_data()',
     ['tests/ut/generation/test_incremental_generation.py', 'tests/ut/models/test_gpt2.py']),
    ('rope-decode-position-off-by-one', 'mindformers/modules/rotary.py',
     'cos = ops.reshape(ops.gather(self.cos, position, 0), (bsz, 1, 1, -1))',
     'cos = ops.reshape(ops.gather(self.cos, position + 1, 0), (bsz, 1, 1, -1))',
     ['tests/ut/models/test_llama.py', 'tests/ut/generation/test_incremental_generation.py']),
    ('data-parallel-gradients-summed', 'mindformers/wrapper/wrapper.py',
     'nn.DistributedGradReducer(self.weights, mean, get_group_size())',
     'nn.DistributedGradReducer(self.weights, False, get_group_size())',
     ['tests/st/test_distributed_msrun.py::'
      'test_two_workers_end_with_identical_weights_equal_to_one_process_with_the_global_batch']),
    ('accumulation-averages-micro-batch-losses', 'mindformers/wrapper/wrapper.py',
     'self.token_weighted = self.accumulation > 1 and callable(enable) and bool(enable())',
     'self.token_weighted = False',
     ['tests/ut/wrapper/test_token_weighted_accumulation.py']),
    ('upstream-checkpoint-projection-not-transposed', 'mindformers/models/upstream_names.py',
     "'attention.projection.weight': ('attention.wo.weight', True)",
     "'attention.projection.weight': ('attention.wo.weight', False)",
     ['tests/ut/models/test_upstream_checkpoint_names.py']),
    ('glm2-answer-first-token-not-learned', 'mindformers/dataset/keyword_gen_dataset.py',
     "'drop_first_answer_token': bool(config.get('drop_first_answer_token', False))",
     "'drop_first_answer_token': bool(config.get('drop_first_answer_token', True))",
     ['tests/ut/dataset/test_keyword_gen_dataset.py', 'tests/st/test_glm2_adgen.py']),
    ('ptuning2-prefix-keys-are-its-values', 'mindformers/modules/attention.py',
     'key = ops.concat((ops.cast(prefix_key_value[0], key.dtype), key), 2)',
     'key = ops.concat((ops.cast(prefix_key_value[1], key.dtype), key), 2)',
     ['tests/ut/pet/test_glm2_ptuning2.py']),
    ('chatglm2-pad-id-is-eos', 'mindformers/models/glm2/glm2_tokenizer.py',
     "'<pad>': self.sp_model.unk_id()",
     "'<pad>': self.sp_model.eos_id()",
     ['tests/ut/tokenizer/test_glm2_tokenizer.py']),
    ('glm-deepnorm-residual-unscaled', 'mindformers/models/glm/glm.py',
     'norm_residual_scale=math.sqrt(2 * config.num_layers))',
     'norm_residual_scale=None)',
     ['tests/ut/models/test_glm.py']),
    ('glm-block-positions-start-at-0', 'mindformers/models/glm/glm.py',
     'block = ops.where(after, index - context + 1, ops.zeros_like(index))',
     'block = ops.where(after, index - context, ops.zeros_like(index))',
     ['tests/ut/models/test_glm.py']),
    ('glm-mask-position-searched-after-sop', 'mindformers/models/glm/glm.py',
     'ops.logical_and(ops.equal(tokens, self.gmask_token_id), in_context)',
     'ops.equal(tokens, self.gmask_token_id)',
     ['tests/ut/models/test_glm.py']),
    ('chatglm-whitespace-not-encoded', 'mindformers/models/glm/chatglm_6b_tokenizer.py',
     'return self.sp_model.encode(encode_whitespace(self.preprocess_text(text)), out_type=str)',
     'return self.sp_model.encode(self.preprocess_text(text), out_type=str)',
     ['tests/ut/tokenizer/test_chatglm_tokenizer.py']),
    ('glm-labels-not-shifted', 'mindformers/dataset/keyword_gen_dataset.py',
     'labels = [IGNORE_INDEX] * context + input_ids[context + 1:]',
     'labels = [IGNORE_INDEX] * context + input_ids[context:-1]',
     ['tests/ut/dataset/test_keyword_gen_dataset.py', 'tests/st/test_glm_adgen.py']),
    ('pangu-top-query-from-the-hidden-states', 'mindformers/modules/attention.py',
     'query = self._heads(self.wq(x if query_input is None else query_input), self.n_heads)',
     'query = self._heads(self.wq(x), self.n_heads)',
     ['tests/ut/models/test_pangualpha.py']),
    ('prompt-acc-picks-the-highest-loss', 'mindformers/core/metric/metric.py',
     'predicted = losses.argmin(-1)',
     'predicted = losses.argmax(-1)',
     ['tests/ut/models/test_pangualpha.py']),
    ('loss-mask-ignores-ignore-token-id', 'mindformers/models/causal_lm.py',
     'input_mask = input_mask * ops.cast(ops.not_equal(labels, self.ignore_token_id), ms.float32)',
     'input_mask = input_mask',
     ['tests/ut/models/test_llama.py']),
    ('lora-scaling-dropped', 'mindformers/pet/tuners/lora_adapter.py',
     'out = out + delta * self.scaling',
     'out = out + delta',
     ['tests/ut/pet/test_lora.py']),
    ('loss-scale-never-lowered', 'mindformers/wrapper/wrapper.py',
     'ops.assign(scale, ops.maximum(scale / self.scale_factor, 1.0))',
     'ops.assign(scale, scale)',
     ['tests/ut/wrapper/test_mf_train_one_step_cell.py']),
    ('lr-warmup-off-by-one-step', 'mindformers/core/lr/lr_schedule.py',
     '(self.learning_rate - self.warmup_lr_init) * (step / self._warmup_divisor)',
     '(self.learning_rate - self.warmup_lr_init) * ((step + 1) / self._warmup_divisor)',
     ['tests/ut/core/test_lr.py']),
    ('checkpoint-without-optimizer-state', 'mindformers/core/callback/callback.py',
     'save_checkpoint_atomic(cb_params.train_network, path, append_dict=append, fmt=self.format)',
     'save_checkpoint_atomic(cb_params.network, path, append_dict=append, fmt=self.format)',
     ['tests/st/test_resume.py::test_resume_after_kill_gives_same_weights']),
    ('resume-skips-one-batch-too-many', 'mindformers/trainer/base_trainer.py',
     'dataset.set_init_step(initial_step)',
     'dataset.set_init_step(initial_step + 1)',
     ['tests/st/test_resume.py::test_resume_after_kill_gives_same_weights']),
    ('resume-skips-one-batch-too-few', 'mindformers/trainer/base_trainer.py',
     'dataset.set_init_step(initial_step)',
     'dataset.set_init_step(max(initial_step - 1, 0))',
     ['tests/st/test_resume.py::test_resume_after_kill_gives_same_weights']),
    ('resume-skips-one-batch-too-many[accumulation+sink+LoRA+dynamic scale]', 'mindformers/trainer/base_trainer.py',
     'dataset.set_init_step(initial_step)',
     'dataset.set_init_step(initial_step + 1)',
     ['tests/st/test_resume.py::'
      'test_resume_with_accumulation_sink_mode_lora_and_dynamic_loss_scale_matches_in_every_saved_value']),
    ('resume-skips-one-batch-too-few[accumulation+sink+LoRA+dynamic scale]', 'mindformers/trainer/base_trainer.py',
     'dataset.set_init_step(initial_step)',
     'dataset.set_init_step(max(initial_step - 1, 0))',
     ['tests/st/test_resume.py::'
      'test_resume_with_accumulation_sink_mode_lora_and_dynamic_loss_scale_matches_in_every_saved_value']),
    ('txtcls-pools-the-last-position-not-the-last-token', 'mindformers/models/gpt2/gpt2.py',
     'last = ops.maximum(last, 0)',
     'last = ops.maximum(last, 0) * 0 + input_ids.shape[1] - 1',
     ['tests/ut/pipeline/test_text_classification_pipeline.py']),
    ('perplexity-metric-drops-the-shift', 'mindformers/core/metric/metric.py',
     'labels = tokens[:, 1:]',
     'labels = tokens[:, :-1]',
     ['tests/ut/core/test_metric.py']),
    ('tokcls-labels-not-shifted-past-cls', 'mindformers/dataset/transforms/text_transforms.py',
     'row[1:1 + len(labels)] = labels',
     'row[:len(labels)] = labels',
     ['tests/ut/dataset/test_token_classification.py']),
    ('tokcls-columns-fed-in-yaml-order', 'mindformers/dataset/token_classification_dataset.py',
     "config['input_columns'] = model_column_order(columns)",
     "config['input_columns'] = columns",
     ['tests/ut/dataset/test_token_classification.py']),
    ('entity-score-counts-a-lone-b', 'mindformers/core/metric/token_classification_metrics.py',
     'if current is not None and current[2] > current[1]:',
     'if current is not None:',
     ['tests/ut/dataset/test_token_classification.py']),
]


def copy_tree(destination):
    """The files git tracks plus the working-tree changes to them (what the suite would test)."""
    files = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split('\0'):
        if name and os.path.isfile(os.path.join(ROOT, name)):
            target = os.path.join(destination, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), target)


def run_mutation(name, path, original, planted, tests, keep):
    work = tempfile.mkdtemp(prefix=f'mutation_{name}_')
    try:
        copy_tree(work)
        source_path = os.path.join(work, path)
        with open(source_path, encoding='utf-8') as stream:
            source = stream.read()
        if source.count(original) != 1:
            return 'STALE', f"'{original}' occurs {source.count(original)} times in {path}"
        with open(source_path, 'w', encoding='utf-8') as stream:
            stream.write(source.replace(original, planted))
        env = dict(os.environ, PYTHONPATH=work, GLOG_v='3')
        start = time.time()
        result = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-x', '-p', 'no:cacheprovider'] + tests,
                                cwd=work, env=env, capture_output=True, text=True, timeout=1800, check=False)
        summary = (result.stdout.strip().splitlines() or ['(no output)'])[-1]
        verdict = 'KILLED' if result.returncode == 1 else 'SURVIVED' if result.returncode == 0 else 'ERROR'
        return verdict, f"{summary} ({time.time() - start:.0f} s)"
    finally:
        if keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--only', nargs='+', help='run only these mutations')
    parser.add_argument('--list', action='store_true', help='list the mutations and exit')
    parser.add_argument('--keep', action='store_true', help='keep the mutated copies')
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m[0] in args.only]
    if args.list or not chosen:
        for name, path, _, _, tests in MUTATIONS:
            print(f"{name:50s} {path}  <- {' '.join(tests)}")
        return 0 if chosen else 2
    bad = 0
    for name, path, original, planted, tests in chosen:
        verdict, detail = run_mutation(name, path, original, planted, tests, args.keep)
        bad += verdict != 'KILLED'
        print(f"{verdict:8s} {name:50s} {detail}", flush=True)
    print(f"{len(chosen) - bad} of {len(chosen)} mutations killed, {bad} survived or could not run")
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
