"""GPT2Tokenizer: GPT-2's byte-level BPE (vocab.json + merges.txt) that wraps every text in <|endoftext|>."""
from mindformers.models.bpe_tokenizer import BPETokenizer
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['GPT2Tokenizer']


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class GPT2Tokenizer(BPETokenizer):
    """As upstream MindFormers: bos and eos (both `<|endoftext|>`, id 50256) around each text by default,
    `token_type_ids` in the output, `<|endoftext|>` also the pad token. `merge_file` (upstream's older
    spelling) is accepted for `merges_file`.

    `GPT2Tokenizer(vocab_file=..., merges_file=...)("hello!")` ->
    {'input_ids': [50256, 31373, 0, 50256], 'token_type_ids': [0, 0, 0, 0], 'attention_mask': [1, 1, 1, 1]}
    """
    model_input_names = ['input_ids', 'token_type_ids', 'attention_mask']
    _support_list = ['gpt2', 'gpt2_lora', 'gpt2_xl', 'gpt2_xl_lora', 'gpt2_13b', 'gpt2_52b', 'gpt2_txtcls']

    def __init__(self, vocab_file=None, merges_file=None, errors='replace', unk_token='<|endoftext|>',
                 bos_token='<|endoftext|>', eos_token='<|endoftext|>', pad_token='<|endoftext|>',
                 add_prefix_space=False, add_bos_token=True, add_eos_token=True, **kwargs):
        merges_file = kwargs.pop('merge_file', None) or merges_file
        super().__init__(vocab_file=vocab_file, merges_file=merges_file, errors=errors, unk_token=unk_token,
                         bos_token=bos_token, eos_token=eos_token, pad_token=pad_token,
                         add_prefix_space=add_prefix_space, add_bos_token=add_bos_token,
                         add_eos_token=add_eos_token, **kwargs)
