"""PetType: the upstream names of the parameter-efficient tuning methods (`pet_config.pet_type`)."""
from enum import Enum


class PetType(str, Enum):
    """Values are the strings YAML uses; only LORA is implemented here, the rest are recognised names."""
    LORA = 'lora'
    ADAPTER = 'adapter'
    ADALORA = 'low_rank_adapter'
    PREFIX_TUNING = 'prefixtuning'
    P_TUNING_V2 = 'ptuning2'
    SLORA = 'slora'
