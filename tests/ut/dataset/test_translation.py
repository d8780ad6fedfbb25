"""Translation pieces: WMT16DataLoader pairs and its one-line errors, TranslationDataset rows (from text and from
the wmt16_to_mindrecord.py tool), BleuMetric against nltk, the translation pipeline on a random tiny T5, and the
trainer's length checks. The toy pairs and the sentencepiece model come from scripts/examples/translation."""
import numpy as np
import pytest

import mindspore as ms

from mindformers import T5Config, T5ForConditionalGeneration, T5Tokenizer, TranslationDataset, WMT16DataLoader, pipeline
from mindformers.core.metric import BleuMetric
from mindformers.core.metric.translation_metrics import bleu_tokens
from mindformers.dataset.translation_dataset import translation_features
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.trainer.translation.translation_finetune import TranslationTrainer
from repo_scripts import load_script

TOOL = 'mindformers/tools/dataset_preprocess/t5/wmt16_to_mindrecord.py'


@pytest.fixture(name='toy', scope='module')
def fixture_toy(tmp_path_factory):
    make_data = load_script('scripts/examples/translation/make_data.py', 'translation_make_data_for_tests')
    folder = tmp_path_factory.mktemp('toy_en_toy')
    assert make_data.main(['--output_dir', str(folder), '--train_count', '300', '--val_count', '20',
                           '--test_count', '20']) == 0
    return folder


@pytest.fixture(name='tokenizer', scope='module')
def fixture_tokenizer(toy):
    return T5Tokenizer(str(toy / 'spiece.model'))


def read_lines(path):
    return [line.rstrip('\n') for line in open(path, encoding='utf-8')]


def section(toy, **loader):
    return {'data_loader': dict({'type': 'WMT16DataLoader', 'dataset_dir': str(toy), 'stage': 'val',
                                 'shuffle': False}, **loader),
            'tokenizer': {'type': 'T5Tokenizer', 'vocab_file': str(toy / 'spiece.model'), 'src_max_length': 32,
                          'tgt_max_length': 24, 'prefix': ''},
            'input_columns': ['input_ids', 'attention_mask', 'labels'], 'batch_size': 4, 'drop_remainder': False}


def test_make_data_writes_the_wmt16_layout_with_held_out_sentences(toy):
    for stage in ('train', 'val', 'test'):
        assert len(read_lines(toy / f'{stage}.source')) == len(read_lines(toy / f'{stage}.target'))
    train = set(read_lines(toy / 'train.source'))
    assert not train & set(read_lines(toy / 'val.source')) and not train & set(read_lines(toy / 'test.source'))
    assert read_lines(toy / 'train.source')[0].startswith('translate English to Toy: the ')


def test_loader_yields_the_aligned_pairs(toy):
    rows = [(str(s), str(t)) for s, t in WMT16DataLoader(str(toy), stage='val').create_tuple_iterator(
        output_numpy=True, num_epochs=1)]
    assert sorted(rows) == sorted(zip(read_lines(toy / 'val.source'), read_lines(toy / 'val.target')))


@pytest.mark.parametrize('source, target, message', [
    ('a\nb\n', 'x\n', 'has 2 lines but .* has 1; the files must be line-aligned'),
    ('a\n\nc\n', 'x\ny\nz\n', r'train.source line 2 is empty; every pair needs both sides'),
    ('a\nb\nc\n', 'x\n \nz\n', r'train.target line 2 is empty'),
])
def test_bad_pairs_are_one_line_naming_file_and_line(tmp_path, source, target, message):
    (tmp_path / 'train.source').write_text(source, encoding='utf-8')
    (tmp_path / 'train.target').write_text(target, encoding='utf-8')
    with pytest.raises(DatasetError, match=message):
        WMT16DataLoader(str(tmp_path))


def test_missing_files_name_the_stage(tmp_path):
    with pytest.raises(DatasetError, match=r"val.source not found \(stage 'val' reads val.source and val.target\)"):
        WMT16DataLoader(str(tmp_path), stage='val')
    with pytest.raises(DatasetError, match='is not a folder'):
        WMT16DataLoader(str(tmp_path / 'nope'))


def test_dataset_rows_are_the_tokenized_pairs_in_the_model_order(toy, tokenizer):
    dataset = TranslationDataset(dataset_config=section(toy))
    assert (dataset.record_length, dataset.target_length) == (32, 24)
    batch = next(dataset.create_tuple_iterator(output_numpy=True, num_epochs=1))
    source, target = read_lines(toy / 'val.source')[0], read_lines(toy / 'val.target')[0]
    expected = translation_features(tokenizer, source, target, 32, 24)
    for column, want in zip(batch, expected):
        assert column.dtype == np.int32 and np.array_equal(column[0], want)
    assert tokenizer.decode(batch[2][0].tolist(), skip_special_tokens=True) == target
    assert batch[2][0].tolist().count(1) == 1 and batch[2][0][-1] == 0    # one </s>, padded with the pad id


def test_prefix_goes_before_every_source_as_it_is(tokenizer):
    ids, mask, _ = translation_features(tokenizer, 'the cat sees the book', 'la kato', 16, 8,
                                        prefix='translate English to Toy: ')
    assert ids[:int(mask.sum())].tolist() == tokenizer('translate English to Toy: the cat sees the book')['input_ids']


def test_mindrecord_tool_writes_the_dataset_rows_and_the_yaml_reads_them(toy, tmp_path):
    tool = load_script(TOOL, 'wmt16_to_mindrecord_for_tests')
    out = str(tmp_path / 'val.mindrecord')
    assert tool.main(['--dataset_dir', str(toy), '--stage', 'val', '--output_file', out, '--vocab_file',
                      str(toy / 'spiece.model'), '--src_max_length', '32', '--tgt_max_length', '24']) == 0
    from_text = list(TranslationDataset(dataset_config=section(toy)).create_tuple_iterator(output_numpy=True,
                                                                                           num_epochs=1))
    from_rows = TranslationDataset(dataset_config=section(toy, dataset_dir=out))
    assert (from_rows.record_length, from_rows.target_length) == (32, 24)
    for a, b in zip(from_text, from_rows.create_tuple_iterator(output_numpy=True, num_epochs=1)):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_mindrecord_tool_stops_on_an_empty_side_and_writes_nothing(tmp_path, toy):
    tool = load_script(TOOL, 'wmt16_to_mindrecord_for_error_tests')
    (tmp_path / 'train.source').write_text('a b\nc d\n', encoding='utf-8')
    (tmp_path / 'train.target').write_text('x\n\n', encoding='utf-8')
    out = tmp_path / 'bad.mindrecord'
    code = tool.run_cli('wmt16_to_mindrecord.py', tool.main, ['--dataset_dir', str(tmp_path), '--output_file',
                                                               str(out), '--vocab_file', str(toy / 'spiece.model')])
    assert code == 2 and not out.exists()


def test_input_columns_must_be_the_models_inputs(toy):
    config = dict(section(toy), input_columns=['input_ids', 'labels'])
    with pytest.raises(DatasetError, match=r"input_columns must be \['input_ids', 'attention_mask', 'labels'\]"):
        TranslationDataset(dataset_config=config)


def test_bleu_equals_nltk_corpus_bleu():
    nltk_bleu = pytest.importorskip('nltk.translate.bleu_score')
    predictions = ['the cat sat on the mat .', 'a dog ran in the park today', 'hello big wide world',
                   'one two three four five six']
    references = ['the cat sat on a mat.', 'the dog ran in the park', 'hello there world',
                  'one two three four five six seven']
    metric = BleuMetric()
    metric.update(predictions[:2], references[:2])
    metric.update(predictions[2:], references[2:])
    result = metric.eval()
    expected = nltk_bleu.corpus_bleu([[bleu_tokens(r)] for r in references], [bleu_tokens(p) for p in predictions])
    assert result['bleu'] == pytest.approx(100 * expected, abs=1e-9)
    assert result['brevity_penalty'] == 1.0 and result['count'] == 4


def test_bleu_perfect_short_and_no_match():
    metric = BleuMetric()
    metric.update(['la kato ruga vidas'], ['la kato ruga vidas'])
    assert metric.eval()['bleu'] == pytest.approx(100.0)
    metric.clear()
    metric.update(['la kato ruga'], ['la kato ruga vidas la domo'])    # exact but short: only the penalty
    assert metric.eval()['bleu'] == pytest.approx(0.0)                  # no 4-gram at all
    metric.clear()
    metric.update(['a b c d e f'], ['a b c d e f g h'])
    result = metric.eval()
    assert result['brevity_penalty'] == pytest.approx(np.exp(1 - 8 / 6))
    assert result['bleu'] == pytest.approx(100 * np.exp(1 - 8 / 6))
    with pytest.raises(ConfigError, match='takes decoded strings'):
        metric.update([[1, 2]], ['a'])


@pytest.fixture(name='tiny_t5', scope='module')
def fixture_tiny_t5(tokenizer):
    ms.set_seed(0)
    config = T5Config(vocab_size=len(tokenizer), hidden_size=32, d_kv=8, num_heads=4, d_ff=64, num_layers=1,
                      seq_length=32, max_decode_length=16, hidden_dropout_rate=0.0, attention_dropout_rate=0.0,
                      embedding_dropout_prob=0.0)
    model = T5ForConditionalGeneration(config)
    model.set_train(False)
    return model


def test_pipeline_returns_the_decoded_greedy_translations(tiny_t5, tokenizer):
    texts = ['translate English to Toy: the cat sees the book', 'translate English to Toy: the old dog']
    translator = pipeline('translation', model=tiny_t5, tokenizer=tokenizer, max_length=10)
    out = translator(texts, batch_size=2)
    expected = [tokenizer.decode(row.tolist(), skip_special_tokens=True) for row in
                tiny_t5.generate([tokenizer(t)['input_ids'] for t in texts], max_length=10, eos_token_id=1)]
    assert out == [{'translation_text': expected}]
    assert translator({'src_language': texts[0]}) == [{'translation_text': expected[:1]}]


def test_pipeline_refuses_a_decoder_only_model(tokenizer):
    from mindformers import GPT2Config, GPT2LMHeadModel  # pylint: disable=import-outside-toplevel
    model = GPT2LMHeadModel(GPT2Config(hidden_size=32, num_layers=1, num_heads=2, vocab_size=400, seq_length=16))
    with pytest.raises(ConfigError, match='TranslationPipeline needs an encoder-decoder model'):
        pipeline('translation', model=model, tokenizer=tokenizer)


def test_trainer_refuses_rows_longer_than_the_model(toy, tiny_t5):
    dataset = TranslationDataset(dataset_config=section(toy))
    assert (dataset.record_length, dataset.target_length) == (32, 24)
    dataset.target_length = 16
    TranslationTrainer._check_record_length(dataset, tiny_t5, 'train')   # 32 source tokens fit seq_length 32
    dataset.target_length = 24                                            # but 24 target tokens do not fit 16
    with pytest.raises(DatasetError, match=r"train target rows hold 24 tokens but the model's max_decode_length is "
                                           r"16; set the dataset's tokenizer.tgt_max_length to at most 16"):
        TranslationTrainer._check_record_length(dataset, tiny_t5, 'train')
