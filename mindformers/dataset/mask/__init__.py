"""Mask policies of masked-image-modeling datasets (`mask_policy` sections): SimMask (SimMIM), MaeMask (MAE)."""
from .vision_mask import SimMask, MaeMask
from .build_mask import build_mask

__all__ = ['build_mask', 'SimMask', 'MaeMask']
