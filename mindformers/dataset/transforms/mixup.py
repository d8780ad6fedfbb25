"""Mixup / CutMix on whole batches (upstream's `mixup_op` section, timm's batch mode): images blended with, or
patched from, the batch in reverse order, and soft targets weighted the same way."""
import numpy as np

from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['Mixup', 'smoothed_one_hot']


def smoothed_one_hot(labels, num_classes, smoothing):
    """(b,) class ids -> (b, num_classes) float32: 1 - smoothing + smoothing / n on the class, smoothing / n off."""
    off = smoothing / num_classes
    targets = np.full((len(labels), num_classes), off, np.float32)
    targets[np.arange(len(labels)), labels] = 1.0 - smoothing + off
    return targets


@MindFormerRegister.register(MindFormerModuleType.TRANSFORMS)
class Mixup:
    """`Mixup(mixup_alpha=0.8, cutmix_alpha=1.0, cutmix_minmax=None, prob=1.0, switch_prob=0.5,
    label_smoothing=0.1, num_classes=1000)(images (b, c, h, w), labels (b,))` -> (images, soft targets
    (b, num_classes) float32).

    With probability `prob` a batch is mixed: CutMix with probability `switch_prob` when both alphas are positive
    (else whichever is), the mixing weight lam drawn from Beta(alpha, alpha). Mixup: lam * x + (1 - lam) * x
    reversed. CutMix: a box covering a 1 - lam share of the image (or a side drawn within `cutmix_minmax` of the
    image sides) is copied from the reversed batch, and lam becomes the share left uncovered. Targets: lam * y +
    (1 - lam) * y reversed, each smoothed by `label_smoothing`. Draws come from one generator seeded with `seed`.
    """

    def __init__(self, mixup_alpha=1.0, cutmix_alpha=0.0, cutmix_minmax=None, prob=1.0, switch_prob=0.5,
                 mode='batch', correct_lam=True, label_smoothing=0.1, num_classes=1000, seed=None):
        if mode != 'batch':
            raise DatasetError(f"mixup_op.mode '{mode}' is not supported; only 'batch' (one lam per batch)")
        for name, value in (('mixup_alpha', mixup_alpha), ('cutmix_alpha', cutmix_alpha)):
            if not isinstance(value, (int, float)) or value < 0:
                raise DatasetError(f"mixup_op.{name} must be a number >= 0, got {value!r}")
        for name, value in (('prob', prob), ('switch_prob', switch_prob), ('label_smoothing', label_smoothing)):
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise DatasetError(f"mixup_op.{name} must be within [0, 1], got {value!r}")
        if cutmix_minmax is not None and (len(cutmix_minmax) != 2 or
                                          not 0 < cutmix_minmax[0] <= cutmix_minmax[1] <= 1):
            raise DatasetError(f"mixup_op.cutmix_minmax must be [min, max] shares of the image side within (0, 1], "
                               f"got {cutmix_minmax!r}")
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
            raise DatasetError(f"mixup_op.num_classes must be an integer >= 2, got {num_classes!r}")
        self.mixup_alpha = float(mixup_alpha)
        self.cutmix_alpha = float(cutmix_alpha) if cutmix_minmax is None else max(float(cutmix_alpha), 1.0)
        self.cutmix_minmax = cutmix_minmax
        self.prob = float(prob)
        self.switch_prob = float(switch_prob)
        self.correct_lam = bool(correct_lam)
        self.label_smoothing = float(label_smoothing)
        self.num_classes = num_classes
        self.rng = np.random.default_rng(seed)

    def _draw(self):
        """(lam, use_cutmix) for one batch."""
        if self.rng.random() >= self.prob or (self.mixup_alpha == 0 and self.cutmix_alpha == 0):
            return 1.0, False
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            cutmix = bool(self.rng.random() < self.switch_prob)
        else:
            cutmix = self.cutmix_alpha > 0
        alpha = self.cutmix_alpha if cutmix else self.mixup_alpha
        return float(self.rng.beta(alpha, alpha)), cutmix

    def box(self, height, width, lam):
        """(top, bottom, left, right) of the CutMix box for weight lam."""
        if self.cutmix_minmax is not None:
            low, high = self.cutmix_minmax
            cut_h = int(self.rng.integers(int(height * low), int(height * high) + 1))
            cut_w = int(self.rng.integers(int(width * low), int(width * high) + 1))
            top = int(self.rng.integers(0, height - cut_h + 1))
            left = int(self.rng.integers(0, width - cut_w + 1))
            return top, top + cut_h, left, left + cut_w
        ratio = np.sqrt(1.0 - lam)
        cut_h, cut_w = int(height * ratio), int(width * ratio)
        centre_y, centre_x = int(self.rng.integers(0, height)), int(self.rng.integers(0, width))
        return (int(np.clip(centre_y - cut_h // 2, 0, height)), int(np.clip(centre_y + cut_h // 2, 0, height)),
                int(np.clip(centre_x - cut_w // 2, 0, width)), int(np.clip(centre_x + cut_w // 2, 0, width)))

    def __call__(self, images, labels):
        images = np.array(images, np.float32)
        labels = np.asarray(labels).reshape(-1).astype(np.int64)
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise DatasetError(f"mixup_op: label {int(labels.max())} is outside num_classes {self.num_classes}")
        lam, cutmix = self._draw()
        reversed_images = images[::-1].copy()
        if lam < 1.0:
            if cutmix:
                height, width = images.shape[-2:]
                top, bottom, left, right = self.box(height, width, lam)
                images[..., top:bottom, left:right] = reversed_images[..., top:bottom, left:right]
                if self.correct_lam or self.cutmix_minmax is not None:
                    lam = 1.0 - (bottom - top) * (right - left) / float(height * width)
            else:
                images = images * lam + reversed_images * (1.0 - lam)
        targets = smoothed_one_hot(labels, self.num_classes, self.label_smoothing)
        return images.astype(np.float32), (targets * lam + targets[::-1] * (1.0 - lam)).astype(np.float32)
