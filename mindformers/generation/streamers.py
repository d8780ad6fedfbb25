"""Streamers: receive token ids from `generate` as they are produced and turn them into text."""
from queue import Queue

import numpy as np


class BaseStreamer:
    """`generate` calls put(prompt ids) first, then put(new tokens) once per step, then end()."""

    def put(self, value):
        raise NotImplementedError

    def end(self):
        raise NotImplementedError


def _is_cjk(char):
    code = ord(char)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF or
            0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF or
            0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def _ids(value):
    if hasattr(value, 'asnumpy'):
        value = value.asnumpy()
    return np.asarray(value).tolist()


class TextStreamer(BaseStreamer):
    """Prints text as it is generated.

    One row: token ids are accumulated and re-decoded; only text that can no longer change is printed:
    everything up to a newline (then the cache resets), everything when the last character is a CJK
    ideograph, otherwise up to the last space. Several rows: each step re-decodes every row and
    rewrites the line (carriage return). `end()` flushes the rest and ends the line.
    """

    def __init__(self, tokenizer=None, skip_prompt=False, skip_special_tokens=True, **decode_kwargs):
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = dict(decode_kwargs, skip_special_tokens=skip_special_tokens)
        self.token_cache = []
        self.print_len = 0
        self.next_tokens_are_prompt = True
        self.batch_cache = None

    def _decode(self, ids):
        return self.tokenizer.decode(ids, **self.decode_kwargs)

    def put(self, value):
        ids = _ids(value)
        if self.next_tokens_are_prompt:
            self.next_tokens_are_prompt = False
            if ids and isinstance(ids[0], list):        # a batch: one list of ids per row
                self.batch_cache = [[] if self.skip_prompt else list(row) for row in ids]
                if not self.skip_prompt:
                    self._print_batch()
                return
            if self.skip_prompt:
                return
        if self.batch_cache is not None:
            for row, token in zip(self.batch_cache, ids):
                row.append(token)
            self._print_batch()
            return
        self.token_cache.extend(ids if isinstance(ids, list) else [ids])
        text = self._decode(self.token_cache)
        if text.endswith('\n'):
            printable = text[self.print_len:]
            self.token_cache, self.print_len = [], 0
        elif text and _is_cjk(text[-1]):
            printable = text[self.print_len:]
            self.print_len += len(printable)
        else:
            printable = text[self.print_len:text.rfind(' ') + 1]
            self.print_len += len(printable)
        self.on_finalized_text(printable)

    def _print_batch(self):
        texts = [self._decode(row) for row in self.batch_cache]
        self.on_finalized_text('\r' + ' | '.join(texts), stream_end=False)

    def end(self):
        if self.batch_cache is not None:
            self.batch_cache = None
            self.on_finalized_text('', stream_end=True)
        else:
            text = self._decode(self.token_cache)[self.print_len:] if self.token_cache else ''
            self.token_cache, self.print_len = [], 0
            self.on_finalized_text(text, stream_end=True)
        self.next_tokens_are_prompt = True

    def on_finalized_text(self, text, stream_end=False):
        print(text, flush=True, end='' if not stream_end else None)


class TextIteratorStreamer(TextStreamer):
    """Puts text chunks into a queue for another thread: `for chunk in streamer: ...` until generation ends.

    `timeout` (seconds) bounds each wait for the next chunk (queue.Empty is raised on expiry).
    """

    def __init__(self, tokenizer=None, skip_prompt=False, timeout=None, **decode_kwargs):
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.text_queue = Queue()
        self.stop_signal = None
        self.timeout = timeout

    def on_finalized_text(self, text, stream_end=False):
        if text:
            self.text_queue.put(text, timeout=self.timeout)
        if stream_end:
            self.text_queue.put(self.stop_signal, timeout=self.timeout)

    def clear(self):
        while not self.text_queue.empty():
            self.text_queue.get()

    def __iter__(self):
        return self

    def __next__(self):
        value = self.text_queue.get(timeout=self.timeout)
        if value == self.stop_signal:
            raise StopIteration()
        return value
