"""BLOOM family: config, network (ALiBi), tokenizer (tokenizer.json) and processor."""
from .bloom_config import BloomConfig
from .bloom import BloomLMHeadModel, BloomModel
from .bloom_reward import BloomRewardModel, VHead
from .bloom_tokenizer import BloomTokenizer
from .bloom_processor import BloomProcessor

__all__ = ['BloomConfig', 'BloomLMHeadModel', 'BloomModel', 'BloomRewardModel', 'VHead', 'BloomTokenizer',
           'BloomProcessor']
