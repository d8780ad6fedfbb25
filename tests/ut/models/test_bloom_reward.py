"""BloomRewardModel and RewardModelDataset: preference pairs written to MindRecord become the model's batches
(checked against the stored records), the loss is CompareLoss of the model's own per-position values (checked in
NumPy), a pretrained BloomLMHeadModel checkpoint loads into the trunk, and training on pairs whose chosen answers
hold token 7 (rejected: token 9) learns to rank every pair."""
import numpy as np
import pytest
import mindspore as ms
from mindspore import Tensor, nn
from mindspore.mindrecord import FileWriter

from mindformers import BloomConfig, BloomLMHeadModel, BloomRewardModel, RewardModelDataset
from mindformers.core.optim import AdamW
from mindformers.tools.errors import DatasetError
from mindformers.wrapper import MFTrainOneStepCell

pytestmark = pytest.mark.usefixtures("pynative")
SEQ, PAD = 8, 2
COLUMNS = ['chosen_input_ids', 'chosen_attention_mask', 'rejected_input_ids', 'rejected_attention_mask',
           'position_id', 'loss_mask', 'end_ind']


def _config(**kwargs):
    return BloomConfig(vocab_size=32, hidden_size=32, num_layers=2, num_heads=4, seq_length=SEQ,
                       hidden_dropout_rate=0.0, attention_dropout_rate=0.0, **kwargs)


def _pairs(count, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        prompt = rng.integers(10, 32, 4)
        length = int(rng.integers(1, 4))
        chosen = np.full(SEQ, PAD)
        rejected = np.full(SEQ, PAD)
        chosen[:4], rejected[:4] = prompt, prompt
        chosen[4:4 + length], rejected[4:4 + length] = 7, 9
        loss_mask = np.zeros(SEQ)
        loss_mask[4:4 + length] = 1
        rows.append({'chosen_input_ids': chosen, 'chosen_attention_mask': (chosen != PAD).astype(np.int32),
                     'rejected_input_ids': rejected, 'rejected_attention_mask': (rejected != PAD).astype(np.int32),
                     'position_id': np.arange(SEQ), 'loss_mask': loss_mask, 'end_ind': np.array([4 + length])})
    return [{k: np.asarray(v, np.int32) for k, v in row.items()} for row in rows]


def _write(path, rows):
    writer = FileWriter(str(path), shard_num=1, overwrite=True)
    writer.add_schema({c: {'type': 'int32', 'shape': [-1]} for c in COLUMNS}, 'pairs')
    writer.write_raw_data(rows)
    writer.commit()


def _compare_loss(rewards, loss_mask, end_ind):
    pairs = rewards.shape[0] // 2
    chosen, rejected = rewards[:pairs], rewards[pairs:]
    last = np.maximum(end_ind[:pairs], end_ind[pairs:]) - 1
    per_position = np.log1p(np.exp(-(chosen - rejected) * loss_mask))
    loss = np.mean((per_position * loss_mask).sum(-1) / loss_mask.sum(-1))
    rows = np.arange(pairs)
    return loss, chosen[rows, last], rejected[rows, last]


def test_dataset_batches_pairs_and_the_model_ranks_them_after_training(tmp_path):
    rows = _pairs(12, 0)
    _write(tmp_path / 'pairs.mindrecord', rows)
    dataset = RewardModelDataset(data_loader={'type': 'MindDataset', 'dataset_dir': str(tmp_path),
                                              'shuffle': False}, batch_size=4, pad_token_id=PAD)
    first = next(dataset.create_dict_iterator(output_numpy=True))
    np.testing.assert_array_equal(first['input_ids'], np.stack([r['chosen_input_ids'] for r in rows[:4]] +
                                                               [r['rejected_input_ids'] for r in rows[:4]]))
    np.testing.assert_array_equal(first['end_ind'], [r['end_ind'][0] for r in rows[:4]] * 2)
    assert first['loss_mask'].shape == (4, SEQ) and first['attention_mask'].dtype == np.float32

    ms.set_seed(0)
    model = BloomRewardModel(_config())
    model.set_train(False)
    batch = [Tensor(first[c]) for c in ('input_ids', 'position_id', 'attention_mask', 'loss_mask', 'end_ind')]
    loss, chosen_end, rejected_end = model(*batch)
    expected = _compare_loss(model.rewards(batch[0]).asnumpy().astype(np.float64), first['loss_mask'],
                             first['end_ind'])
    assert float(loss.asnumpy()) == pytest.approx(expected[0], rel=1e-5)
    np.testing.assert_allclose(chosen_end.asnumpy()[:, 0], expected[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rejected_end.asnumpy()[:, 0], expected[2], rtol=1e-5, atol=1e-6)

    cell = MFTrainOneStepCell(model, AdamW(model.trainable_params(), learning_rate=1e-2))
    model.set_train(True)
    losses = [float(cell(*row.values())[0].asnumpy()) for _ in range(4)
              for row in dataset.create_dict_iterator(num_epochs=1)]
    model.set_train(False)
    _write(tmp_path / 'held_out.mindrecord', _pairs(8, 1))
    held_out = RewardModelDataset(data_loader={'type': 'MindDataset', 'dataset_files': [str(tmp_path /
                                                                                         'held_out.mindrecord')]},
                                  batch_size=8, pad_token_id=PAD)
    _, chosen_end, rejected_end = model(*next(held_out.create_tuple_iterator()))
    assert losses[0] > 0.5 and np.mean(losses[-3:]) < 0.1
    assert (chosen_end.asnumpy() > rejected_end.asnumpy()).all()
    with pytest.raises(DatasetError, match=r"^RewardModelDataset reads MindRecord pairs"):
        RewardModelDataset(data_loader={'type': 'JsonLoader'})


def test_a_pretrained_bloom_checkpoint_loads_into_the_trunk(tmp_path):
    config = _config()
    lm = BloomLMHeadModel(config)
    ms.save_checkpoint(lm, str(tmp_path / 'bloom.ckpt'))
    reward = BloomRewardModel(_config(checkpoint_name_or_path=str(tmp_path / 'bloom.ckpt')))
    lm_params = {p.name: p.asnumpy() for p in lm.get_parameters()}
    for param in reward.model.get_parameters():
        np.testing.assert_array_equal(param.asnumpy(), lm_params[param.name])
    assert reward.vhead.vhead.weight.shape == (1, 32)
    assert isinstance(reward.vhead.vhead, nn.Cell)
