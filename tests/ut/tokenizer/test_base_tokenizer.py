"""PreTrainedTokenizer's own behaviour, on a toy whitespace tokenizer (no model file needed)."""
import json
import os

import numpy as np
import pytest

from mindformers import BaseAudioProcessor, SpecialTokensMixin
from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.tools.errors import ConfigError

WORDS = ['[UNK]', '[BOS]', '[EOS]', 'the', 'cat', 'sat', 'on', 'mat', '.']


class WordTokenizer(PreTrainedTokenizer):
    """Splits on spaces; [BOS] in front and [EOS] at the end."""
    vocab_files_names = {'vocab_file': 'words.txt'}

    def __init__(self, vocab_file=None, **kwargs):
        self.vocab_file = vocab_file
        if vocab_file:
            with open(vocab_file, encoding='utf-8') as stream:
                self.words = stream.read().split('\n')
        else:
            self.words = list(WORDS)
        self.index = {word: i for i, word in enumerate(self.words)}
        kwargs.setdefault('bos_token', '[BOS]')
        kwargs.setdefault('eos_token', '[EOS]')
        kwargs.setdefault('unk_token', '[UNK]')
        super().__init__(**kwargs)

    @property
    def vocab_size(self):
        return len(self.words)

    def get_vocab(self):
        return dict(self.index, **self.added_tokens_encoder)

    def _tokenize(self, text):
        return text.split()

    def _convert_token_to_id(self, token):
        return self.index.get(token, 0)

    def _convert_id_to_token(self, index):
        return self.words[index]

    def build_inputs_with_special_tokens(self, token_ids_0, token_ids_1=None):
        ids = [self.bos_token_id] + list(token_ids_0) + [self.eos_token_id]
        return ids if token_ids_1 is None else ids + list(token_ids_1) + [self.eos_token_id]

    def save_vocabulary(self, save_directory, filename_prefix=None):
        path = os.path.join(save_directory, 'words.txt')
        with open(path, 'w', encoding='utf-8') as stream:
            stream.write('\n'.join(self.words))
        return (path,)


def test_call_adds_special_tokens_and_mask():
    tok = WordTokenizer()
    assert tok("the cat sat") == {'input_ids': [1, 3, 4, 5, 2], 'attention_mask': [1, 1, 1, 1, 1]}
    assert tok("the cat", add_special_tokens=False)['input_ids'] == [3, 4]
    assert tok.num_special_tokens_to_add() == 2 and tok.num_special_tokens_to_add(pair=True) == 3


def test_no_pad_token_means_padding_is_a_config_error():
    with pytest.raises(ConfigError, match='has no pad_token'):
        WordTokenizer()(["the", "the cat"], padding=True)


def test_padding_never_shortens_and_longest_ignores_max_length():
    tok = WordTokenizer(pad_token='[UNK]')
    out = tok(["the", "the cat sat on the mat"], padding='max_length', max_length=4)
    assert [len(ids) for ids in out['input_ids']] == [4, 8]
    out = tok(["the", "the cat"], padding=True, max_length=10)
    assert out['input_ids'] == [[1, 3, 2, 0], [1, 3, 4, 2]]


def test_truncation_sides():
    right = WordTokenizer()
    left = WordTokenizer(truncation_side='left')
    assert right("the cat sat on", truncation=True, max_length=4)['input_ids'] == [1, 3, 4, 2]
    assert left("the cat sat on", truncation=True, max_length=4)['input_ids'] == [1, 5, 6, 2]


def test_pair_truncation_cuts_the_longer_sequence_first():
    tok = WordTokenizer()
    ids = tok("the cat", "sat on the mat .", truncation=True, max_length=7)['input_ids']
    assert ids == [1, 3, 4, 2, 5, 6, 2]


def test_max_length_too_small_for_special_tokens_is_a_config_error():
    with pytest.raises(ConfigError, match='no room'):
        WordTokenizer()("the", truncation=True, max_length=1)


def test_bad_padding_side_and_argument_values_are_config_errors():
    with pytest.raises(ConfigError, match="padding_side must be 'right' or 'left'"):
        WordTokenizer(padding_side='middle')
    with pytest.raises(ConfigError, match='padding must be'):
        WordTokenizer()("the", padding='sideways')
    with pytest.raises(ConfigError, match='return_tensors must be'):
        WordTokenizer()("the", return_tensors='pt')
    with pytest.raises(ConfigError, match='max_length must be a positive integer'):
        WordTokenizer()("the", max_length=0, truncation=True)


def test_added_tokens_are_matched_whole_and_decoded_verbatim():
    tok = WordTokenizer()
    assert tok.add_tokens(['<sep>', 'cat']) == 1  # 'cat' is already in the vocabulary
    assert len(tok) == len(WORDS) + 1
    assert tok.tokenize("the<sep>cat") == ['the', '<sep>', 'cat']
    ids = tok.encode("the<sep>cat")
    assert ids == [1, 3, len(WORDS), 4, 2]
    assert tok.decode(ids, skip_special_tokens=True) == 'the <sep> cat'


def test_add_special_tokens_sets_the_named_token():
    tok = WordTokenizer()
    assert tok.add_special_tokens({'pad_token': '[PAD]'}) == 1
    assert tok.pad_token_id == len(WORDS)
    assert '[PAD]' in tok.all_special_tokens
    with pytest.raises(ConfigError, match="unknown special token name 'padding'"):
        tok.add_special_tokens({'padding': 'x'})


def test_special_token_id_setter():
    tok = WordTokenizer()
    tok.pad_token_id = 2
    assert tok.pad_token == '[EOS]'


def test_clean_up_tokenization_spaces():
    tok = WordTokenizer()
    assert tok.decode([3, 4, 8], clean_up_tokenization_spaces=True) == 'the cat.'
    assert tok.decode([3, 4, 8], clean_up_tokenization_spaces=False) == 'the cat .'


def test_save_and_load_round_trip(tmp_path):
    tok = WordTokenizer(pad_token='[UNK]', model_max_length=6)
    tok.save_pretrained(str(tmp_path))
    special = json.loads((tmp_path / 'special_tokens_map.json').read_text(encoding='utf-8'))
    assert special == {'bos_token': '[BOS]', 'eos_token': '[EOS]', 'unk_token': '[UNK]', 'pad_token': '[UNK]'}
    loaded = WordTokenizer.from_pretrained(str(tmp_path))
    assert loaded.model_max_length == 6
    # model_max_length stands in for a missing max_length
    assert loaded("the cat sat on the mat .", truncation=True)['input_ids'] == [1, 3, 4, 5, 6, 2]


def test_from_pretrained_reads_transformers_style_token_dicts(tmp_path):
    (tmp_path / 'words.txt').write_text('\n'.join(WORDS), encoding='utf-8')
    (tmp_path / 'tokenizer_config.json').write_text(json.dumps({
        'tokenizer_class': 'WordTokenizer', 'added_tokens_decoder': {},
        'pad_token': {'content': '[UNK]', 'lstrip': False}}), encoding='utf-8')
    assert WordTokenizer.from_pretrained(str(tmp_path)).pad_token == '[UNK]'


def test_special_tokens_mixin_and_base_audio_processor_keep_their_contracts():
    """SpecialTokensMixin alone holds special tokens; a BaseAudioProcessor subclass runs its preprocess."""
    tokens = SpecialTokensMixin(bos_token='<s>', eos_token={'content': '</s>'}, additional_special_tokens=['<x>'])
    assert tokens.special_tokens_map == {'bos_token': '<s>', 'eos_token': '</s>', 'additional_special_tokens': ['<x>']}
    tokens.add_special_tokens({'pad_token': '<pad>', 'additional_special_tokens': ['<y>']})
    assert tokens.all_special_tokens == ['<s>', '</s>', '<pad>', '<x>', '<y>']

    class Peak(BaseAudioProcessor):
        def preprocess(self, audio_data, **kwargs):
            scale = kwargs.get('scale', self.config['scale'])
            return np.abs(np.asarray(audio_data)).max() * scale
    assert Peak(scale=2.0)([0.1, -0.5, 0.25]) == 1.0 and Peak(scale=2.0)([1.0], scale=3.0) == 3.0
    with pytest.raises(NotImplementedError, match=r"^BaseAudioProcessor.preprocess: an audio processor subclass"):
        BaseAudioProcessor()([0.0])
