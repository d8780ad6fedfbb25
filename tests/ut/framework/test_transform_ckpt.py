"""Strategy files derived on CPU from the layers' shard declarations, and mindformers/tools/transform_ckpt.py over
them: complete -> data_parallel 2 x model_parallel 2 -> complete is bit-identical, every shard is the expected
slice of the complete tensor (optimizer moments split as their weights), one sharding -> another works, and bad
input is one line."""
import os
import shutil

import mindspore as ms
import numpy as np
import pytest

from mindformers.core.parallel_config import TransformerOpParallelConfig
from mindformers.models.llama import LlamaConfig, LlamaForCausalLM
from mindformers.tools import transform_ckpt
from mindformers.tools.ckpt_transform.strategy import save_strategy_files, strategy_layouts, write_strategy_file


def tiny(model_parallel, data_parallel=1):
    config = TransformerOpParallelConfig(data_parallel=data_parallel, model_parallel=model_parallel,
                                         vocab_emb_dp=False)
    ms.set_seed(0)
    return LlamaForCausalLM(LlamaConfig(seq_length=8, hidden_size=32, num_layers=1, num_heads=4, n_kv_heads=4,
                                        vocab_size=64, multiple_of=16, parallel_config=config))


@pytest.fixture(name='work')
def fixture_work(tmp_path):
    """A complete checkpoint (weights + an AdamW moment per weight) and the strategy files of dp 2 x mp 2."""
    model = tiny(2, 2)
    rng = np.random.default_rng(0)
    full = {p.name: rng.standard_normal(p.shape).astype(np.float32) for p in model.get_parameters()}
    full.update({f'adam_m.{name}': rng.standard_normal(value.shape).astype(np.float32)
                 for name, value in list(full.items())})
    full['global_step'] = np.array([7], np.int32)
    os.makedirs(tmp_path / 'full' / 'rank_0')
    ms.save_checkpoint([{'name': k, 'data': ms.Tensor(v)} for k, v in full.items()],
                       str(tmp_path / 'full' / 'rank_0' / 'llama.ckpt'))
    save_strategy_files(model, model.config.parallel_config, str(tmp_path / 'strategy'),
                        {name: value.shape for name, value in full.items()})
    return tmp_path, full


def run(*args):
    return transform_ckpt.main([str(a) for a in args])


def load(path):
    return {name: value.asnumpy() for name, value in ms.load_checkpoint(str(path)).items()}


def test_complete_to_dp2_mp2_gives_the_expected_slices_and_back_is_bit_identical(work):
    tmp, full = work
    assert sorted(os.listdir(tmp / 'strategy')) == [f'ckpt_strategy_rank_{i}.ckpt' for i in range(4)]
    assert run('--src_ckpt_strategy', 'None', '--dst_ckpt_strategy', tmp / 'strategy' / 'ckpt_strategy_rank_0.ckpt',
               '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir', tmp / 'sharded', '--prefix', 'llama_') == 0
    for rank in range(4):
        part, half = load(tmp / 'sharded' / f'rank_{rank}' / f'llama_{rank}.ckpt'), rank % 2   # rank = dp * 2 + mp
        for prefix in ('', 'adam_m.'):
            wq, wo = f'{prefix}model.layers.0.attention.wq.weight', f'{prefix}model.layers.0.attention.wo.weight'
            table = f'{prefix}model.tok_embeddings.embedding_weight'
            np.testing.assert_array_equal(part[wq], full[wq][16 * half:16 * (half + 1)])       # column parallel
            np.testing.assert_array_equal(part[wo], full[wo][:, 16 * half:16 * (half + 1)])    # row parallel
            np.testing.assert_array_equal(part[table], full[table][32 * half:32 * (half + 1)])  # vocab parallel
            norm = f'{prefix}model.layers.0.attention_norm.weight'
            np.testing.assert_array_equal(part[norm], full[norm])                               # replicated
        np.testing.assert_array_equal(part['global_step'], full['global_step'])
    assert run('--src_ckpt_strategy', tmp / 'strategy', '--dst_ckpt_strategy', '', '--src_ckpt_dir', tmp / 'sharded',
               '--dst_ckpt_dir', tmp / 'back', '--transform_process_num', 2) == 0
    back = load(tmp / 'back' / 'rank_0' / 'checkpoint_0.ckpt')
    assert set(back) == set(full)
    for name, value in full.items():
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_complete_to_two_pipeline_stages_of_dp2_mp2_and_back_is_bit_identical(work):
    """pipeline_stage 2: ranks 0-3 hold stage 0 (embedding, layer 0), ranks 4-7 stage 1 (layer 1, norm, head); the
    per-rank files are merged by MindSpore's merge_pipeline_strategys and transformed by its API."""
    tmp, _ = work
    config = TransformerOpParallelConfig(data_parallel=2, model_parallel=2, pipeline_stage=2, micro_batch_num=2,
                                         vocab_emb_dp=False)
    ms.set_seed(0)
    model = LlamaForCausalLM(LlamaConfig(seq_length=8, hidden_size=32, num_layers=2, num_heads=4, n_kv_heads=4,
                                         vocab_size=64, multiple_of=16, parallel_config=config))
    rng = np.random.default_rng(1)
    full = {p.name: rng.standard_normal(p.shape).astype(np.float32) for p in model.get_parameters()}
    full.update({f'adam_v.{name}': rng.standard_normal(value.shape).astype(np.float32)
                 for name, value in list(full.items())})
    os.makedirs(tmp / 'two_layers' / 'rank_0')
    ms.save_checkpoint([{'name': k, 'data': ms.Tensor(v)} for k, v in full.items()],
                       str(tmp / 'two_layers' / 'rank_0' / 'llama.ckpt'))
    save_strategy_files(model, config, str(tmp / 'pp'), {name: value.shape for name, value in full.items()})
    assert run('--dst_ckpt_strategy', tmp / 'pp', '--src_ckpt_dir', tmp / 'two_layers', '--dst_ckpt_dir',
               tmp / 'staged', '--world_size', 8) == 0
    first, last = ('model.tok_embeddings.', 'model.layers.0.'), ('model.layers.1.', 'model.norm_out.', 'lm_head.')
    for rank in range(8):
        part, half = load(tmp / 'staged' / f'rank_{rank}' / f'checkpoint_{rank}.ckpt'), rank % 2
        mine, other = (first, last) if rank < 4 else (last, first)
        names = {name for name in part if name.startswith(mine) or name.partition('.')[2].startswith(mine)}
        assert names == {name for name in full if name.startswith(mine) or name.partition('.')[2].startswith(mine)}
        assert not any(name.startswith(other) or name.partition('.')[2].startswith(other) for name in part)
        layer = 0 if rank < 4 else 1
        for prefix in ('', 'adam_v.'):
            wq = f'{prefix}model.layers.{layer}.attention.wq.weight'
            np.testing.assert_array_equal(part[wq], full[wq][16 * half:16 * (half + 1)])       # column parallel
    assert run('--src_ckpt_strategy', tmp / 'pp', '--src_ckpt_dir', tmp / 'staged', '--dst_ckpt_dir',
               tmp / 'whole') == 0
    back = load(tmp / 'whole' / 'rank_0' / 'checkpoint_0.ckpt')
    assert set(back) == set(full)
    for name, value in full.items():
        np.testing.assert_array_equal(back[name], value, err_msg=name)


def test_one_sharding_to_another(work):
    tmp, full = work
    run('--dst_ckpt_strategy', tmp / 'strategy' / 'ckpt_strategy_rank_0.ckpt', '--src_ckpt_dir', tmp / 'full',
        '--dst_ckpt_dir', tmp / 'mp2')
    model = tiny(4)
    write_strategy_file(str(tmp / 'mp4.ckpt'), strategy_layouts(model, 1, 4, {k: v.shape for k, v in full.items()}))
    assert run('--src_ckpt_strategy', tmp / 'strategy', '--dst_ckpt_strategy', tmp / 'mp4.ckpt', '--src_ckpt_dir',
               tmp / 'mp2', '--dst_ckpt_dir', tmp / 'mp4', '--world_size', 4) == 0
    name = 'adam_m.model.layers.0.feed_forward.w2.weight'                    # (32, 96): columns split 4 ways
    for rank in range(4):
        np.testing.assert_array_equal(load(tmp / 'mp4' / f'rank_{rank}' / f'checkpoint_{rank}.ckpt')[name],
                                      full[name][:, 24 * rank:24 * (rank + 1)])


def test_bad_input_is_one_line_and_writes_nothing(work, capsys):
    tmp, _ = work
    strategy = tmp / 'strategy' / 'ckpt_strategy_rank_0.ckpt'
    (tmp / 'busy').mkdir()
    (tmp / 'busy' / 'x').write_text('x')
    (tmp / 'flat').mkdir()
    (tmp / 'flat' / 'llama.ckpt').write_bytes((tmp / 'full' / 'rank_0' / 'llama.ckpt').read_bytes())
    wrong = tiny(2)
    layouts = strategy_layouts(wrong, 1, 2)
    layouts['model.layers.0.attention.wq.weight'] = ([1, 2], [0, -1, -1])
    write_strategy_file(str(tmp / 'wrong.ckpt'), layouts)
    cases = [
        (['--dst_ckpt_strategy', strategy, '--src_ckpt_dir', tmp / 'flat', '--dst_ckpt_dir', tmp / 'o1'],
         f"src_ckpt_dir {tmp / 'flat'} has no checkpoint in rank_0/ (the layout needs rank_0 .. rank_0; found: no "
         f"rank_* folders)"),
        (['--dst_ckpt_strategy', strategy, '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir', tmp / 'busy'],
         f"dst_ckpt_dir {tmp / 'busy'} is not empty; give a new or empty folder"),
        (['--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir', tmp / 'o2'],
         "src_ckpt_strategy and dst_ckpt_strategy are both empty"),
        (['--dst_ckpt_strategy', strategy, '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir', tmp / 'o3',
          '--world_size', 8], "world_size 8 does not match dst_ckpt_strategy, which lays the checkpoint out over 4 "
                              "devices"),
        (['--dst_ckpt_strategy', tmp / 'wrong.ckpt', '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir', tmp / 'o4'],
         f"strategy {tmp / 'wrong.ckpt'} does not match the checkpoint: parameter model.layers.0.attention.wq.weight "
         f"has shape (32, 32) but the strategy splits it (2, 1, 1)"),
        (['--dst_ckpt_strategy', tmp / 'full' / 'rank_0' / 'llama.ckpt', '--src_ckpt_dir', tmp / 'full',
          '--dst_ckpt_dir', tmp / 'o5'], "is not a MindSpore strategy file"),
        (['--dst_ckpt_strategy', tmp / 'stage1.ckpt', '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir', tmp / 'o6'],
         f"{tmp / 'stage1.ckpt'} is the strategy file of pipeline stage 1 alone; give the folder of every rank's "
         f"strategy file, whose stages are merged"),
        (['--dst_ckpt_strategy', strategy, '--src_ckpt_dir', tmp / 'two', '--dst_ckpt_dir', tmp / 'o7'],
         f"src_ckpt_dir {tmp / 'two'}: rank_0/ holds 2 checkpoints; keep one per rank folder"),
    ]
    write_strategy_file(str(tmp / 'stage1.ckpt'), layouts, stage=1)
    os.makedirs(tmp / 'two' / 'rank_0')
    for name in ('a.ckpt', 'b.ckpt'):
        (tmp / 'two' / 'rank_0' / name).write_bytes((tmp / 'full' / 'rank_0' / 'llama.ckpt').read_bytes())
    for args, message in cases:
        capsys.readouterr()
        assert run(*args) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('transform_ckpt.py: error: ') and message in lines[0], lines
    assert not any((tmp / f'o{i}').exists() and os.listdir(tmp / f'o{i}') for i in range(1, 8))


# ------------------------------------------------------------------ auto_trans_ckpt (one process, in-process)
def _auto_config(tmp, load_checkpoint, src_strategy='', resume_training=False):
    from mindformers.tools.register import MindFormerConfig  # pylint: disable=import-outside-toplevel
    return MindFormerConfig({'load_checkpoint': str(load_checkpoint), 'src_strategy_path_or_dir': str(src_strategy),
                             'auto_trans_ckpt': True, 'resume_training': resume_training, 'output_dir': str(tmp)})


@pytest.fixture(name='output')
def fixture_output(tmp_path):
    from mindformers.tools.utils import set_output_path  # pylint: disable=import-outside-toplevel
    yield set_output_path(str(tmp_path / 'output'))
    set_output_path(None)


def test_auto_trans_ckpt_merges_a_sharded_checkpoint_before_loading_it(work, output):
    from mindformers.trainer.base_trainer import BaseTrainer  # pylint: disable=import-outside-toplevel
    tmp, full = work
    assert run('--dst_ckpt_strategy', tmp / 'strategy', '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir',
               tmp / 'sharded') == 0
    model = tiny(2, 2)
    for param in model.get_parameters():                   # start far from the checkpoint
        param.set_data(ms.Tensor(np.zeros(param.shape, np.float32)))
    BaseTrainer.load_weights(_auto_config(tmp, tmp / 'sharded', tmp / 'strategy'), model)
    for param in model.get_parameters():
        np.testing.assert_array_equal(param.asnumpy(), full[param.name], err_msg=param.name)
    merged = load(os.path.join(output, 'transformed_checkpoint', 'rank_0', 'checkpoint_0.ckpt'))
    assert set(merged) == set(full)                         # optimizer moments and step counters kept too
    assert 'transformed_checkpoint.part' not in os.listdir(output)   # written aside, then renamed

    # a second run rewrites the transformed folder (a stale file of another layout would be loaded otherwise)
    (tmp / 'sharded' / 'rank_0' / 'checkpoint_0.ckpt').unlink()
    with pytest.raises(Exception) as raised:
        BaseTrainer.load_weights(_auto_config(tmp, tmp / 'sharded', tmp / 'strategy'), model)
    assert 'rank_0' in str(raised.value) and os.path.isfile(os.path.join(output, 'transformed_checkpoint', 'rank_0',
                                                                          'checkpoint_0.ckpt'))


def test_auto_trans_ckpt_loads_a_complete_checkpoint_as_it_is_on_one_process(work, output, caplog):
    from mindformers.trainer.base_trainer import BaseTrainer  # pylint: disable=import-outside-toplevel
    tmp, full = work
    model = tiny(2, 2)
    BaseTrainer.load_weights(_auto_config(tmp, tmp / 'full'), model)   # a single rank_0 folder: complete
    name = 'model.layers.0.attention.wq.weight'
    np.testing.assert_array_equal(model.parameters_dict()[name].asnumpy(), full[name])
    assert not os.path.exists(os.path.join(output, 'transformed_checkpoint'))


def test_auto_trans_ckpt_bad_input_is_one_line(work, output):
    from mindformers.tools.errors import MindFormerError  # pylint: disable=import-outside-toplevel
    from mindformers.trainer.base_trainer import BaseTrainer  # pylint: disable=import-outside-toplevel
    tmp, _ = work
    assert run('--dst_ckpt_strategy', tmp / 'strategy', '--src_ckpt_dir', tmp / 'full', '--dst_ckpt_dir',
               tmp / 'sharded') == 0
    inside = os.path.join(output, 'transformed_checkpoint', 'old')
    shutil.copytree(tmp / 'sharded', inside)
    complete = tmp / 'full' / 'rank_0' / 'llama.ckpt'
    cases = [
        (_auto_config(tmp, tmp / 'sharded'),
         f"auto_trans_ckpt: load_checkpoint {tmp / 'sharded'} holds 4 rank folders, a sharded checkpoint; give its "
         f"strategy with src_strategy_path_or_dir (the strategy folder of the run that saved it, "
         f"e.g. output/strategy)"),
        (_auto_config(tmp, complete, tmp / 'strategy'),
         f"auto_trans_ckpt: load_checkpoint {complete} is one file, a complete checkpoint, but "
         f"src_strategy_path_or_dir names a sharded layout"),
        (_auto_config(tmp, inside, tmp / 'strategy'),
         f"auto_trans_ckpt: load_checkpoint {inside} is inside {os.path.join(output, 'transformed_checkpoint')}, "
         f"which the transform rewrites; copy it elsewhere first"),
        (_auto_config(tmp, tmp / 'full' / 'rank_0', tmp / 'strategy'),
         f"auto_trans_ckpt: load_checkpoint {complete} (in {tmp / 'full' / 'rank_0'}) is the one file of its "
         f"folder, a complete checkpoint, but src_strategy_path_or_dir names a sharded layout"),
        (_auto_config(tmp, tmp / 'sharded', tmp / 'nowhere'), f"strategy file {tmp / 'nowhere'} does not exist"),
    ]
    for config, message in cases:
        with pytest.raises(MindFormerError) as raised:
            BaseTrainer.load_weights(config, tiny(2, 2))
        assert str(raised.value).startswith(message), str(raised.value)
    assert os.listdir(os.path.join(output, 'transformed_checkpoint')) == ['old']


def test_a_run_writes_its_strategy_and_rank_0_removes_the_files_of_ranks_it_does_not_have(output):
    from mindformers.trainer.auto_trans_ckpt import write_run_strategy  # pylint: disable=import-outside-toplevel
    from mindformers.tools.ckpt_transform.transform import device_count  # pylint: disable=import-outside-toplevel
    folder = os.path.join(output, 'strategy')
    os.makedirs(folder)
    for name in ('ckpt_strategy_rank_2.ckpt', 'ckpt_strategy_rank_3.ckpt', 'notes.ckpt'):   # a 4-rank run's leftovers
        open(os.path.join(folder, name), 'wb').close()
    path = write_run_strategy(tiny(1), 2)
    assert sorted(os.listdir(folder)) == ['ckpt_strategy_rank_0.ckpt', 'notes.ckpt']
    assert device_count(path) == 2
