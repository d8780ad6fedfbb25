"""KeyWordGenDataset: ADGEN-style (prompt, answer) text -> GLM training rows (input_ids + shifted labels) or
evaluation rows (padded prompt + padded answer), tokenized on the fly; prepared MindRecords are read as they are."""
import numpy as np

from mindformers.dataset.causal_language_model_dataset import (CausalLanguageModelDataset, _RECORD_LOADERS,
                                                               section_tokenizer)
from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['KeyWordGenDataset', 'glm_train_row', 'glm_eval_row', 'glm_position_ids_and_mask', 'glm2_train_row',
           'glm2_eval_row']

IGNORE_INDEX = -100
# ADGenDataLoader settings a YAML may keep when it switches data_loader.type to MindDataset
_TEXT_LOADER_KEYS = ('phase', 'version', 'origin_columns')


def _as_str(value):
    return value.item() if isinstance(value, np.ndarray) else str(value)


def glm_position_ids_and_mask(input_ids, bos_token_id, gmask_token_id, mask_token_id):
    """GLM-6B's 2D position ids (2, seq) and prefix-LM attention mask (1, seq, seq) of one row (float32, 1 where a
    query may not look), by the rule GLMModel applies to rows that come without them: the context ends at the first
    `<sop>`; positions count up to it and then stay at the mask token's index (`[gMASK]`, else `[MASK]`, searched in
    the context); block positions are 0 in the context and 1, 2, ... from `<sop>` on."""
    ids = list(input_ids)
    seq_length = len(ids)
    context = ids.index(bos_token_id) if bos_token_id in ids else 0
    prompt = ids[:context] if context else ids
    mask_token = gmask_token_id if gmask_token_id in prompt else mask_token_id
    mask_position = prompt.index(mask_token) if mask_token in prompt else 0
    position = np.arange(seq_length, dtype=np.int32)
    position[context:] = mask_position
    block = np.concatenate([np.zeros(context, np.int32), np.arange(1, seq_length - context + 1, dtype=np.int32)])
    allowed = np.tril(np.ones((seq_length, seq_length), np.float32))
    allowed[:, :context] = 1
    return np.stack([position, block]), (1.0 - allowed)[None]


def glm_train_row(prompt, answer, tokenizer, max_source_length, max_target_length, ignore_pad_token_for_loss=True):
    """One GLM-6B fine-tuning row (upstream's version 1): `input_ids` = prompt (<= max_source_length - 1 ids)
    [gMASK] <sop> answer (<= max_target_length - 2 ids) <eop> pad... of max_source_length + max_target_length + 1
    ids; `labels[i]` is the token after input i from `<sop>` on (-100 before, and for padding with
    ignore_pad_token_for_loss); `position_ids` (2, seq) and `attention_mask` (1, seq, seq) of
    glm_position_ids_and_mask."""
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)[:max_source_length - 1]
    answer_ids = tokenizer.encode(answer, add_special_tokens=False)[:max_target_length - 2]
    input_ids = tokenizer.build_inputs_with_special_tokens(prompt_ids, answer_ids)
    pad, bos = tokenizer.pad_token_id, tokenizer.bos_token_id
    context = input_ids.index(bos)
    labels = [IGNORE_INDEX] * context + input_ids[context + 1:]
    pad_len = max_source_length + max_target_length + 1 - len(input_ids)
    input_ids = input_ids + [pad] * pad_len
    labels = labels + [pad] * (pad_len + 1)
    if ignore_pad_token_for_loss:
        labels = [IGNORE_INDEX if label == pad else label for label in labels]
    position_ids, attention_mask = glm_position_ids_and_mask(input_ids, bos, tokenizer.gmask_token_id,
                                                             tokenizer.mask_token_id)
    return np.array(input_ids, np.int32), np.array(labels, np.int32), position_ids, attention_mask


def glm_eval_row(prompt, answer, tokenizer, max_source_length, max_target_length):
    """One GLM-6B evaluation row: prompt [gMASK] <sop> padded to max_source_length, answer [gMASK] <sop> padded to
    max_target_length (upstream cuts the texts to length - 2 characters; the ids are cut too, so that a row never
    exceeds its length)."""
    pad = tokenizer.pad_token_id

    def padded(text, length):
        ids = tokenizer.build_inputs_with_special_tokens(
            tokenizer.encode(text[:length - 2], add_special_tokens=False)[:length - 2])
        return np.array(ids + [pad] * (length - len(ids)), np.int32)
    return padded(prompt, max_source_length), padded(answer, max_target_length)


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
    of `max_source_length + max_target_length + 1` ids, phase 'eval' gives `input_ids` (max_source_length) and
    `labels` (max_target_length) for generation metrics. `data_loader.version` 1 (the default) is GLM-6B's layout
    (glm_train_row: train rows also carry `position_ids` and `attention_mask`, kept when input_columns names
    them), 2 ChatGLM2's (glm2_train_row; `drop_first_answer_token: True` for upstream's exact labels).
    A MindDataset is read as prepared rows."""

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if loader_cfg.type in _RECORD_LOADERS:   # rows prepared beforehand: the text settings do not apply
            for key in _TEXT_LOADER_KEYS:
                loader_cfg.pop(key, None)
            return super()._open_source(config, loader_cfg, input_columns, shard)
        phase = loader_cfg.get('phase', 'train')
        version = int(loader_cfg.get('version') or 1)
        if version not in (1, 2):
            raise DatasetError(f"KeyWordGenDataset: data_loader.version must be 1 (GLM-6B) or 2 (ChatGLM2), got "
                               f"{version}")
        tokenizer = section_tokenizer(config, 'KeyWordGenDataset',
                                      'type: ChatGLM2Tokenizer, vocab_file: /path/to/tokenizer.model')
        lengths = {}
        for key in ('max_source_length', 'max_target_length'):
            value = config.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 2:
                raise DatasetError(f"KeyWordGenDataset: {key} must be an integer > 2, got {value!r}")
            lengths[key] = value
        ignore_pad = config.get('ignore_pad_token_for_loss', True)
        if version == 2:
            options = {'ignore_pad_token_for_loss': ignore_pad,
                       'drop_first_answer_token': bool(config.get('drop_first_answer_token', False))}
            train_row, eval_row = glm2_train_row, glm2_eval_row
        else:
            options = {'ignore_pad_token_for_loss': ignore_pad}
            train_row, eval_row = glm_train_row, glm_eval_row
        made = ['input_ids', 'labels', 'position_ids', 'attention_mask'] if version == 1 and phase == 'train' \
            else ['input_ids', 'labels']
        if not {'input_ids', 'labels'} <= set(input_columns) <= set(made):
            raise DatasetError(f"KeyWordGenDataset (version {version}, phase {phase}) makes the columns {made}; "
                               f"input_columns {list(input_columns)} must include input_ids and labels and name "
                               f"no other column")
        args = loader_cfg.to_dict()
        args.update(shard)
        dataset = build_dataset_loader(args)

        if phase == 'train':
            def make_row(prompt, answer):
                return train_row(_as_str(prompt), _as_str(answer), tokenizer, **lengths, **options)
            record_length = lengths['max_source_length'] + lengths['max_target_length'] + 1
        else:
            def make_row(prompt, answer):
                return eval_row(_as_str(prompt), _as_str(answer), tokenizer, **lengths)
            record_length = None
        dataset = dataset.map(operations=make_row, input_columns=['prompt', 'answer'], output_columns=made)
        return dataset.project(input_columns), record_length
