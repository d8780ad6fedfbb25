"""GeneratorMixin.generate: greedy and sampled decoding over a causal LM, one token per step.

The KV cache is used by default. A model built with `use_past: True` owns a fixed cache (its YAML's batch_size
x seq_length, as upstream); any other model generates through a *generation twin*: the same class built with
`use_past: True`, the request's batch and a cache length bucket (a power of two from 16, at least the request's
max_length, at most seq_length), whose weights are the model's own Parameter objects (nothing copied; training the
model changes the twin). Twins are kept per (batch, bucket), so their compiled prefill/decode graphs are reused
across calls. `generate(..., use_past=False)` recomputes the padded sequence every step instead.

Encoder-decoder models (`is_encoder_decoder`, T5) take the prompts as the encoder's input: it runs once (under
the cache it also fills every decoder layer's cross-attention cache), and the rows that grow are the decoder's,
starting at `decoder_start_token_id`; what is returned is those decoder rows.
"""
import collections
import copy
import time

import numpy as np
import mindspore as ms
from mindspore import jit, nn, Tensor
from mindspore.nn.utils import no_init_parameters

from mindformers.generation.generation_config import GenerationConfig
from mindformers.generation.logits_process import (FILTER_VALUE, LogitsProcessorList,
                                                   RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                                                   TopKLogitsWarper, TopPLogitsWarper, softmax)
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger


MIN_CACHE_BUCKET = 16
MAX_TWINS = 4      # generation twins kept per model (each holds its caches and compiled graphs)


def cache_bucket(length, seq_length):
    """The cache length for a request of `length` tokens: the smallest power of two >= length (from 16), capped
    at the model's seq_length."""
    bucket = MIN_CACHE_BUCKET
    while bucket < length:
        bucket *= 2
    return min(bucket, int(seq_length))


class GeneratorMixin:
    """Mixed into causal LMs. The model must accept (batch, seq_length) int32 ids in eval mode and
    return logits (batch, seq, vocab) as its first output.

    Prompts are right-padded to `config.seq_length` so one compiled graph serves every step: with a
    causal mask the padding after a row's last real token cannot change that token's logits.
    """

    # the config field that bounds the generated rows (T5: max_decode_length, the decoder's length)
    generation_length_field = 'seq_length'
    is_encoder_decoder = False

    def _logits_at(self, padded_ids, valid_lengths, encoder_input=None):
        """Next-token logits after each row's last real token, recomputing the padded rows; `encoder_input` (ids, mask)
        is the encoder input of an encoder-decoder model."""
        if encoder_input is None:
            output = self(Tensor(padded_ids, ms.int32))
        else:
            output = self.seq2seq_logits(Tensor(encoder_input[0], ms.int32), Tensor(encoder_input[1], ms.int32),
                                         Tensor(padded_ids, ms.int32))
        logits = output[0] if isinstance(output, (tuple, list)) else output
        logits = logits.asnumpy().astype(np.float32)
        return logits[np.arange(len(valid_lengths)), valid_lengths - 1]

    def _build_processors(self, cfg):
        processors = LogitsProcessorList()
        if cfg.repetition_penalty is not None and cfg.repetition_penalty != 1.0:
            processors.append(RepetitionPenaltyLogitsProcessor(cfg.repetition_penalty))
        warpers = LogitsProcessorList()
        if cfg.do_sample:
            if cfg.temperature is not None and cfg.temperature != 1.0:
                warpers.append(TemperatureLogitsWarper(cfg.temperature))
            if cfg.top_k:
                warpers.append(TopKLogitsWarper(cfg.top_k, filter_value=FILTER_VALUE))
            if cfg.top_p is not None and cfg.top_p < 1.0:
                warpers.append(TopPLogitsWarper(cfg.top_p, filter_value=FILTER_VALUE, candidate_token_num=None))
            elif cfg.top_p is not None and not 0 < cfg.top_p <= 1:
                raise ConfigError(f"top_p must be in (0, 1], got {cfg.top_p}")
        return processors, warpers

    # families whose incremental path cannot serve generation set this False (generate then recomputes)
    kv_cache_generation = True

    def _generation_twin(self, batch, length):
        """This model with a KV cache of `batch` rows x `length` slots, sharing this model's weights."""
        twins = self.__dict__.setdefault('_generation_twins', collections.OrderedDict())
        key = (int(batch), int(length))
        twin = twins.get(key)
        if twin is None:
            config = copy.deepcopy(self.config)
            config.use_past, config.batch_size = True, int(batch)
            setattr(config, self.generation_length_field, int(length))
            config.checkpoint_name_or_path = ''
            with no_init_parameters():     # the weights come from this model: allocate only the caches
                twin = type(self)(config)
            own = {param.name: param for param in self.get_parameters()}
            for _, cell in twin.cells_and_names():
                for attr, param in list(cell._params.items()):     # pylint: disable=protected-access
                    if param.name in own:
                        cell._params[attr] = own[param.name]       # pylint: disable=protected-access
                    elif not param.requires_grad:      # state of the incremental path: KV caches, ...
                        if param.has_init:
                            param.init_data()
                    else:
                        raise ConfigError(f"generate: {type(self).__name__} with a KV cache has parameter "
                                          f"{param.name}, which the model has not; pass use_past=False")
            twin.set_train(False)
            twins[key] = twin
            logger.info("generate: KV cache of %d rows x %d positions (request-sized bucket)", batch, length)
            while len(twins) > MAX_TWINS:
                twins.popitem(last=False)
        twins.move_to_end(key)
        return twin

    def _incremental_steps(self):
        """The prefill and decode cells (compiled once per batch shape, then reused by every call)."""
        steps = self.__dict__.get('_incremental_step_cells')
        if steps is None:
            steps = (_PrefillStep(self), _DecodeStep(self))
            self.__dict__['_incremental_step_cells'] = steps  # plain attribute: not a child cell of the model
        return steps

    def _source_step(self):
        """The compiled encoder run of an encoder-decoder model that fills the cross-attention caches."""
        step = self.__dict__.get('_source_step_cell')
        if step is None:
            step = self.__dict__['_source_step_cell'] = _SourceStep(self)
        return step

    def _source_arrays(self, rows, pad_id):
        """Encoder input (ids, mask) of an encoder-decoder model: the prompts right-padded to seq_length."""
        length = int(self.config.seq_length)
        ids = np.full((len(rows), length), pad_id, dtype=np.int32)
        mask = np.zeros((len(rows), length), dtype=np.int32)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1
        return ids, mask

    def generate(self, input_ids, generation_config=None, streamer=None, seed=None, **kwargs):
        """Return a list of 1-D int32 arrays: each row's prompt followed by its generated tokens.

        The prompt is run once (prefill) and each new token reads the KV cache (decode): the model's own cache
        with `use_past: True` in its config, else a request-sized one (see the module docstring). With
        `use_past=False` (or beam search) every step re-runs the padded sequence.
        """
        cfg = copy.deepcopy(generation_config) if generation_config is not None else \
            GenerationConfig.from_model_config(self.config)
        unused = cfg.update(**kwargs)
        if unused:
            logger.debug("generate: ignoring model kwargs %s", sorted(unused))
        if cfg.num_beams and cfg.num_beams > 1 and streamer is not None:
            raise ConfigError("generate: a streamer cannot be used with beam search (num_beams > 1)")
        rng = np.random.default_rng(0 if seed is None else seed)
        pad_id = 0 if cfg.pad_token_id is None else int(cfg.pad_token_id)
        eos_ids = set(int(e) for e in cfg.eos_token_id)

        # upstream contract: rows may come right-padded; a row's valid length ends at its last non-pad token
        rows = [strip_trailing_pad(row, pad_id) for row in _as_rows(input_ids)]
        vocab_size = getattr(self.config, 'vocab_size', None)
        if vocab_size:
            if not 0 <= pad_id < int(vocab_size):
                raise ConfigError(f"generate: pad_token_id {pad_id} is outside the vocabulary (vocab_size "
                                  f"{vocab_size}); set model_config.pad_token_id (or pass pad_token_id=)")
            outside = [int(t) for r in rows for t in r if not 0 <= int(t) < int(vocab_size)]
            if outside:
                raise ConfigError(f"generate: token id {outside[0]} is outside the vocabulary (vocab_size "
                                  f"{vocab_size}); the tokenizer does not match the model")
        seq_length = int(self.config.seq_length)
        valid = np.array([len(r) for r in rows], dtype=np.int64)
        if valid.min() < 1:
            raise ConfigError("generate: every prompt needs at least one token")
        if valid.max() > seq_length:
            raise ConfigError(f"generate: a prompt has {valid.max()} tokens but the model's seq_length is "
                              f"{seq_length}")
        encoder_input = None
        if self.is_encoder_decoder:   # the prompts feed the encoder; the decoder rows start from one token
            encoder_input = self._source_arrays(rows, pad_id)
            start_id = getattr(self.config, 'decoder_start_token_id', None)
            rows = [[pad_id if start_id is None else int(start_id)] for _ in rows]
            valid = np.ones(len(rows), dtype=np.int64)
            seq_length = int(getattr(self.config, self.generation_length_field))
        max_length = cfg.max_length
        if cfg.max_new_tokens is not None:
            max_length = int(cfg.max_new_tokens) + int(valid.max())
        max_length = min(int(max_length), seq_length)
        if hasattr(self, 'check_prompts'):   # a family's prompt layout rules (GLM: '[gMASK] <sop>')
            self.check_prompts(rows, max_length)
        if valid.max() >= max_length:
            raise ConfigError(f"generate: max_length {max_length} must be larger than the longest prompt "
                              f"({valid.max()} tokens)")
        min_length = int(cfg.min_length or 0)
        processors, warpers = self._build_processors(cfg)

        if cfg.num_beams and cfg.num_beams > 1:
            return self._beam_search(rows, cfg, max_length, pad_id, eos_ids, processors, encoder_input)
        use_past = cfg.use_past is not False and self.kv_cache_generation and hasattr(self, 'decode_next_logits')
        batch = len(rows)
        rows_total = batch
        step_model = self
        if use_past and not getattr(self.config, 'use_past', False):
            seq_length = cache_bucket(max_length, seq_length)
            step_model = self._generation_twin(batch, seq_length)
        elif use_past:
            cache_batch = int(self.config.batch_size)
            if batch > cache_batch:
                raise ConfigError(f"generate: {batch} prompts but the KV cache was built for batch_size "
                                  f"{cache_batch}; set model.model_config.batch_size >= {batch} or pass fewer "
                                  f"prompts")
            rows = rows + [[pad_id]] * (cache_batch - batch)   # idle rows fill the fixed-size cache
            valid = np.concatenate([valid, np.ones(cache_batch - batch, np.int64)])
            rows_total = cache_batch
            if encoder_input is not None:
                encoder_input = tuple(np.concatenate([part, np.repeat(part[:1], cache_batch - batch, 0)])
                                      for part in encoder_input)
        padded = np.full((rows_total, seq_length), pad_id, dtype=np.int32)
        for i, row in enumerate(rows):
            padded[i, :len(row)] = row
        finished = np.zeros(rows_total, dtype=bool)
        finished[batch:] = True
        min_new = [int(valid[i]) + int(cfg.min_new_tokens or 0) for i in range(rows_total)]
        if streamer is not None:
            streamer.put(np.array(rows[0], np.int32) if batch == 1 else [list(r) for r in rows[:batch]])

        was_training = self.training
        self.set_train(False)
        start, new_tokens, scores = time.time(), 0, []
        prefill, decode = step_model._incremental_steps() if use_past else (None, None)  # pylint: disable=W0212
        if use_past and encoder_input is not None:
            step_model._source_step()(Tensor(encoder_input[0]), Tensor(encoder_input[1]))  # pylint: disable=W0212
        first = True
        while not finished[:batch].all():  # a row finishes at EOS or at max_length, each on its own
            if not use_past:
                logits = self._logits_at(padded, valid, encoder_input)
            elif first:
                logits = prefill(Tensor(padded), Tensor(valid.astype(np.int32))).asnumpy()
            else:
                position = np.minimum(valid - 1, seq_length - 1).astype(np.int32)
                last = padded[np.arange(rows_total), position][:, None]
                logits = decode(Tensor(last), Tensor(position)).asnumpy()
            first = False
            history = [padded[i, :valid[i]] for i in range(rows_total)]
            logits = processors(history, logits)
            if eos_ids:
                for i in range(rows_total):
                    if valid[i] < max(min_length, min_new[i]):
                        logits[i, list(eos_ids)] = -np.inf
            if cfg.output_scores:
                scores.append(logits[:batch].copy())
            if cfg.do_sample:  # only the caller's rows draw random numbers: idle cache rows must not
                logits = warpers(history[:batch], logits[:batch])
                probs = softmax(logits.astype(np.float64))
                next_tokens = np.array([rng.choice(len(p), p=p / p.sum()) for p in probs])
            else:
                next_tokens = np.argmax(logits[:batch], axis=-1)
            step_tokens = []
            for i in range(batch):
                if finished[i]:
                    step_tokens.append(pad_id)
                    continue
                token = int(next_tokens[i])
                padded[i, valid[i]] = token
                valid[i] += 1
                new_tokens += 1
                step_tokens.append(token)
                if token in eos_ids or valid[i] >= max_length:
                    finished[i] = True
            if streamer is not None:
                streamer.put(step_tokens[0] if batch == 1 else step_tokens)
        self.set_train(was_training)
        if streamer is not None:
            streamer.end()
        elapsed = time.time() - start
        logger.info("total time: %.3f s; generated tokens: %d tokens; generate speed: %.2f tokens/s",
                    elapsed, new_tokens, new_tokens / elapsed if elapsed > 0 else 0.0)
        sequences = [padded[i, :valid[i]].copy() for i in range(batch)]
        if cfg.return_dict_in_generate:
            return GenerateOutput(sequences=sequences, scores=scores if cfg.output_scores else None)
        return sequences


    def _beam_search(self, rows, cfg, max_length, pad_id, eos_ids, processors, encoder_input=None):
        """Keep the `num_beams` best partial sequences per prompt by summed log-probability; a beam that
        emits EOS becomes a finished hypothesis scored sum_logprobs / new_tokens ** length_penalty.
        Each step re-runs the padded beams (the KV cache is not reordered between beams)."""
        beams = int(cfg.num_beams)
        length_penalty = float(getattr(cfg, 'length_penalty', 1.0) or 1.0)
        seq_length = int(getattr(self.config, self.generation_length_field))
        if encoder_input is not None:      # every beam of a prompt reads that prompt's encoder input
            encoder_input = tuple(np.repeat(part, beams, 0) for part in encoder_input)
        batch = len(rows)
        prompt_len = np.array([len(r) for r in rows])
        padded = np.full((batch * beams, seq_length), pad_id, dtype=np.int32)
        valid = np.repeat(prompt_len, beams).astype(np.int64)
        for i, row in enumerate(rows):
            padded[i * beams:(i + 1) * beams, :len(row)] = row
        beam_scores = np.full((batch, beams), -np.inf)
        beam_scores[:, 0] = 0.0  # all beams start identical: let only the first one expand at step one
        finished = [[] for _ in range(batch)]    # (score, sequence)
        done = np.zeros(batch, dtype=bool)
        was_training = self.training
        self.set_train(False)
        start = time.time()
        while not done.all() and valid.max() < max_length:
            logits = self._logits_at(padded, valid, encoder_input)
            history = [padded[r, :valid[r]] for r in range(batch * beams)]
            logits = processors(history, logits).astype(np.float64)
            log_probs = logits - logits.max(-1, keepdims=True)
            log_probs = log_probs - np.log(np.exp(log_probs).sum(-1, keepdims=True))
            vocab = log_probs.shape[-1]
            totals = (beam_scores.reshape(-1, 1) + log_probs).reshape(batch, beams * vocab)
            new_padded, new_valid, new_scores = padded.copy(), valid.copy(), beam_scores.copy()
            for i in range(batch):
                if done[i]:
                    continue
                order = np.argsort(-totals[i], kind='stable')[:2 * beams]
                kept = 0
                for rank, flat in enumerate(order):
                    source, token = divmod(int(flat), vocab)
                    row = i * beams + source
                    score = totals[i, flat]
                    if not np.isfinite(score):
                        break
                    if token in eos_ids:
                        if rank < beams:
                            seq = np.append(padded[row, :valid[row]], token)
                            finished[i].append((score / max(len(seq) - prompt_len[i], 1) ** length_penalty, seq))
                        continue
                    target = i * beams + kept
                    new_padded[target] = padded[row]
                    new_padded[target, valid[row]] = token
                    new_valid[target] = valid[row] + 1
                    new_scores[i, kept] = score
                    kept += 1
                    if kept == beams:
                        break
                finished[i].sort(key=lambda item: -item[0])
                finished[i] = finished[i][:beams]
                if len(finished[i]) == beams:
                    generated = new_valid[i * beams] - prompt_len[i]
                    best_running = new_scores[i].max() / max(generated, 1) ** length_penalty
                    done[i] = finished[i][-1][0] >= best_running
            padded, valid, beam_scores = new_padded, new_valid, new_scores
        self.set_train(was_training)
        results = []
        for i in range(batch):
            candidates = list(finished[i])
            if not done[i]:
                for b in range(beams):
                    row = i * beams + b
                    if np.isfinite(beam_scores[i, b]):
                        generated = valid[row] - prompt_len[i]
                        candidates.append((beam_scores[i, b] / max(generated, 1) ** length_penalty,
                                           padded[row, :valid[row]].copy()))
            results.append(max(candidates, key=lambda item: item[0])[1].astype(np.int32))
        logger.info("beam search (num_beams=%d): total time: %.3f s", beams, time.time() - start)
        if cfg.return_dict_in_generate:
            return GenerateOutput(sequences=results, scores=None)
        return results


    def chat(self, tokenizer, query, history=None, system_role_name="system", user_role_name="user",
             assistant_role_name="assistant", instruction="", max_length=512, max_new_tokens=None, min_length=0,
             min_new_tokens=None, do_sample=True, temperature=1.0, top_k=50, top_p=1.0, repetition_penalty=1.0):
        """One chat turn through the tokenizer's chat template. `history` is a list of (query, response)
        pairs (or of {'role', 'content'} messages); returns (response, history with this turn added)."""
        messages = [{'role': system_role_name, 'content': instruction}] if instruction else []
        for turn in history or []:
            if isinstance(turn, dict):
                messages.append(turn)
            else:
                messages += [{'role': user_role_name, 'content': turn[0]},
                             {'role': assistant_role_name, 'content': turn[1]}]
        messages.append({'role': user_role_name, 'content': query})
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
        output = self.generate([prompt], max_length=max_length, max_new_tokens=max_new_tokens,
                               min_length=min_length, min_new_tokens=min_new_tokens, do_sample=do_sample,
                               temperature=temperature, top_k=top_k, top_p=top_p,
                               repetition_penalty=repetition_penalty)[0]
        response = tokenizer.decode(output[len(prompt):].tolist(), skip_special_tokens=True).strip()
        return response, list(history or []) + [(query, response)]


class GenerateOutput(dict):
    """`return_dict_in_generate=True` result: `sequences` (prompt + new tokens per row) and `scores`
    (one (batch, vocab) array of processed logits per step when `output_scores=True`)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as err:
            raise AttributeError(key) from err


class _PrefillStep(nn.Cell):
    """Compiled (jit) in PYNATIVE mode too: one graph per cache shape, instead of one kernel launch per operator
    per token (SmolLM2-135M decode: 0.4 tok/s eager, GRAPH speed under jit)."""

    def __init__(self, model):
        super().__init__(auto_prefix=False)
        self.model = model

    @jit
    def construct(self, input_ids, batch_valid_length):
        return self.model.prefill_next_logits(input_ids, batch_valid_length)


class _DecodeStep(nn.Cell):
    def __init__(self, model):
        super().__init__(auto_prefix=False)
        self.model = model

    @jit
    def construct(self, input_ids, position):
        return self.model.decode_next_logits(input_ids, position)


class _SourceStep(nn.Cell):
    def __init__(self, model):
        super().__init__(auto_prefix=False)
        self.model = model

    @jit
    def construct(self, source_ids, source_mask):
        return self.model.fill_source_cache(source_ids, source_mask)


def _as_rows(input_ids):
    if isinstance(input_ids, Tensor):
        input_ids = input_ids.asnumpy()
    if isinstance(input_ids, np.ndarray):
        input_ids = input_ids.tolist()
    if not input_ids:
        raise ConfigError("generate: input_ids is empty")
    if isinstance(input_ids[0], (int, np.integer)):
        input_ids = [input_ids]
    return [[int(t) for t in row] for row in input_ids]


def strip_trailing_pad(row, pad_id):
    end = len(row)
    while end > 1 and row[end - 1] == pad_id:
        end -= 1
    return row[:end]
