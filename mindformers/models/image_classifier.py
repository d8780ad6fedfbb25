"""What every image classifier shares (ViT, Swin): the truncated-normal initialisation of its Linear layers and the
`head` + loss of `construct(image, target=None)`."""
import mindspore as ms
from mindspore import ops
from mindspore.common.initializer import initializer, TruncatedNormal

from mindformers.core.loss.loss import CrossEntropyLoss
from mindformers.modules.layers import Linear


def init_linears(cell, std):
    """Every Linear under `cell`: truncated-normal weights (sigma `std`), zero biases (timm's ViT / Swin init)."""
    for _, child in cell.cells_and_names():
        if isinstance(child, Linear):
            child.weight.set_data(initializer(TruncatedNormal(sigma=std), child.weight.shape, child.weight.dtype))
            if child.has_bias:
                child.bias.set_data(initializer('zeros', child.bias.shape, child.bias.dtype))


class ClassifierHeadMixin:
    """`head` (features -> num_labels, float32) and the classification output of a BaseModel.

    `classify(features, target)`: without a target the logits; in eval `(logits, target)` for Accuracy; in training
    the mean cross entropy with class ids (b,) or soft targets (b, num_labels) (mixup / label smoothing)."""

    def build_head(self, features, num_labels, std, param_init_type):
        self.head = Linear(features, num_labels, weight_init=TruncatedNormal(sigma=std),
                           param_init_type=param_init_type, compute_dtype='float32')
        self.loss = CrossEntropyLoss()

    def classify(self, features, target=None):
        logits = ops.cast(self.head(ops.cast(features, ms.float32)), ms.float32)
        if target is None:
            return logits
        if not self.training:
            return logits, target
        if target.ndim == 2:
            return ops.mean(-ops.sum(ops.cast(target, ms.float32) * ops.log_softmax(logits, -1), -1))
        labels = ops.cast(ops.reshape(target, (-1,)), ms.int32)
        return self.loss(logits, labels, ops.ones(labels.shape, ms.float32))
