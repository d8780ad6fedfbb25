"""PET models: base models adapted by one tuning method."""
from .lora import LoraModel
