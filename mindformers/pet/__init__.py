"""Parameter-efficient tuning (PET): LoRA on the Linear layers of a model, everything else frozen."""
from .constants import PetType
from .pet_config import PetConfig, LoraConfig, Ptuning2Config
from .tuners import LoraAdapter, LoRADense, PetAdapter
from .tuners.ptuning2_adapter import Ptuning2Encoder
from .models import LoraModel
from .pet_model import get_pet_model, is_supported_pet_type, PET_TYPE_TO_MODEL_MAPPING
from .utils import re_match_list
