"""Data-tool test fixtures: a generated quick-start data set with its own tokenizer."""
import pytest

from data_tool_helpers import load_script


@pytest.fixture(name='make_data', scope='session')
def fixture_make_data():
    return load_script('scripts/quickstart/make_data.py', 'quickstart_make_data_for_data_tool_tests')


@pytest.fixture(name='train_tokenizer', scope='session')
def fixture_train_tokenizer():
    return load_script('scripts/quickstart/train_tokenizer.py', 'quickstart_train_tokenizer_for_data_tool_tests')


@pytest.fixture(name='quickstart', scope='session')
def fixture_quickstart(tmp_path_factory, make_data, train_tokenizer):
    """make_data.py's files (200 samples, 10 creatures) plus a 400-piece tokenizer trained on its corpus."""
    out_dir = tmp_path_factory.mktemp('quickstart')
    assert make_data.main(['--output_dir', str(out_dir), '--num_samples', '200', '--seed', '0',
                           '--num_entities', '10']) == 0
    model_file = train_tokenizer.train_tokenizer(str(out_dir / 'corpus.txt'), str(out_dir / 'tokenizer'), 400)
    return {'dir': out_dir, 'model_file': model_file}
