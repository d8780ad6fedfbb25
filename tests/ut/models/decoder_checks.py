"""Checks every decoder family's unit tests share: non-trivial norms/biases, NumPy cross entropy, and
KV-cache generation against full recompute step by step."""
import numpy as np
from mindspore import Tensor

from mindformers.generation.text_generator import cache_bucket


def randomize_norms_and_biases(model, seed=0, scale=0.2):
    """Move norms and biases off their init values, so a dropped bias or a swapped norm changes the numbers."""
    rng = np.random.default_rng(seed)
    for param in model.get_parameters():
        if param.name.endswith(('.bias', 'norm.weight', 'norm_out.weight')):
            param.set_data(Tensor(param.asnumpy() + rng.normal(0, scale, param.shape).astype(np.float32)))
    return model


def masked_ce(logits, labels, mask):
    """sum(ce * mask) / (sum(mask) + 1e-5) over (batch, seq); logits (batch, seq, vocab)."""
    top = logits.max(-1, keepdims=True)
    log_z = np.log(np.exp(logits - top).sum(-1)) + top[..., 0]
    picked = np.take_along_axis(logits, np.maximum(labels, 0)[..., None], -1)[..., 0]
    return float(((log_z - picked) * mask).sum() / (mask.sum() + 1e-5))


def assert_cached_generation_matches_full(full, cached, prompts, max_length, min_steps):
    """Same ids, and the same processed logits at every step within 1e-5: full recompute (`use_past=False`), the
    model's own fixed-size KV cache (`cached`, built with use_past True), and the request-sized cache that
    `generate` uses by default on a model built without one (`full`, through its generation twin)."""
    kwargs = dict(max_length=max_length, do_sample=False, return_dict_in_generate=True, output_scores=True)
    want = full.generate(prompts, use_past=False, **kwargs)
    assert not full.__dict__.get('_generation_twins')     # use_past=False recomputes: no cache was built
    for got in (cached.generate(prompts, **kwargs), full.generate(prompts, **kwargs)):
        assert [s.tolist() for s in got['sequences']] == [s.tolist() for s in want['sequences']]
        assert len(got['scores']) == len(want['scores']) >= min_steps
        for step, (a, b) in enumerate(zip(want['scores'], got['scores'])):
            finite = np.isfinite(a)
            np.testing.assert_array_equal(finite, np.isfinite(b))
            np.testing.assert_allclose(b[finite], a[finite], rtol=0, atol=1e-5, err_msg=f"step {step}")
    bucket = cache_bucket(max_length, full.config.seq_length)
    assert list(full.__dict__['_generation_twins']) == [(len(prompts), bucket)]
