"""Predict under msrun: every rank generates and logs into its own folder; only rank 0 writes the result file."""
import ast
import os
import sys

from conftest import ROOT, write_yaml
from test_distributed_msrun import RUN, free_port, launch

sys.path.insert(0, os.path.join(ROOT, 'scripts', 'quickstart'))
from train_tokenizer import train_tokenizer  # noqa: E402  pylint: disable=wrong-import-position

VOCAB = 320
WORDS = "the cat sat on the mat and the dog ran to the park while a bird sang in the tall green tree".split()


def test_predict_on_two_workers_writes_result_once_from_rank_0(tmp_path):
    corpus = tmp_path / 'corpus.txt'
    corpus.write_text('\n'.join(' '.join(WORDS[(i + j) % len(WORDS)] for j in range(12)) for i in range(300)) + '\n')
    tokenizer = train_tokenizer(str(corpus), str(tmp_path / 'tokenizer'), vocab_size=VOCAB)
    config = write_yaml(tmp_path / 'p.yaml', vocab_size=VOCAB, seq_length=32, extra=f"""processor:
  tokenizer:
    type: LlamaTokenizer
    vocab_file: {tokenizer}
""")
    order = (f"{RUN} --config {config} --use_parallel True --run_mode predict --predict_data 'the cat sat on' "
             f"--model.model_config.max_decode_length 20")
    result = launch([order, 2, free_port(), 'output/msrun_log', 'True', 120], tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    outputs = ast.literal_eval((tmp_path / 'text_generation_result.txt').read_text())
    assert outputs[0]['text_generation_text'][0].startswith('the cat sat on')
    logs = [(tmp_path / 'output' / 'log' / f'rank_{rank}' / 'info.log').read_text() for rank in (0, 1)]
    for rank, log in enumerate(logs):
        assert f'rank {rank} of 2 started' in log and 'output result is:' in log
    assert 'output result is saved at' in logs[0]
    assert 'output result is saved at' not in logs[1]
