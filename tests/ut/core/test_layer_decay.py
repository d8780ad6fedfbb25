"""Layer-wise learning-rate decay (upstream's `layer_scale` / `layer_decay`) and `lr_scale`: the first AdamW step
moves every weight by its layer's rate (Adam's first update is lr * sign(gradient))."""
import numpy as np
import pytest

import mindspore as ms
from mindspore import Tensor

from mindformers import ViTConfig, ViTForImageClassification
from mindformers.core.lr import build_lr
from mindformers.core.optim import AdamW, get_optimizer_grouped_parameters
from mindformers.core.optim.param_groups import ScaledLearningRate
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerConfig
from mindformers.trainer.base_trainer import BaseTrainer

pytestmark = pytest.mark.usefixtures("pynative")
LAYERS, DECAY, LR = 3, 0.5, 1e-2


def vit():
    config = ViTConfig(image_size=8, patch_size=4, num_channels=1, hidden_size=8, num_hidden_layers=LAYERS,
                       num_attention_heads=2, intermediate_size=16, num_labels=3, drop_path_rate=0.0)
    return ViTForImageClassification(config)


def expected_scale(name):
    if '.layers.' in name:
        layer = int(name.split('.layers.')[1].split('.')[0]) + 1
    elif any(key in name for key in ('patch_embed', 'cls_tokens', 'pos_embed')):
        layer = 0
    else:
        layer = LAYERS + 1
    return DECAY ** (LAYERS + 1 - layer)


@pytest.mark.parametrize('schedule', ['constant', 'cosine'])
def test_first_step_moves_each_layer_by_its_decayed_rate(schedule):
    model = vit()
    head = np.random.default_rng(1).normal(0, 0.5, model.head.weight.shape).astype(np.float32)
    model.head.weight.set_data(Tensor(head))         # upstream's 2e-5 head would starve the lower layers of gradient
    rate = LR if schedule == 'constant' else build_lr({'type': 'cosine', 'learning_rate': LR, 'warmup_steps': 0,
                                                       'total_steps': 100})
    groups = get_optimizer_grouped_parameters(model, 0.0, dynamic_lr_schedule=rate, layer_scale=True,
                                              layer_decay=DECAY)
    assert all(isinstance(g['lr'], ScaledLearningRate if schedule == 'cosine' else float) for g in groups[:-1])
    optimizer = AdamW(groups, learning_rate=rate, eps=1e-12)
    before = {p.name: p.asnumpy().copy() for p in model.trainable_params()}
    model.set_train(True)
    image = Tensor(np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32))
    labels = Tensor(np.array([0, 1, 2, 1], np.int32))
    _, grads = ms.value_and_grad(model, None, optimizer.parameters)(image, labels)
    optimizer(grads)
    live = {p.name for p, g in zip(optimizer.parameters, grads) if np.abs(g.asnumpy()).max() > 1e-8}
    assert len(live) == len(optimizer.parameters) - LAYERS     # all but the key biases (softmax ignores them: zero gradient)
    for param in model.trainable_params():
        if param.name not in live:
            continue
        moved = np.abs(param.asnumpy() - before[param.name]).max()
        np.testing.assert_allclose(moved, LR * expected_scale(param.name), rtol=1e-3, err_msg=param.name)


def test_layer_decay_errors():
    with pytest.raises(ConfigError, match=r'layer_decay must be a number in \(0, 1\], got 1.5'):
        get_optimizer_grouped_parameters(vit(), 0.0, dynamic_lr_schedule=LR, layer_scale=True, layer_decay=1.5)


def test_lr_scale_multiplies_by_global_batch_over_the_factor():
    config = MindFormerConfig({'runner_config': {'batch_size': 64}, 'device_num': 2, 'lr_scale_factor': 256})
    lr_cfg = MindFormerConfig({'learning_rate': 5e-4})
    BaseTrainer._scale_learning_rate(config, lr_cfg)     # pylint: disable=protected-access
    assert lr_cfg.learning_rate == pytest.approx(5e-4 * 128 / 256)
