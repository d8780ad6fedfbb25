"""PanGu-Alpha family: config, networks and tokenizer."""
from .pangualpha_config import PanguAlphaConfig
from .pangualpha import PanguAlphaModel, PanguAlphaHeadModel, PanguAlphaPromptTextClassificationModel
from .pangualpha_tokenizer import PanguAlphaTokenizer
from .pangualpha_processor import PanguAlphaProcessor

__all__ = ['PanguAlphaConfig', 'PanguAlphaModel', 'PanguAlphaHeadModel', 'PanguAlphaPromptTextClassificationModel',
           'PanguAlphaTokenizer', 'PanguAlphaProcessor']
