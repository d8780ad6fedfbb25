"""What every tokenizer over a sentencepiece model file shares: opening the file with one clear error,
pickling (dataset workers get a copy) and saving the model file next to the tokenizer config."""
import os
import shutil

import sentencepiece as spm

from mindformers.tools.errors import ConfigError

__all__ = ['load_sentencepiece', 'SentencePieceFileMixin']


def load_sentencepiece(vocab_file, sp_model_kwargs=None, owner='tokenizer'):
    """Open a sentencepiece model file; every way it can fail is one ConfigError naming the path."""
    if vocab_file is None:
        raise ConfigError(f"{owner}: vocab_file is required (the path of a sentencepiece tokenizer.model)")
    vocab_file = os.path.expanduser(str(vocab_file))
    if not os.path.isfile(vocab_file):
        raise ConfigError(f"{owner}: vocab_file not found: {vocab_file}")
    sp_model = spm.SentencePieceProcessor(**(sp_model_kwargs or {}))
    try:
        sp_model.Load(vocab_file)
    except (OSError, RuntimeError) as err:
        reason = ' '.join(str(err).split())
        raise ConfigError(f"{owner}: cannot read sentencepiece model {vocab_file}: {reason}") from None
    return sp_model


class SentencePieceFileMixin:
    """For tokenizers holding `self.sp_model` (loaded from `self.vocab_file`, with `self.sp_model_kwargs`).
    `vocab_size` is the model's piece count (tokenizers with ids beyond the pieces override it) and `get_vocab`
    maps every id's token, plus the added tokens."""

    @property
    def vocab_size(self):
        return self.sp_model.get_piece_size()

    def get_vocab(self):
        vocab = {self._convert_id_to_token(index): index for index in range(self.vocab_size)}
        vocab.update(self.added_tokens_encoder)
        return vocab

    # sentencepiece processors are rebuilt from their serialized model when pickled (dataset workers)
    def __getstate__(self):
        state = self.__dict__.copy()
        state['sp_model'] = None
        state['_sp_model_proto'] = self.sp_model.serialized_model_proto()
        return state

    def __setstate__(self, state):
        proto = state.pop('_sp_model_proto')
        self.__dict__.update(state)
        self.sp_model = spm.SentencePieceProcessor(**(getattr(self, 'sp_model_kwargs', None) or {}))
        self.sp_model.LoadFromSerializedProto(proto)

    def save_vocabulary(self, save_directory, filename_prefix=None):
        """Copy (or re-serialize) the sentencepiece model into `save_directory`; returns (path,)."""
        if not os.path.isdir(save_directory):
            raise ConfigError(f"save_vocabulary: {save_directory} is not a directory")
        name = (filename_prefix + '-' if filename_prefix else '') + self.vocab_files_names['vocab_file']
        out_file = os.path.join(save_directory, name)
        source = os.path.expanduser(str(self.vocab_file)) if self.vocab_file else None
        if source and os.path.isfile(source):
            if os.path.abspath(source) != os.path.abspath(out_file):
                shutil.copyfile(source, out_file)
        else:
            with open(out_file, 'wb') as stream:
                stream.write(self.sp_model.serialized_model_proto())
        return (out_file,)
