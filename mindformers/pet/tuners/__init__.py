"""PET tuners: the layer swaps (LoraAdapter) and the freezing rule (PetAdapter)."""
from .pet_adapter import PetAdapter
from .lora_adapter import LoraAdapter, LoRADense
