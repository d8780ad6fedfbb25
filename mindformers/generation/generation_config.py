"""GenerationConfig: decoding settings, defaulting from the model config."""
import copy

_FIELDS = {
    'max_length': 20, 'max_new_tokens': None, 'min_length': 0, 'min_new_tokens': None, 'num_beams': 1,
    'do_sample': False, 'use_past': None, 'temperature': 1.0, 'top_k': 50, 'top_p': 1.0,
    'repetition_penalty': 1.0, 'length_penalty': 1.0, 'pad_token_id': None, 'bos_token_id': None, 'eos_token_id': [],
    'return_dict_in_generate': False, 'output_scores': False,
}


class GenerationConfig:
    """Holds decoding settings; `max_decode_length` is accepted as an alias of `max_length`.

    `use_past`: None (default) or True generate with a KV cache, False recomputes every step. It is not taken
    from the model config, whose `use_past` says whether the model owns a fixed-size cache (training YAMLs say
    False there, which does not mean "generate without a cache")."""

    def __init__(self, **kwargs):
        if 'max_decode_length' in kwargs and 'max_length' not in kwargs:
            kwargs['max_length'] = kwargs.pop('max_decode_length')
        kwargs.pop('max_decode_length', None)
        for key, default in _FIELDS.items():
            setattr(self, key, copy.deepcopy(kwargs.pop(key, default)))
        eos = self.eos_token_id
        self.eos_token_id = [] if eos is None else ([eos] if isinstance(eos, int) else list(eos))
        self._extra = kwargs

    @classmethod
    def from_model_config(cls, model_config):
        values = {key: getattr(model_config, key) for key in list(_FIELDS) + ['max_decode_length']
                  if key != 'use_past' and getattr(model_config, key, None) is not None}
        return cls(**values)

    def update(self, **kwargs):
        """Set known fields; return the kwargs that are not generation settings."""
        if 'max_decode_length' in kwargs:
            kwargs['max_length'] = kwargs.pop('max_decode_length')
        unused = {}
        for key, value in kwargs.items():
            if key in _FIELDS:
                if key == 'eos_token_id':
                    value = [] if value is None else ([value] if isinstance(value, int) else list(value))
                setattr(self, key, value)
            else:
                unused[key] = value
        return unused

    def to_dict(self):
        return {key: getattr(self, key) for key in _FIELDS}
