"""generate() refuses ids outside the vocabulary with one line, before MindSpore's Gather fails on them."""
import mindspore as ms
import pytest

from mindformers import GPT2Config, GPT2LMHeadModel
from mindformers.tools.errors import ConfigError

pytestmark = pytest.mark.usefixtures("pynative")


def tiny(**ids):
    ms.set_seed(0)
    return GPT2LMHeadModel(GPT2Config(seq_length=16, vocab_size=64, hidden_size=32, num_layers=1, num_heads=4,
                                      compute_dtype='float32', **ids))


def test_default_gpt2_pad_id_outside_a_small_vocabulary_is_one_line():
    with pytest.raises(ConfigError, match=r"pad_token_id 50256 is outside the vocabulary \(vocab_size 64\)"):
        tiny().generate([[1, 2, 3]], max_length=8, do_sample=False)


def test_prompt_token_outside_the_vocabulary_is_one_line():
    model = tiny(pad_token_id=0, eos_token_id=63, bos_token_id=63)
    with pytest.raises(ConfigError, match=r"token id 70 is outside the vocabulary"):
        model.generate([[1, 70, 3]], max_length=8, do_sample=False)
    assert len(model.generate([[1, 2, 3]], max_length=8, do_sample=False, eos_token_id=[])[0]) == 8
