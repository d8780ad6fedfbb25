"""Parameter-efficient tuning (PET): LoRA on the Linear layers of a model, prefix tuning, bottleneck adapters and
P-Tuning v2; everything else frozen."""
from .constants import PetType
from .pet_config import PetConfig, LoraConfig, Ptuning2Config
from .tuners import LoraAdapter, LoRADense, PetAdapter
from .tuners.ptuning2_adapter import Ptuning2Encoder
from .tuners.prefix_tuning_adapter import PrefixTuningAdapter, PrefixTuningConfig
from .tuners.ada_adapter import AdaAdapter, AdapterConfig
from .models import LoraModel
from .pet_model import get_pet_model, is_supported_pet_type, PET_TYPE_TO_MODEL_MAPPING
from .utils import re_match_list
