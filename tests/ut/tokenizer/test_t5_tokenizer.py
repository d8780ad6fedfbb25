"""T5Tokenizer against transformers' (slow) T5Tokenizer on a T5-style sentencepiece model trained here on real text
(ids, sentinels, decoding), its special tokens and ids, T5Processor, AutoTokenizer and save/load."""
import io
import os

import pytest
import sentencepiece as spm

from mindformers import AutoTokenizer, T5Processor, T5Tokenizer, mindformer_book
from mindformers.tools.errors import CheckpointError, ConfigError

transformers = pytest.importorskip('transformers', reason='T5 tokenizer parity needs transformers (pip install -e '
                                                          '.[test])')

PERSUASION = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data', 'text', 'austen',
                          'persuasion.txt')
EXTRA = ['Café déjà vu — naïve façade, 1,234.56 € (approx.)!', '   leading and   inner  spaces  ',
         'tabs\tand\nnewlines', '中文的句子也可以。', "It's a \"quoted\" <tag> & ampersand; <extra_id_3> inside",
         '']


@pytest.fixture(name='lines', scope='module')
def fixture_lines(emma_lines):
    lines = list(emma_lines[:300])
    if os.path.isfile(PERSUASION):
        with open(PERSUASION, encoding='utf-8') as stream:
            lines += [line.rstrip('\n') for line in stream if line.strip()][:100]
    return lines


@pytest.fixture(name='model_file', scope='module')
def fixture_model_file(tmp_path_factory, lines):
    """A unigram model laid out like T5's spiece.model: <pad>=0, </s>=1, <unk>=2, no <s>."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, model_type='unigram',
                                   vocab_size=1200, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, num_threads=1,
                                   minloglevel=2)
    path = tmp_path_factory.mktemp('t5_tok') / 'spiece.model'
    path.write_bytes(model.getvalue())
    return str(path)


@pytest.fixture(name='pair', scope='module')
def fixture_pair(model_file):
    return T5Tokenizer(model_file), transformers.T5Tokenizer(model_file, legacy=True)


def test_ids_and_decoding_equal_transformers_on_real_lines(pair, lines):
    ours, reference = pair
    assert len(lines) >= 200
    for text in lines + EXTRA:
        ids = ours(text)['input_ids']
        assert ids == reference(text)['input_ids'], text
        assert ids[-1] == 1   # </s> closes every sequence
        for skip in (True, False):
            assert ours.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip), text


def test_sentinels_take_the_last_ids_in_reverse_and_match_transformers(pair):
    ours, reference = pair
    pieces = ours.vocab_size
    assert pieces == 1200 and len(ours) == len(reference) == 1300
    assert ours.convert_tokens_to_ids(['<extra_id_0>', '<extra_id_99>']) == [1299, 1200]
    assert sorted(ours.get_sentinel_token_ids()) == sorted(reference.get_sentinel_token_ids())
    text = 'The <extra_id_0> walks in <extra_id_1> park'
    assert ours(text)['input_ids'] == reference(text)['input_ids']
    ids = ours(text)['input_ids']
    assert ours.decode(ids) == reference.decode(ids)
    assert ours.decode(ids, skip_special_tokens=True) == reference.decode(ids, skip_special_tokens=True)


def test_special_tokens_pairs_and_padding(pair):
    ours, reference = pair
    assert (ours.pad_token_id, ours.eos_token_id, ours.unk_token_id, ours.bos_token) == (0, 1, 2, None)
    assert ours('Anne', 'Wentworth')['input_ids'] == reference('Anne', 'Wentworth')['input_ids']
    batch = ours(['a short one', 'Anne walked into the room.'], max_length=8, padding='max_length', truncation=True)
    expected = reference(['a short one', 'Anne walked into the room.'], max_length=8, padding='max_length',
                         truncation=True)
    assert batch['input_ids'] == expected['input_ids'] and batch['attention_mask'] == expected['attention_mask']


def test_processor_pads_source_and_target_to_their_lengths(pair):
    tokenizer = pair[0]
    out = T5Processor(tokenizer=tokenizer, max_length=12, tgt_max_length=6)('Anne walked.', 'She came.')
    assert out['text'].shape == (1, 12) and out['tgt_output'].shape == (1, 6)
    assert out['text'].asnumpy()[0].tolist() == tokenizer('Anne walked.', max_length=12,
                                                           padding='max_length')['input_ids']
    assert T5Processor(tokenizer=tokenizer).max_length == 77   # upstream's defaults
    assert T5Processor(tokenizer=tokenizer).tgt_max_length == 128


def test_auto_tokenizer_loads_a_saved_t5_tokenizer_and_a_hf_directory(pair, tmp_path):
    ours, reference = pair
    ours.save_pretrained(str(tmp_path / 'ours'))
    loaded = AutoTokenizer.from_pretrained(str(tmp_path / 'ours'))
    assert isinstance(loaded, T5Tokenizer)
    reference.save_pretrained(str(tmp_path / 'hf'))
    from_hf = AutoTokenizer.from_pretrained(str(tmp_path / 'hf'))
    assert isinstance(from_hf, T5Tokenizer)
    text = 'Captain Wentworth <extra_id_0> came.'
    assert loaded(text)['input_ids'] == from_hf(text)['input_ids'] == reference(text)['input_ids']


def test_missing_spiece_model_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match='T5Tokenizer: vocab_file not found'):
        T5Tokenizer(str(tmp_path / 'spiece.model'))


def test_named_tokenizer_offline_names_the_url_and_the_path(tmp_path, monkeypatch):
    url = 'http://127.0.0.1:9/MindFormers/t5/spiece.model'  # the discard port: refused at once
    monkeypatch.setitem(mindformer_book._TOKENIZER_SUPPORT_URL_LIST, 't5', [url])  # pylint: disable=W0212
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError) as error:
        AutoTokenizer.from_pretrained('t5_small')
    place = tmp_path / 'checkpoint_download' / 't5' / 'spiece.model'
    assert str(error.value).startswith(f"cannot download {url} (")
    assert str(error.value).endswith(f"download it yourself and place it at {place}")
