"""Run-time utilities that sit beside training (TensorBoard event files)."""
from mindformers.utils.tensorboard import get_tensorboard_args, get_tensorboard_writer

__all__ = ['get_tensorboard_args', 'get_tensorboard_writer']
