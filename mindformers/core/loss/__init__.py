"""Loss cells and the loss builder; importing this registers them."""
from .loss import CrossEntropyLoss, SoftTargetCrossEntropy, MSELoss, L1Loss, CompareLoss
from .build_loss import build_loss

__all__ = ['CrossEntropyLoss', 'SoftTargetCrossEntropy', 'MSELoss', 'L1Loss', 'CompareLoss', 'build_loss']
