"""Tokenizer test fixtures: the real LLaMA-style sentencepiece model from ../shared, and a tiny one trained here."""
import os

import pytest

from repo_scripts import load_script

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHARED_SPM = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'data', 'tokenizers', 'llama_style_spm',
                          'tokenizer.model')
EMMA = os.path.join(os.path.dirname(REPO_ROOT), 'shared', 'data', 'text', 'austen', 'emma.txt')


@pytest.fixture(name='llama_model_file', scope='session')
def fixture_llama_model_file():
    if not os.path.isfile(SHARED_SPM):
        pytest.skip(f"real LLaMA-style tokenizer not found at {SHARED_SPM} (../shared/data is not on this machine)")
    return SHARED_SPM


@pytest.fixture(name='emma_lines', scope='session')
def fixture_emma_lines():
    if not os.path.isfile(EMMA):
        pytest.skip(f"Emma text not found at {EMMA} (../shared/data is not on this machine)")
    with open(EMMA, encoding='utf-8') as stream:
        lines = [line.rstrip('\n') for line in stream]
    return [line for line in lines if line.strip()][:400]


@pytest.fixture(name='tiny_model_file', scope='session')
def fixture_tiny_model_file(tmp_path_factory):
    """A 400-piece LLaMA-style BPE trained by scripts/quickstart/train_tokenizer.py on generated text."""
    make_data = load_script('scripts/quickstart/make_data.py', 'quickstart_make_data_for_tokenizer_tests')
    train_tokenizer = load_script('scripts/quickstart/train_tokenizer.py', 'quickstart_train_tokenizer_for_tests')
    out_dir = tmp_path_factory.mktemp('tiny_tokenizer')
    train, _ = make_data.make_dataset(num_samples=200, seed=0, num_entities=10)
    corpus = out_dir / 'corpus.txt'
    corpus.write_text('\n'.join(make_data.corpus_lines(train)) + '\n', encoding='utf-8')
    return train_tokenizer.train_tokenizer(str(corpus), str(out_dir / 'tokenizer'), vocab_size=400)
