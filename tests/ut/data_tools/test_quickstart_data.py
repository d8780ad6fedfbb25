"""scripts/quickstart: the generated instruction data, its held-out test, and the tokenizer trained on it."""
import json
import random
import re

import pytest
import sentencepiece as spm

SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, "
          "detailed, and polite answers to the user's questions.")


def test_same_seed_same_files_byte_for_byte(make_data, tmp_path):
    for name in ('a', 'b', 'c'):
        seed = '1' if name == 'c' else '0'
        assert make_data.main(['--output_dir', str(tmp_path / name), '--num_samples', '300', '--seed', seed,
                               '--num_entities', '12']) == 0
    for file_name in ('train.json', 'heldout.json', 'corpus.txt'):
        assert (tmp_path / 'a' / file_name).read_bytes() == (tmp_path / 'b' / file_name).read_bytes()
    assert (tmp_path / 'a' / 'train.json').read_bytes() != (tmp_path / 'c' / 'train.json').read_bytes()


def test_alpaca_format_and_short_answers(quickstart):
    train = json.loads((quickstart['dir'] / 'train.json').read_text(encoding='utf-8'))
    heldout = json.loads((quickstart['dir'] / 'heldout.json').read_text(encoding='utf-8'))
    assert len(train) == 200
    assert all(sorted(item) == ['input', 'instruction', 'output'] for item in train)
    assert all(sorted(item) == ['input', 'instruction', 'output', 'prompt'] for item in heldout)
    assert all(1 <= len(item['output'].split()) <= 2 for item in train + heldout)
    assert any(item['input'] for item in train) and any(not item['input'] for item in train)


def test_heldout_questions_never_occur_in_training(quickstart):
    train = json.loads((quickstart['dir'] / 'train.json').read_text(encoding='utf-8'))
    heldout = json.loads((quickstart['dir'] / 'heldout.json').read_text(encoding='utf-8'))
    seen = {(item['instruction'], item['input']) for item in train}
    assert len(heldout) == 10 * 3
    assert not any((item['instruction'], item['input']) in seen for item in heldout)


def test_every_heldout_fact_is_taught_in_other_phrasings(quickstart, make_data):
    train = json.loads((quickstart['dir'] / 'train.json').read_text(encoding='utf-8'))
    heldout = json.loads((quickstart['dir'] / 'heldout.json').read_text(encoding='utf-8'))
    names = [name for name, _ in make_data.make_world(random.Random(0), 10)]  # the fixture's world (seed 0)
    for item in heldout:
        name, = [n for n in names if re.search(rf'\b{n}\b', item['instruction'] + ' ' + item['input'])]
        taught = [t for t in train if re.search(rf'\b{name}\b', t['instruction'] + ' ' + t['input'])
                  and t['output'] == item['output']]
        assert len({(t['instruction'], t['input']) for t in taught}) >= 2, item


def test_heldout_prompt_is_the_chat_template_ending_in_assistant(quickstart):
    heldout = json.loads((quickstart['dir'] / 'heldout.json').read_text(encoding='utf-8'))
    item = heldout[0]
    assert item['prompt'] == (f"{SYSTEM} USER: Below is an instruction that describes a task. Write a response that "
                              f"appropriately completes the request.\n\n### Instruction:\n{item['instruction']}\n\n"
                              f"### Response: ASSISTANT:")


def test_too_few_samples_for_the_facts_is_exit_2(make_data, tmp_path, capsys):
    assert make_data.main(['--output_dir', str(tmp_path), '--num_samples', '10']) == 2
    assert capsys.readouterr().err == ("make_data.py: error: --num_samples must be at least 360 so that every "
                                       "trained fact occurs (with 40 creatures), got 10\n")


def test_tokenizer_is_llama_style_and_deterministic(quickstart, train_tokenizer, tmp_path):
    again = train_tokenizer.train_tokenizer(str(quickstart['dir'] / 'corpus.txt'), str(tmp_path / 'again'), 400)
    with open(quickstart['model_file'], 'rb') as first, open(again, 'rb') as second:
        assert first.read() == second.read()
    sp_model = spm.SentencePieceProcessor(model_file=quickstart['model_file'])
    assert sp_model.get_piece_size() == 400
    assert [sp_model.id_to_piece(i) for i in range(4)] == ['<unk>', '<s>', '</s>', '<0x00>']
    assert (sp_model.unk_id(), sp_model.bos_id(), sp_model.eos_id(), sp_model.pad_id()) == (0, 1, 2, -1)
    # byte fallback: a character never seen in the corpus still round-trips
    assert sp_model.decode(sp_model.encode('zorb ☃')) == 'zorb ☃'


def test_tokenizer_cli_reports_a_too_large_vocabulary_in_one_line(quickstart, train_tokenizer, tmp_path, capsys):
    (tmp_path / 'small.txt').write_text('tiny corpus\n', encoding='utf-8')
    code = train_tokenizer.main(['--input', str(tmp_path / 'small.txt'), '--model_prefix', str(tmp_path / 't'),
                                 '--vocab_size', '5000'])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"train_tokenizer.py: error: --vocab_size 5000 is more than {tmp_path / 'small.txt'} "
                          f"can fill; use --vocab_size ")
    assert err.endswith(" or less, or a larger corpus\n") and err.count('\n') == 1
    assert train_tokenizer.main(['--input', str(tmp_path / 'none.txt'), '--model_prefix', 'x']) == 2
    assert capsys.readouterr().err == f"train_tokenizer.py: error: --input {tmp_path / 'none.txt'}: no such file\n"


@pytest.mark.parametrize('vocab_size', [1000])
def test_tokenizer_script_trains_the_quickstart_vocabulary(make_data, train_tokenizer, tmp_path, capsys, vocab_size):
    assert make_data.main(['--output_dir', str(tmp_path), '--num_samples', '3000', '--seed', '0']) == 0
    assert train_tokenizer.main(['--input', str(tmp_path / 'corpus.txt'), '--model_prefix', str(tmp_path / 'tokenizer'),
                                 '--vocab_size', str(vocab_size)]) == 0
    assert f"Trained a BPE tokenizer with {vocab_size} pieces." in capsys.readouterr().out
