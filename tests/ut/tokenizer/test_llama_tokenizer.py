"""LlamaTokenizer on the real LLaMA-style sentencepiece model: ids, text, padding, tensors, save/load.

Expected ids and strings were produced by transformers 4.57's slow LlamaTokenizer (legacy=True,
pad_token='<unk>') on the same model file; test_matches_transformers_* re-checks them live when
transformers is installed.
"""
import json
import os
import pickle
import shutil

import numpy as np
import pytest

from mindformers.models import build_tokenizer
from mindformers.models.base_tokenizer import BaseTokenizer, PreTrainedTokenizer
from mindformers.models.llama.llama_tokenizer import LlamaTokenizer
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister


@pytest.fixture(name='tokenizer', scope='module')
def fixture_tokenizer(llama_model_file):
    return LlamaTokenizer(llama_model_file)


def test_base_tokenizer_is_an_alias_of_pretrained_tokenizer():
    assert BaseTokenizer is PreTrainedTokenizer
    assert issubclass(LlamaTokenizer, PreTrainedTokenizer)


def test_llama_tokenizer_is_registered_under_tokenizer():
    assert MindFormerRegister.get_cls(MindFormerModuleType.TOKENIZER, 'LlamaTokenizer') is LlamaTokenizer
    assert LlamaTokenizer.vocab_files_names == {'vocab_file': 'tokenizer.model'}


def test_missing_vocab_file_is_a_one_line_config_error_naming_the_path(tmp_path):
    missing = str(tmp_path / 'nope' / 'tokenizer.model')
    with pytest.raises(ConfigError) as error:
        LlamaTokenizer(missing)
    assert str(error.value) == f"LlamaTokenizer: vocab_file not found: {missing}"


def test_unreadable_vocab_file_is_a_one_line_config_error_naming_the_path(tmp_path):
    garbage = tmp_path / 'tokenizer.model'
    garbage.write_bytes(b'this is not a sentencepiece model\n' * 4)
    with pytest.raises(ConfigError) as error:
        LlamaTokenizer(str(garbage))
    message = str(error.value)
    assert message.startswith(f"LlamaTokenizer: cannot read sentencepiece model {garbage}")
    assert '\n' not in message


def test_vocab_file_none_is_a_config_error():
    with pytest.raises(ConfigError, match='vocab_file is required'):
        LlamaTokenizer(None)


def test_special_tokens_and_their_ids(tokenizer):
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.unk_token, tokenizer.pad_token) == \
        ('<s>', '</s>', '<unk>', '<unk>')
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, tokenizer.pad_token_id) == \
        (1, 2, 0, 0)
    assert tokenizer.vocab_size == 32000
    assert len(tokenizer) == 32000
    assert tokenizer.padding_side == 'right'
    assert sorted(tokenizer.all_special_ids) == [0, 1, 2]


def test_encode_adds_bos_only_by_default(tokenizer):
    assert tokenizer.encode("Hello world") == [1, 22557, 1526]
    assert tokenizer("Hello world") == {'input_ids': [1, 22557, 1526], 'attention_mask': [1, 1, 1]}
    assert tokenizer.tokenize("Hello world") == ['▁Hello', '▁world']


def test_bos_and_eos_flags(llama_model_file):
    no_bos = LlamaTokenizer(llama_model_file, add_bos_token=False)
    both = LlamaTokenizer(llama_model_file, add_eos_token=True)
    assert no_bos.encode("Hello world") == [22557, 1526]
    assert both.encode("Hello world") == [1, 22557, 1526, 2]
    assert both.encode("Hello world", add_special_tokens=False) == [22557, 1526]
    assert both("q", "answer pair")['input_ids'] == [1, 4256, 2, 1, 4372, 5964, 2]


def test_special_tokens_in_text_are_split_out_legacy_style(tokenizer):
    text = "Hello <s> world</s>"
    assert tokenizer.tokenize(text) == ['▁Hello', '▁', '<s>', '▁', '▁world', '</s>']
    ids = tokenizer.encode(text)
    assert ids == [1, 22557, 28705, 1, 28705, 1526, 2]
    assert tokenizer.decode(ids) == '<s> Hello <s>  world</s>'
    assert tokenizer.decode(ids, skip_special_tokens=True) == 'Hello   world'


def test_decode_writes_special_tokens_like_transformers(tokenizer):
    assert tokenizer.decode([1, 22557, 2, 1, 22557]) == '<s> Hello</s><s>Hello'
    assert tokenizer.decode([1, 22557, 1526]) == '<s>Hello world'


def test_non_legacy_mode_adds_no_space_after_special_tokens(llama_model_file):
    modern = LlamaTokenizer(llama_model_file, legacy=False)
    assert modern.tokenize("Hello <s>world") == ['▁Hello', '▁', '<s>', 'world']
    assert modern.tokenize("Hello world") == ['▁Hello', '▁world']


def test_round_trip_on_emma(tokenizer, emma_lines):
    assert len(emma_lines) == 400
    for line in emma_lines:
        ids = tokenizer.encode(line)
        assert ids[0] == 1
        assert tokenizer.decode(ids, skip_special_tokens=True) == line


def test_round_trip_of_unicode_and_whitespace_through_byte_fallback(tokenizer):
    for text in ["日本語 😀", "Mr. Knightley's  two", "a\n\nb", "tabs\tand trailing "]:
        assert tokenizer.decode(tokenizer.encode(text), skip_special_tokens=True) == text
    assert tokenizer.tokenize("a\n\nb") == ['▁a', '<0x0A>', '<0x0A>', 'b']


def test_padding_true_pads_right_to_the_longest_with_pad_id_and_mask(tokenizer):
    out = tokenizer(["hi there", "a much longer sentence here"], padding=True)
    assert out['input_ids'] == [[1, 12014, 736, 0, 0, 0], [1, 264, 1188, 3774, 12271, 1236]]
    assert out['attention_mask'] == [[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]]


def test_padding_side_left(llama_model_file):
    left = LlamaTokenizer(llama_model_file, padding_side='left')
    out = left(["hi there", "a much longer sentence here"], padding=True)
    assert out['input_ids'][0] == [0, 0, 0, 1, 12014, 736]
    assert out['attention_mask'][0] == [0, 0, 0, 1, 1, 1]


def test_max_length_padding_with_truncation(tokenizer):
    out = tokenizer(["hi there", "a much longer sentence here"], padding='max_length', max_length=5, truncation=True)
    assert out['input_ids'] == [[1, 12014, 736, 0, 0], [1, 264, 1188, 3774, 12271]]
    assert out['attention_mask'] == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]


def test_truncation_counts_special_tokens_and_keeps_eos(llama_model_file):
    with_eos = LlamaTokenizer(llama_model_file, add_eos_token=True)
    assert with_eos("hello world", max_length=3, truncation=True)['input_ids'] == [1, 6312, 2]


def test_max_length_without_truncation_does_not_cut(tokenizer):
    assert len(tokenizer("a much longer sentence here", max_length=3)['input_ids']) == 6


def test_return_tensors_np_adds_a_batch_axis_for_one_string(tokenizer):
    out = tokenizer("hi there", return_tensors='np')
    assert isinstance(out['input_ids'], np.ndarray)
    assert out['input_ids'].tolist() == [[1, 12014, 736]]
    assert out['attention_mask'].tolist() == [[1, 1, 1]]


def test_return_tensors_ms_gives_int32_tensors(tokenizer):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    out = tokenizer(["hi there", "a much longer sentence here"], padding='max_length', max_length=8,
                    return_tensors='ms')
    assert isinstance(out['input_ids'], ms.Tensor)
    assert out['input_ids'].dtype == ms.int32
    assert out['input_ids'].shape == (2, 8)
    assert out['attention_mask'].asnumpy().sum() == 3 + 6


def test_ragged_batch_as_tensor_is_a_config_error(tokenizer):
    with pytest.raises(ConfigError, match='pass padding=True'):
        tokenizer(["hi there", "a much longer sentence here"], return_tensors='np')


def test_padding_max_length_without_max_length_is_a_config_error(tokenizer):
    with pytest.raises(ConfigError, match='needs max_length'):
        tokenizer("hi", padding='max_length')


def test_unknown_call_argument_is_a_config_error(tokenizer):
    with pytest.raises(ConfigError, match='unexpected arguments: pad_to_multiple'):
        tokenizer("hi", pad_to_multiple=8)


def test_return_attention_mask_false_leaves_it_out(tokenizer):
    assert tokenizer("hi there", return_attention_mask=False) == {'input_ids': [1, 12014, 736]}


def test_attribute_access_on_the_output(tokenizer):
    assert tokenizer("hi there").input_ids == [1, 12014, 736]


def test_decode_takes_tensors_arrays_and_batches(tokenizer):
    import mindspore as ms  # pylint: disable=import-outside-toplevel
    ids = [[1, 22557, 1526], [1, 12014, 736]]
    assert tokenizer.decode(ms.Tensor(np.array(ids, dtype=np.int32)), skip_special_tokens=True) == \
        ['Hello world', 'hi there']
    assert tokenizer.decode(np.array(ids[0]), skip_special_tokens=True) == 'Hello world'
    assert tokenizer.batch_decode(ids, skip_special_tokens=True) == ['Hello world', 'hi there']
    assert tokenizer.decode(22557) == 'Hello'


def test_token_id_conversions(tokenizer):
    assert tokenizer.convert_tokens_to_ids('▁Hello') == 22557
    assert tokenizer.convert_tokens_to_ids(['<s>', '▁world']) == [1, 1526]
    assert tokenizer.convert_ids_to_tokens(22557) == '▁Hello'
    assert tokenizer.convert_ids_to_tokens([1, 22557, 2], skip_special_tokens=True) == ['▁Hello']
    assert tokenizer.convert_tokens_to_string(['▁Hello', '▁world']) == 'Hello world'
    assert tokenizer.get_vocab()['▁Hello'] == 22557


def test_id_outside_the_vocabulary_is_a_config_error(tokenizer):
    with pytest.raises(ConfigError, match='token id 40000 is outside the vocabulary'):
        tokenizer.decode([1, 40000])


def test_new_pad_token_is_added_after_the_vocabulary(llama_model_file):
    padded = LlamaTokenizer(llama_model_file, pad_token='<pad>')
    assert len(padded) == 32001
    assert padded.pad_token_id == 32000
    assert padded.tokenize("a <pad> b") == ['▁a', '▁', '<pad>', '▁', '▁b']
    assert padded.decode(padded.encode("a <pad> b")) == '<s> a <pad> b'


def test_pad_token_can_be_set_to_eos(llama_model_file):
    tok = LlamaTokenizer(llama_model_file)
    tok.pad_token = tok.eos_token
    assert tok.pad_token_id == 2
    assert tok(["a", "a b"], padding=True)['input_ids'][0][-1] == 2


def test_save_pretrained_then_from_pretrained_gives_the_same_tokenizer(llama_model_file, tmp_path):
    original = LlamaTokenizer(llama_model_file, add_eos_token=True, padding_side='left')
    written = original.save_pretrained(str(tmp_path / 'saved'))
    names = sorted(os.path.basename(path) for path in written)
    assert names == ['mindspore_model.yaml', 'special_tokens_map.json', 'tokenizer.model', 'tokenizer_config.json']
    config = json.loads((tmp_path / 'saved' / 'tokenizer_config.json').read_text(encoding='utf-8'))
    assert config['add_eos_token'] is True and config['tokenizer_class'] == 'LlamaTokenizer'
    loaded = LlamaTokenizer.from_pretrained(str(tmp_path / 'saved'))
    assert loaded.add_eos_token and loaded.padding_side == 'left'
    assert loaded(["hi", "hi there"], padding=True) == original(["hi", "hi there"], padding=True)
    overridden = LlamaTokenizer.from_pretrained(str(tmp_path / 'saved'), add_eos_token=False)
    assert overridden.encode("hi") == [1, 12014]


def test_saved_yaml_builds_the_tokenizer(llama_model_file, tmp_path):
    from mindformers.tools.register import MindFormerConfig  # pylint: disable=import-outside-toplevel
    LlamaTokenizer(llama_model_file).save_pretrained(str(tmp_path))
    config = MindFormerConfig(str(tmp_path / 'mindspore_model.yaml'))
    assert config.processor.tokenizer.type == 'LlamaTokenizer'
    assert build_tokenizer(config.processor.tokenizer).encode("Hello world") == [1, 22557, 1526]


def test_from_pretrained_takes_the_model_file_itself(llama_model_file):
    assert LlamaTokenizer.from_pretrained(llama_model_file).encode("Hello world") == [1, 22557, 1526]


def test_from_pretrained_of_a_missing_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="is neither a directory nor a file"):
        LlamaTokenizer.from_pretrained(str(tmp_path / 'missing'))
    with pytest.raises(ConfigError, match=f"tokenizer.model not found in {tmp_path}"):
        LlamaTokenizer.from_pretrained(str(tmp_path))


def test_from_pretrained_of_a_model_name_reads_checkpoint_download(llama_model_file, tmp_path, monkeypatch):
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path))
    with pytest.raises(ConfigError) as error:
        LlamaTokenizer.from_pretrained('llama2_7b')
    assert str(error.value) == (f"LlamaTokenizer.from_pretrained('llama2_7b'): tokenizer.model not cached in "
                                f"{tmp_path / 'llama2'} and hub downloads are not available; place the file(s) "
                                f"there or pass a directory")
    os.makedirs(tmp_path / 'llama2')
    shutil.copyfile(llama_model_file, tmp_path / 'llama2' / 'tokenizer.model')
    assert LlamaTokenizer.from_pretrained('llama2_7b').encode("Hello world") == [1, 22557, 1526]
    assert 'llama2_7b' in LlamaTokenizer.get_support_list()


def test_pickle_round_trip_keeps_the_model(tokenizer):
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone.encode("Hello <s> world</s>") == tokenizer.encode("Hello <s> world</s>")


def test_build_tokenizer_from_a_config_dict(llama_model_file):
    assert build_tokenizer() is None
    tok = build_tokenizer({'type': 'LlamaTokenizer', 'vocab_file': llama_model_file, 'add_eos_token': True})
    assert isinstance(tok, LlamaTokenizer)
    assert tok.encode("Hello world") == [1, 22557, 1526, 2]
    tok = build_tokenizer({'type': 'LlamaTokenizer', 'vocab_file': 'x'}, default_args={'vocab_file': llama_model_file})
    assert tok.vocab_size == 32000
    tok = build_tokenizer(class_name='LlamaTokenizer', vocab_file=llama_model_file)
    assert tok.vocab_size == 32000


def test_build_tokenizer_with_a_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match=f"vocab_file not found: {tmp_path}/t.model"):
        build_tokenizer({'type': 'LlamaTokenizer', 'vocab_file': str(tmp_path / 't.model')})


@pytest.mark.parametrize('legacy', [True, False])
def test_matches_transformers_slow_llama_tokenizer(llama_model_file, emma_lines, legacy):
    transformers = pytest.importorskip('transformers')
    reference = transformers.LlamaTokenizer(llama_model_file, legacy=legacy, pad_token='<unk>')
    ours = LlamaTokenizer(llama_model_file, legacy=legacy)
    samples = ["Hello <s> world</s>", " leading space", "trailing ", "<s>Hi", "x</s><unk>y", "  two lead",
               "<0x0A> raw", "日本語 😀"] + emma_lines[:200]
    for text in samples:
        assert ours.tokenize(text) == reference.tokenize(text), text
        ids = reference.encode(text)
        assert ours.encode(text) == ids, text
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip), text
    batch = ["hi there", "a much longer sentence here", ""]
    assert dict(ours(batch, padding=True)) == dict(reference(batch, padding=True))
