"""The *TokenizerFast classes give their slow tokenizer's ids (and decoded text) on real text: GPT-2, BLOOM and
BERT with the real vocabularies of ../shared, LLaMA with the real LLaMA-style sentencepiece model, T5 with a unigram
model trained here; Emma's lines plus lines with accents, CJK, digits, emoji and odd spacing."""
import io
import os

import pytest
import sentencepiece as spm

from mindformers import (BertTokenizer, BertTokenizerFast, BloomTokenizer, BloomTokenizerFast, GPT2Tokenizer,
                         GPT2TokenizerFast, LlamaTokenizer, LlamaTokenizerFast, T5Tokenizer, T5TokenizerFast)

SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))), 'shared', 'data')
EXTRA = ['Héllo wörld — naïve café, déjà vu!', '中文分词测试：北京欢迎你。', 'Numbers 12345 and 3.14159, x=42;',
         '  leading and   multiple   spaces  ', 'Emoji 😀 and tabs\tand\nnewlines', "It's a dog's life, isn't it?"]


def _path(*parts):
    path = os.path.join(SHARED, *parts)
    if not os.path.exists(path):
        pytest.skip(f"{path} (real data of ../shared) is not on this machine")
    return path


@pytest.fixture(name='lines', scope='module')
def fixture_lines():
    with open(_path('text', 'austen', 'emma.txt'), encoding='utf-8') as stream:
        lines = [line.rstrip('\n') for line in stream if line.strip()][:300]
    return lines + EXTRA


def _same(slow, fast, lines):
    for line in lines:
        assert fast(line)['input_ids'] == slow(line)['input_ids'], line
    batch = fast(lines[:8], padding=True)
    assert batch == slow(lines[:8], padding=True)
    ids = slow(lines[0])['input_ids']
    assert fast.decode(ids, skip_special_tokens=True) == slow.decode(ids, skip_special_tokens=True)


def test_gpt2_and_bloom_fast_give_the_slow_ids(lines, tmp_path):
    vocab, merges = _path('tokenizers', 'gpt2', 'vocab.json'), _path('tokenizers', 'gpt2', 'merges.txt')
    _same(GPT2Tokenizer(vocab_file=vocab, merges_file=merges), GPT2TokenizerFast(vocab_file=vocab, merges_file=merges),
          lines)
    import tokenizers  # pylint: disable=import-outside-toplevel
    backend = tokenizers.Tokenizer(tokenizers.models.BPE.from_file(vocab, merges))
    backend.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = tokenizers.decoders.ByteLevel()
    backend.add_special_tokens(['<unk>', '<s>', '</s>', '<pad>'])
    backend.save(str(tmp_path / 'tokenizer.json'))
    _same(BloomTokenizer(vocab_file=str(tmp_path / 'tokenizer.json')),
          BloomTokenizerFast(vocab_file=str(tmp_path / 'tokenizer.json')), lines)


def test_bert_fast_gives_the_slow_ids(lines):
    vocab = _path('tokenizers', 'bert_uncased', 'vocab.txt')
    _same(BertTokenizer(vocab_file=vocab), BertTokenizerFast(vocab_file=vocab), lines)
    pair = ('What is the capital?', 'Paris is the capital of France.')
    assert BertTokenizerFast(vocab_file=vocab)(*pair) == BertTokenizer(vocab_file=vocab)(*pair)


def test_llama_fast_gives_the_slow_ids(lines):
    model = _path('tokenizers', 'llama_style_spm', 'tokenizer.model')
    _same(LlamaTokenizer(vocab_file=model), LlamaTokenizerFast(vocab_file=model), lines)


def test_t5_fast_gives_the_slow_ids(lines, tmp_path):
    """A unigram model laid out like T5's spiece.model (<pad> 0, </s> 1, <unk> 2), trained here on the lines."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, model_type='unigram',
                                   vocab_size=800, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, num_threads=1,
                                   minloglevel=2)
    (tmp_path / 'spiece.model').write_bytes(model.getvalue())
    slow, fast = T5Tokenizer(str(tmp_path / 'spiece.model')), T5TokenizerFast(str(tmp_path / 'spiece.model'))
    _same(slow, fast, lines)
    assert fast('translate <extra_id_0> now')['input_ids'] == slow('translate <extra_id_0> now')['input_ids']
