"""run_mindformer.py LoRA finetune end to end: base weights load by name, only LoRA trains and is saved alone."""
import re

import mindspore as ms
import numpy as np

from conftest import write_yaml, write_mindrecord, counting_rows, run_cli, losses

LORA_YAML = """base_config: {base}
callbacks:
  - type: MFLossMonitor
    per_print_times: 1
  - type: CheckpointMonitor
    prefix: tiny_lora
    save_checkpoint_steps: 4
    save_trainable_params: True
model:
  model_config:
    pet_config:
      pet_type: lora
      lora_rank: 4
      lora_alpha: 8
      lora_dropout: 0.0
      target_modules: '.*wq|.*wv'
"""
# wq (32 -> 32) and wv (32 -> 2 kv heads x 8 = 16) in 2 layers: 2 x (4x32 + 32x4 + 4x32 + 16x4)
LORA_PARAMS = 896


def test_lora_finetune_trains_and_saves_only_lora_params(tmp_path):
    data = write_mindrecord(tmp_path / 'train.mindrecord', counting_rows(32, 16, 64))
    base_yaml = write_yaml(tmp_path / 'tiny.yaml', epochs=1, batch_size=8, save_steps=4, keep_max=1)
    trained = run_cli(['--config', base_yaml, '--run_mode', 'train', '--train_dataset_dir', data], tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    base_ckpt = tmp_path / 'output' / 'checkpoint_network' / 'rank_0' / 'tiny_rank_0-network.ckpt'

    lora_yaml = tmp_path / 'lora.yaml'
    lora_yaml.write_text(LORA_YAML.format(base=base_yaml), encoding='utf-8')
    work = tmp_path / 'lora'
    work.mkdir()
    tuned = run_cli(['--config', str(lora_yaml), '--run_mode', 'finetune', '--train_dataset_dir', data,
                     '--load_checkpoint', str(base_ckpt)], work)
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    log = tuned.stdout + tuned.stderr
    match = re.search(r'LoRA: (\d+) trainable of (\d+) parameters', log)
    assert match and int(match.group(1)) == LORA_PARAMS and int(match.group(2)) > 20 * LORA_PARAMS
    # only the new LoRA parameters are absent from the base checkpoint
    assert '8 network parameters were not in the checkpoint' in log
    assert abs(losses(tuned.stdout)[0] - losses(trained.stdout)[-1]) < 0.5  # starts from the trained weights

    trainable = ms.load_checkpoint(str(work / 'output' / 'checkpoint_trainable' / 'rank_0' /
                                       'tiny_lora_rank_0-trainable_params.ckpt'))
    assert len(trainable) == 8 and all('.mindpet_delta_lora_' in name for name in trainable)
    assert 'model.layers.1.attention.wv.mindpet_delta_lora_b' in trainable
    assert np.abs(trainable['model.layers.1.attention.wv.mindpet_delta_lora_b'].asnumpy()).max() > 0

    base = ms.load_checkpoint(str(base_ckpt))
    tuned_net = ms.load_checkpoint(str(work / 'output' / 'checkpoint_network' / 'rank_0' /
                                       'tiny_lora_rank_0-network.ckpt'))
    assert set(tuned_net) == set(base) | set(trainable)
    for name, value in base.items():  # frozen: the base weights are exactly the loaded ones
        np.testing.assert_array_equal(tuned_net[name].asnumpy(), value.asnumpy(), err_msg=name)
