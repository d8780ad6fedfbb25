"""Qwen2Tokenizer: Qwen2 / Qwen2.5's byte-level BPE (vocab.json + merges.txt), registered by this research folder.

It becomes a MindFormers tokenizer only when a run names this folder (`run_mindformer.py --register_path
research/qwen2_5`, and a config with `auto_register: qwen2_5_tokenizer.Qwen2Tokenizer` or
`auto_map: {AutoTokenizer: [qwen2_5_tokenizer.Qwen2Tokenizer, null]}`); `import mindformers` alone does not
know it.
"""
from mindformers.models.bpe_tokenizer import BPETokenizer
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['Qwen2Tokenizer', 'QWEN2_PATTERN', 'QWEN2_SPECIAL_TOKENS']

# contractions; letter runs with one optional leading symbol; single digits; symbol runs; newlines; spaces
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")
# the control tokens after the 151,643 byte-level BPE ranks, in id order (151643 ... 151664)
QWEN2_SPECIAL_TOKENS = ('<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>',
                        '<|box_start|>', '<|box_end|>', '<|quad_start|>', '<|quad_end|>', '<|vision_start|>',
                        '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>', '<tool_call>',
                        '</tool_call>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>',
                        '<|repo_name|>', '<|file_sep|>')


@MindFormerRegister.register(MindFormerModuleType.TOKENIZER)
class Qwen2Tokenizer(BPETokenizer):
    """Text is NFC-normalised, split by Qwen2's pattern (every digit alone), byte-level BPE-merged; the control
    tokens above are matched whole before that. No bos; eos, pad and unk are `<|endoftext|>`; nothing is added
    around a text, and decode puts no spaces between special tokens."""
    model_input_names = ['input_ids', 'attention_mask']
    _support_list = ['qwen2_5_0.5b', 'qwen2_5_7b', 'qwen2_5_tiny']

    def __init__(self, vocab_file=None, merges_file=None, errors='replace', unk_token='<|endoftext|>', bos_token=None,
                 eos_token='<|endoftext|>', pad_token='<|endoftext|>', clean_up_tokenization_spaces=False,
                 split_special_tokens=False, **kwargs):
        kwargs.pop('add_prefix_space', None)  # no effect in Qwen2's tokenizer either
        extra = list(kwargs.pop('additional_special_tokens', None) or [])
        known = {t for t in (unk_token, bos_token, eos_token, pad_token) if t is not None}
        specials = [t for t in QWEN2_SPECIAL_TOKENS if t not in known and t not in extra] + extra
        if split_special_tokens:
            specials = []
        super().__init__(vocab_file=vocab_file, merges_file=merges_file, errors=errors, unk_token=unk_token,
                         bos_token=bos_token, eos_token=eos_token, pad_token=pad_token, pattern=QWEN2_PATTERN,
                         nfc=True, clean_up_tokenization_spaces=clean_up_tokenization_spaces,
                         additional_special_tokens=specials, **kwargs)
        self.split_special_tokens = split_special_tokens
