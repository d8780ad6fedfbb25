"""CLIPTokenizer with the real CLIP BPE (../shared): upstream's documented output, ids equal to
transformers.CLIPTokenizer on real lines (English novels, accents, CJK, digits, punctuation, odd whitespace),
decoding, save / load round trips (ours and a Hugging Face directory), and one-line errors."""
import gzip
import json
import os

import pytest

from mindformers import AutoTokenizer, CLIPTokenizer
from mindformers.models.clip.clip_tokenizer import clip_vocabulary, read_clip_merges
from mindformers.tools.errors import ConfigError

from tests.ut.tokenizer.conftest import REPO_ROOT, EMMA

SHARED_CLIP = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'data', 'tokenizers', 'clip',
                           'bpe_simple_vocab_16e6.txt.gz')
MOBY = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'data', 'text', 'mobydick.txt')
# lines the novels lack: accents, CJK, digits, HTML-free punctuation, curly quotes, tabs and runs of spaces
EXTRA_LINES = ["Café déjà vu: naïve façade, Ångström and Straße.",
               "东京是日本的首都。北京欢迎你！",
               "a photo of the digit 7 (seven) — 3.14159 × 2 = 6.28", "“Curly quotes” and ‘single’ ones…",
               "tabs\tand   many    spaces\n\nnew lines", "ＦＵＬＬＷＩＤＴＨ letters and ﬁ ligatures",
               "emoji 😀 👍🏽 and symbols ©®™ ±∞", "can't won't I'm you'll we'd they've she's",
               "UPPER lower MiXeD", "<|startoftext|>already special<|endoftext|>"]


@pytest.fixture(name='clip_bpe', scope='module')
def fixture_clip_bpe():
    if not os.path.isfile(SHARED_CLIP):
        pytest.skip(f"the real CLIP BPE is not at {SHARED_CLIP} (../shared/data is not on this machine)")
    return SHARED_CLIP


@pytest.fixture(name='clip_tokenizer', scope='module')
def fixture_clip_tokenizer(clip_bpe):
    return CLIPTokenizer(vocab_file=clip_bpe)


def real_lines():
    lines = []
    for path, count in ((EMMA, 120), (MOBY, 120)):
        if not os.path.isfile(path):
            pytest.skip(f"{path} is not on this machine (../shared/data)")
        with open(path, encoding='utf-8') as stream:
            text = [line.strip() for line in stream if len(line.strip()) > 20]
        lines.extend(text[200:200 + count])
    return lines + EXTRA_LINES


def hf_directory(clip_bpe, folder):
    """The Hugging Face layout of the same vocabulary: vocab.json + merges.txt."""
    merges = read_clip_merges(clip_bpe)
    with open(os.path.join(folder, 'vocab.json'), 'w', encoding='utf-8') as stream:
        json.dump(clip_vocabulary(merges), stream, ensure_ascii=False)
    with open(os.path.join(folder, 'merges.txt'), 'w', encoding='utf-8') as stream:
        stream.write('#version: 0.2\n' + '\n'.join(' '.join(pair) for pair in merges) + '\n')
    return folder


def test_upstream_documented_output(clip_tokenizer):
    assert clip_tokenizer("a boy") == {'input_ids': [49406, 320, 1876, 49407], 'attention_mask': [1, 1, 1, 1]}
    assert clip_tokenizer.vocab_size == 49408
    assert clip_tokenizer.convert_tokens_to_ids(['<|startoftext|>', '<|endoftext|>']) == [49406, 49407]
    assert clip_tokenizer.tokenize("Hello world!") == ['hello</w>', 'world</w>', '!</w>']


def test_ids_equal_transformers_on_real_lines(clip_bpe, clip_tokenizer, tmp_path):
    transformers = pytest.importorskip('transformers', reason="parity needs transformers (pip install -e .[test])")
    pytest.importorskip('ftfy', reason="transformers cleans text with ftfy only when it is installed")
    folder = hf_directory(clip_bpe, str(tmp_path))
    reference = transformers.CLIPTokenizer(os.path.join(folder, 'vocab.json'), os.path.join(folder, 'merges.txt'))
    lines = real_lines()
    assert len(lines) >= 200
    for line in lines:
        assert clip_tokenizer(line)['input_ids'] == reference(line)['input_ids'], line
    assert clip_tokenizer(lines[:3], max_length=77, padding='max_length')['input_ids'] == \
        reference(lines[:3], max_length=77, padding='max_length')['input_ids']


def test_decode_gives_the_cleaned_text(clip_tokenizer):
    ids = clip_tokenizer("A Photo of the Digit SEVEN, café!")['input_ids']
    assert clip_tokenizer.decode(ids, skip_special_tokens=True) == "a photo of the digit seven , café !"


def test_upstream_pad_token_and_padding(clip_bpe):
    tokenizer = CLIPTokenizer(vocab_file=clip_bpe, pad_token='!')
    out = tokenizer(["a boy", "a photo of a cat"], max_length=8, padding='max_length')
    assert tokenizer.pad_token_id == 0
    assert out['input_ids'] == [[49406, 320, 1876, 49407, 0, 0, 0, 0],
                                [49406, 320, 1125, 539, 320, 2368, 49407, 0]]
    assert out['attention_mask'][0] == [1, 1, 1, 1, 0, 0, 0, 0]


def test_save_and_load_round_trips(clip_tokenizer, clip_bpe, tmp_path):
    saved = clip_tokenizer.save_pretrained(str(tmp_path / 'ours'))
    with gzip.open(saved[0], 'rt', encoding='utf-8') as stream:
        assert len(stream.read().strip().split('\n')) == 1 + 48894
    again = CLIPTokenizer.from_pretrained(str(tmp_path / 'ours'))
    hf_dir = hf_directory(clip_bpe, str(tmp_path))
    from_hf = AutoTokenizer.from_pretrained(_with_hf_config(hf_dir))
    assert type(from_hf).__name__ == 'CLIPTokenizer'
    for line in EXTRA_LINES:
        assert again(line)['input_ids'] == clip_tokenizer(line)['input_ids'] == from_hf(line)['input_ids']


def _with_hf_config(folder):
    with open(os.path.join(folder, 'tokenizer_config.json'), 'w', encoding='utf-8') as stream:
        json.dump({'tokenizer_class': 'CLIPTokenizer', 'bos_token': '<|startoftext|>', 'eos_token': '<|endoftext|>',
                   'pad_token': '<|endoftext|>', 'errors': 'replace', 'model_max_length': 77}, stream)
    return folder


def test_bad_files_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match='does not exist'):
        CLIPTokenizer(vocab_file=str(tmp_path / 'missing.txt.gz'))
    broken = tmp_path / 'broken.txt.gz'
    broken.write_bytes(b'not gzip at all')
    with pytest.raises(ConfigError, match='cannot read the BPE file'):
        CLIPTokenizer(vocab_file=str(broken))


def test_a_missing_bpe_file_is_downloaded_to_where_the_config_names_it(tmp_path, monkeypatch, clip_bpe):
    from mindformers.tools import download  # pylint: disable=import-outside-toplevel
    fetched = []

    def fake_download(url, path, timeout=30):
        fetched.append((url, path))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(clip_bpe, 'rb') as source, open(path, 'wb') as target:
            target.write(source.read())
    monkeypatch.setattr(download, 'download_with_progress_bar', fake_download)
    monkeypatch.setenv('CHECKPOINT_DOWNLOAD_FOLDER', str(tmp_path / 'cache'))
    tokenizer = CLIPTokenizer()
    assert fetched == [('https://ascend-repo-modelzoo.obs.cn-east-2.myhuaweicloud.com/MindFormers/clip/'
                        'bpe_simple_vocab_16e6.txt.gz',
                        str(tmp_path / 'cache' / 'clip' / 'bpe_simple_vocab_16e6.txt.gz'))]
    assert tokenizer("a boy")['input_ids'] == [49406, 320, 1876, 49407]
    CLIPTokenizer(vocab_file=str(tmp_path / 'cache' / 'clip' / 'bpe_simple_vocab_16e6.txt.gz'))
    assert len(fetched) == 1                        # present now: not fetched again


def test_offline_download_is_one_line(tmp_path, monkeypatch):
    from mindformers.tools import download  # pylint: disable=import-outside-toplevel
    from mindformers.tools.errors import CheckpointError  # pylint: disable=import-outside-toplevel

    def offline(url, timeout=30):
        raise download.urllib.error.URLError('no network')
    monkeypatch.setattr(download.urllib.request, 'urlopen', offline)
    with pytest.raises(CheckpointError, match='cannot download .*clip/bpe_simple_vocab_16e6.txt.gz .*place it at'):
        CLIPTokenizer(vocab_file=str(tmp_path / 'bpe_simple_vocab_16e6.txt.gz'))
