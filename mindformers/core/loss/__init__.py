"""Loss cells and the loss builder; importing this registers them."""
from .loss import CrossEntropyLoss
from .build_loss import build_loss

__all__ = ['CrossEntropyLoss', 'build_loss']
