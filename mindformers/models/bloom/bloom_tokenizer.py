"""BloomTokenizer: BLOOM's byte-level BPE, read from a Hugging Face `tokenizer.json`."""
import os

from mindformers.models.bpe_tokenizer import BPETokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['BloomTokenizer']


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class BloomTokenizer(BPETokenizer):
    """`vocab_file` is BLOOM's tokenizer.json (its vocabulary, merges and pre-tokenizer regex); no special
    tokens are added around a text, as upstream. Specials: <unk> 0, <s> 1, </s> 2, <pad> 3."""
    vocab_files_names = {'vocab_file': 'tokenizer.json'}
    _support_list = ['bloom_560m', 'bloom_7.1b', 'bloom_65b', 'bloom_176b']

    def __init__(self, vocab_file=None, unk_token='<unk>', bos_token='<s>', eos_token='</s>', pad_token='<pad>',
                 add_prefix_space=False, **kwargs):
        tokenizer_file = kwargs.pop('tokenizer_file', None) or vocab_file
        if tokenizer_file is None or not os.path.isfile(str(tokenizer_file)):
            raise ConfigError(f"BloomTokenizer: vocab_file (BLOOM's tokenizer.json) {tokenizer_file} does not exist")
        super().__init__(tokenizer_file=tokenizer_file, unk_token=unk_token, bos_token=bos_token,
                         eos_token=eos_token, pad_token=pad_token, add_prefix_space=add_prefix_space, **kwargs)
        self.vocab_file = tokenizer_file

    @classmethod
    def from_pretrained(cls, name_or_path, **kwargs):
        path = os.path.join(os.path.expanduser(str(name_or_path)), 'tokenizer.json')
        if os.path.isdir(str(name_or_path)) and os.path.isfile(path):
            config = cls._load_saved_config(name_or_path)
            config.update(kwargs)
            config.pop('tokenizer_file', None)
            config['vocab_file'] = path
            return cls(**config)
        return super().from_pretrained(name_or_path, **kwargs)
