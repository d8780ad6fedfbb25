"""KV-cache generation (use_past), the generate() API and streamers."""
import threading

import numpy as np
import pytest
import mindspore as ms

from mindformers import LlamaConfig, LlamaForCausalLM
from mindformers.generation import GenerationConfig, TextStreamer, TextIteratorStreamer
from mindformers.tools.errors import ConfigError

SIZES = dict(seq_length=96, hidden_size=64, num_layers=2, num_heads=4, n_kv_heads=2, vocab_size=120, multiple_of=16,
             compute_dtype='float32', param_init_type='float32', batch_size=3)
PROMPTS = [[5, 6, 7, 8, 9], [11, 12], [20, 21, 22, 23, 24, 25, 26, 27]]


@pytest.fixture(scope='module')
def models():
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(3)
    full = LlamaForCausalLM(LlamaConfig(use_past=False, **SIZES))
    cached = LlamaForCausalLM(LlamaConfig(use_past=True, **SIZES))
    ms.load_param_into_net(cached, {p.name: p for p in full.get_parameters()})
    return full, cached


@pytest.mark.parametrize('prompts', [PROMPTS[:1], PROMPTS], ids=['batch1', 'batch3'])
def test_use_past_gives_identical_greedy_tokens(models, prompts):
    full, cached = models
    expected = full.generate(prompts, max_new_tokens=64, do_sample=False, eos_token_id=[], use_past=False)
    got = cached.generate(prompts, max_new_tokens=64, do_sample=False, eos_token_id=[])
    longest = max(len(p) for p in prompts)
    assert [len(r) for r in got] == [longest + 64] * len(prompts)  # max_length = 64 + longest prompt
    for want, have, prompt in zip(expected, got, prompts):
        assert have[:len(prompt)].tolist() == prompt
        np.testing.assert_array_equal(have, want)


@pytest.mark.parametrize('prompts', [PROMPTS[:1], PROMPTS], ids=['batch1', 'batch3'])
def test_use_past_gives_the_per_step_logits_of_full_recompute_within_1e5(models, prompts):
    """Greedy ids can agree while the cache is subtly wrong (a RoPE position off by one): compare every step's
    scores."""
    full, cached = models
    kwargs = dict(max_new_tokens=24, do_sample=False, eos_token_id=[], return_dict_in_generate=True,
                  output_scores=True)
    want, got = full.generate(prompts, use_past=False, **kwargs), cached.generate(prompts, **kwargs)
    assert len(want['scores']) == len(got['scores']) >= 24   # a ragged batch steps until its shortest row is full
    for step, (a, b) in enumerate(zip(want['scores'], got['scores'])):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5, err_msg=f"step {step}")


def test_prefill_and_decode_compile_once_and_are_reused(models):
    _, cached = models
    cached.generate([[1, 2, 3]], max_new_tokens=5, do_sample=False)
    cached.generate([[4, 5, 6, 7, 8, 9, 10], [3]], max_new_tokens=9, do_sample=False)
    prefill, decode = cached._incremental_steps()  # pylint: disable=protected-access
    assert len(prefill.compile_cache) == 1 and len(decode.compile_cache) == 1


def test_a_model_without_a_cache_generates_through_request_sized_buckets_reused_across_calls():
    """use_past False: generate builds a twin with a cache of the request's rows and a power-of-two length
    (16, 32, ... capped at seq_length), sharing the model's weights; same bucket -> same twin, same graphs."""
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(4)
    model = LlamaForCausalLM(LlamaConfig(use_past=False, **SIZES))
    model.set_train(False)
    kwargs = dict(do_sample=False, eos_token_id=[])
    first = model.generate([[5, 6, 7]], max_new_tokens=10, **kwargs)            # 13 tokens -> bucket 16
    again = model.generate([[8, 9]], max_new_tokens=12, **kwargs)               # 14 tokens -> bucket 16
    twins = model.__dict__['_generation_twins']
    assert list(twins) == [(1, 16)]
    prefill, decode = twins[(1, 16)]._incremental_steps()  # pylint: disable=protected-access
    assert len(prefill.compile_cache) == 1 and len(decode.compile_cache) == 1
    longer = model.generate(PROMPTS[:2], max_new_tokens=20, **kwargs)           # 25 tokens, 2 rows -> (2, 32)
    assert list(twins) == [(1, 16), (2, 32)]
    for got, prompts, new in ((first, [[5, 6, 7]], 10), (again, [[8, 9]], 12), (longer, PROMPTS[:2], 20)):
        want = model.generate(prompts, max_new_tokens=new, use_past=False, **kwargs)
        assert [g.tolist() for g in got] == [w.tolist() for w in want]
    # the twin's weights are the model's own Parameters: changing the model changes what the twin generates
    twin = twins[(1, 16)]
    assert twin.lm_head.weight is model.lm_head.weight
    model.lm_head.weight.set_data(ms.Tensor(model.lm_head.weight.asnumpy()[::-1].copy()))
    np.testing.assert_array_equal(model.generate([[5, 6, 7]], max_new_tokens=10, **kwargs)[0],
                                  model.generate([[5, 6, 7]], max_new_tokens=10, use_past=False, **kwargs)[0])
    assert model.generate([[5, 6, 7]], max_new_tokens=10, **kwargs)[0].tolist() != first[0].tolist()


def test_batch_larger_than_cache_is_an_error(models):
    _, cached = models
    with pytest.raises(ConfigError, match='KV cache was built for batch_size 3'):
        cached.generate([[1]] * 4, max_new_tokens=2)


def test_sampling_with_cache_matches_sampling_without(models):
    full, cached = models
    kwargs = dict(max_new_tokens=20, do_sample=True, top_k=4, top_p=0.9, temperature=0.7, seed=11, eos_token_id=[])
    np.testing.assert_array_equal(full.generate(PROMPTS[:1], use_past=False, **kwargs)[0],
                                  cached.generate(PROMPTS[:1], **kwargs)[0])


def test_min_new_tokens_blocks_eos_and_dict_output_has_scores(models):
    _, cached = models
    plain = cached.generate(PROMPTS[:1], max_new_tokens=8, do_sample=False, eos_token_id=[])[0]
    eos = int(plain[len(PROMPTS[0])])  # make the first generated token the EOS
    assert len(cached.generate(PROMPTS[:1], max_new_tokens=8, do_sample=False, eos_token_id=eos)[0]) == 6
    out = cached.generate(PROMPTS[:1], max_new_tokens=8, do_sample=False, eos_token_id=eos, min_new_tokens=3,
                          return_dict_in_generate=True, output_scores=True)
    assert len(out.sequences[0]) > 6 + 1
    assert out.scores[0].shape == (1, SIZES['vocab_size']) and np.isneginf(out.scores[0][0, eos])


def test_generation_config_object_and_bad_inputs(models):
    full, cached = models
    config = GenerationConfig(max_length=12, do_sample=False, eos_token_id=[])
    assert len(cached.generate(PROMPTS[:1], generation_config=config)[0]) == 12
    with pytest.raises(ConfigError, match='max_length'):
        full.generate([list(range(1, 11))], max_length=10)
    with pytest.raises(ConfigError, match="seq_length is 96"):
        full.generate([list(range(1, 100))])
    with pytest.raises(ConfigError, match='top_p'):
        full.generate(PROMPTS[:1], do_sample=True, top_p=1.5)
    with pytest.raises(ConfigError, match='temperature'):
        full.generate(PROMPTS[:1], do_sample=True, temperature=0.0)
    with pytest.raises(ConfigError, match='streamer'):
        cached.generate(PROMPTS[:1], num_beams=2, streamer=TextStreamer(_WordTokenizer()))


class _WordTokenizer:
    """id i -> word 'w<i>' (or a CJK ideograph for ids >= 100); ids 0-2 are special tokens."""

    def decode(self, ids, skip_special_tokens=True, **kwargs):
        words = [('\u4e00' if i >= 100 else f'w{i}') for i in ids if not (skip_special_tokens and i < 3)]
        text = ''
        for word in words:
            text += word if word == '\u4e00' else (' ' + word if text else word)
        return text


def test_text_streamer_prints_the_final_decode(models, capsys):
    _, cached = models
    tokenizer = _WordTokenizer()
    out = cached.generate(PROMPTS[:1], max_new_tokens=12, do_sample=False, eos_token_id=[],
                          streamer=TextStreamer(tokenizer))
    printed = capsys.readouterr().out
    assert printed == tokenizer.decode(out[0].tolist()) + '\n'


def test_text_streamer_flushes_words_only_when_complete(capsys):
    chunks = []
    streamer = TextStreamer(_WordTokenizer(), skip_prompt=True)
    streamer.on_finalized_text = lambda text, stream_end=False: chunks.append(text)
    streamer.put(np.array([5]))
    for token in (10, 11, 100, 12):
        streamer.put(token)
    streamer.end()
    # 'w10' waits for the next word; a CJK ideograph is flushed at once; then text up to the last space;
    # end() flushes the rest
    assert chunks == ['', 'w10 ', 'w11\u4e00', ' ', 'w12']
    assert ''.join(chunks) == _WordTokenizer().decode([10, 11, 100, 12])


def test_iterator_streamer_yields_chunks_to_another_thread(models):
    _, cached = models
    tokenizer = _WordTokenizer()
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, timeout=60)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault('ids', cached.generate(
        PROMPTS[:1], max_new_tokens=10, do_sample=False, eos_token_id=[], streamer=streamer)))
    thread.start()
    text = ''.join(chunk for chunk in streamer)
    thread.join()
    assert text == tokenizer.decode(result['ids'][0][len(PROMPTS[0]):].tolist())


def _sequence_logprob(model, prompt, tokens):
    """Sum of log p(token) along `tokens` after `prompt`, by full forwards."""
    total, seq = 0.0, list(prompt)
    for token in tokens:
        logits = model._logits_at(np.array([seq + [0] * (model.config.seq_length - len(seq))], np.int32),
                                  np.array([len(seq)]))[0].astype(np.float64)  # pylint: disable=protected-access
        log_probs = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
        total += log_probs[token]
        seq.append(token)
    return total


def test_beam_search_with_a_beam_per_token_finds_the_best_two_token_continuation():
    ms.set_context(mode=ms.GRAPH_MODE, device_target='CPU')
    ms.set_seed(5)
    vocab = 12
    model = LlamaForCausalLM(LlamaConfig(seq_length=16, hidden_size=32, num_layers=1, num_heads=2, vocab_size=vocab,
                                         multiple_of=16, compute_dtype='float32', param_init_type='float32'))
    model.set_train(False)
    prompt = [3, 4, 5]
    # with num_beams == vocab every first token survives, so two steps of beam search are exhaustive
    beam = model.generate([prompt], max_new_tokens=2, num_beams=vocab, eos_token_id=[])[0][len(prompt):].tolist()
    best = max(((a, b) for a in range(vocab) for b in range(vocab)),
               key=lambda pair: _sequence_logprob(model, prompt, pair))
    assert tuple(beam) == best
    greedy = model.generate([prompt], max_new_tokens=4, do_sample=False, eos_token_id=[])[0][len(prompt):]
    beams4 = model.generate([prompt], max_new_tokens=4, num_beams=4, eos_token_id=[])[0][len(prompt):]
    assert _sequence_logprob(model, prompt, beams4.tolist()) >= _sequence_logprob(model, prompt, greedy.tolist()) - 1e-6
