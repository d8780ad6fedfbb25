"""The `general` task trainer: train and evaluate a network the caller builds."""
from .general_task_trainer import GeneralTaskTrainer

__all__ = ['GeneralTaskTrainer']
