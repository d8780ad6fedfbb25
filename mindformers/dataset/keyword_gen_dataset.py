"""KeyWordGenDataset: ADGEN-style (prompt, answer) text -> GLM training rows (input_ids + shifted labels) or
evaluation rows (padded prompt + padded answer), tokenized on the fly; prepared MindRecords are read as they are."""
import numpy as np

from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset, _RECORD_LOADERS
from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.build_tokenizer import build_tokenizer
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['KeyWordGenDataset', 'glm2_train_row', 'glm2_eval_row']

IGNORE_INDEX = -100
# ADGenDataLoader settings a YAML may keep when it switches data_loader.type to MindDataset
_TEXT_LOADER_KEYS = ('phase', 'version', 'origin_columns')


def _as_str(value):
    return value.item() if isinstance(value, np.ndarray) else str(value)


def glm2_train_row(prompt, answer, tokenizer, max_source_length, max_target_length, ignore_pad_token_for_loss=True,
                   drop_first_answer_token=False):
    """One GLM2 fine-tuning row of `max_source_length + max_target_length + 1` ids (upstream's version 2).

    input_ids = [gMASK] sop <chat prompt> | answer | eos | pad...; labels[i] is the token after input i from the
    last prompt token on (so the answer's first token is learned too), eos ends it, the prompt and padding are pad
    (-100 with ignore_pad_token_for_loss). drop_first_answer_token=True gives upstream MindFormers' rows exactly:
    they leave out the target of the answer's first token (ChatGLM2-6B's '▁', which its pre-trained weights
    already predict), so a model trained from them alone never learns to start an answer.
    """
    prompt_ids = tokenizer.encode(tokenizer.build_prompt(prompt), add_special_tokens=True,
                                  max_length=max_source_length, truncation=True)
    answer_ids = tokenizer.encode(answer, add_special_tokens=False, max_length=max_target_length, truncation=True)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    max_seq_length = max_source_length + max_target_length + 1
    input_ids = prompt_ids + answer_ids + [eos]
    if drop_first_answer_token:
        labels = [pad] * len(prompt_ids) + answer_ids[1:] + [eos]
    else:
        labels = [pad] * (len(prompt_ids) - 1) + answer_ids + [eos]
    input_ids += [pad] * (max_seq_length - len(input_ids))
    labels += [pad] * (max_seq_length - len(labels))
    if ignore_pad_token_for_loss:
        labels = [IGNORE_INDEX if label == pad else label for label in labels]
    return np.array(input_ids, np.int32), np.array(labels, np.int32)


def glm2_eval_row(prompt, answer, tokenizer, max_source_length, max_target_length):
    """One GLM2 evaluation row: the chat prompt padded to max_source_length, the answer (with the GLM prefix,
    as upstream) padded to max_target_length; both right-padded with pad_token_id."""
    pad = tokenizer.pad_token_id
    # upstream cuts the texts by characters first, then the ids
    prompt = tokenizer.build_prompt(prompt)[:max_source_length - 1]
    answer = answer[:max_target_length - 1]
    input_ids = tokenizer.encode(prompt, add_special_tokens=True, max_length=max_source_length, truncation=True)
    label = tokenizer.encode(answer, add_special_tokens=True, max_length=max_target_length, truncation=True)
    input_ids += [pad] * (max_source_length - len(input_ids))
    label += [pad] * (max_target_length - len(label))
    return np.array(input_ids, np.int32), np.array(label, np.int32)


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class KeyWordGenDataset(CausalLanguageModelDataset):
    """The GLM families' keyword-to-text dataset (upstream name). With `data_loader.type: ADGenDataLoader` the
    (prompt, answer) texts are tokenized by the section's `tokenizer`: phase 'train' gives `input_ids, labels`
    of `max_source_length + max_target_length + 1` ids (`drop_first_answer_token: True` for upstream's exact
    labels, see glm2_train_row), phase 'eval' gives `input_ids` (max_source_length) and
    `labels` (max_target_length) for generation metrics. `data_loader.version: 2` is the ChatGLM2 layout;
    a MindDataset is read as prepared rows."""

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if loader_cfg.type in _RECORD_LOADERS:   # rows prepared beforehand: the text settings do not apply
            for key in _TEXT_LOADER_KEYS:
                loader_cfg.pop(key, None)
            return super()._open_source(config, loader_cfg, input_columns, shard)
        phase = loader_cfg.get('phase', 'train')
        version = int(loader_cfg.get('version') or 1)
        if version != 2:
            raise DatasetError(f"KeyWordGenDataset: data_loader.version {version} is GLM-6B's layout (2D position "
                               f"ids), which is not built yet; ChatGLM2 uses version: 2")
        tokenizer = config.tokenizer
        if tokenizer is None:
            raise DatasetError("KeyWordGenDataset: the dataset section has no `tokenizer` (e.g. type: "
                               "ChatGLM2Tokenizer, vocab_file: /path/to/tokenizer.model)")
        if not isinstance(tokenizer, PreTrainedTokenizer):
            tokenizer = build_tokenizer(tokenizer.to_dict() if hasattr(tokenizer, 'to_dict') else dict(tokenizer))
        lengths = {}
        for key in ('max_source_length', 'max_target_length'):
            value = config.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 2:
                raise DatasetError(f"KeyWordGenDataset: {key} must be an integer > 2, got {value!r}")
            lengths[key] = value
        options = {'ignore_pad_token_for_loss': config.get('ignore_pad_token_for_loss', True),
                   'drop_first_answer_token': bool(config.get('drop_first_answer_token', False))}
        wanted = ['input_ids', 'labels']
        if sorted(input_columns) != sorted(wanted):
            raise DatasetError(f"KeyWordGenDataset makes the columns {wanted}; input_columns is {input_columns}")
        args = loader_cfg.to_dict()
        args.update(shard)
        dataset = build_dataset_loader(args)

        if phase == 'train':
            def make_row(prompt, answer):
                return glm2_train_row(_as_str(prompt), _as_str(answer), tokenizer, **lengths, **options)
            record_length = lengths['max_source_length'] + lengths['max_target_length'] + 1
        else:
            def make_row(prompt, answer):
                return glm2_eval_row(_as_str(prompt), _as_str(answer), tokenizer, **lengths)
            record_length = None
        dataset = dataset.map(operations=make_row, input_columns=['prompt', 'answer'], output_columns=wanted)
        return dataset.project(input_columns), record_length
