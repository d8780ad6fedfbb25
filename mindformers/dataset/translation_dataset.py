"""TranslationDataset: source/target sentence pairs -> T5 batches of `input_ids, attention_mask, labels`."""
import numpy as np

from mindformers.dataset.causal_language_model_dataset import (CausalLanguageModelDataset, _RECORD_LOADERS,
                                                               dataset_config_of)
from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.dataset.mindrecord_files import check_columns, is_mindrecord_path
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

__all__ = ['TranslationDataset', 'translation_tokenizer', 'translation_rows', 'translation_features']

COLUMNS = ['input_ids', 'attention_mask', 'labels']
# the tokenizer-section keys that describe the rows, not the tokenizer (upstream keeps them there)
_ROW_KEYS = {'src_max_length': 1024, 'tgt_max_length': 128, 'prefix': ''}


def _section(section, owner):
    if section is None:
        raise DatasetError(f"{owner}: the dataset section has no `tokenizer` (e.g. type: T5Tokenizer, vocab_file: "
                           f"spiece.model, src_max_length: 1024, tgt_max_length: 128, prefix: 'translate ...: ')")
    return dict(section.to_dict() if hasattr(section, 'to_dict') else section)


def translation_rows(section, owner='TranslationDataset'):
    """{src_max_length, tgt_max_length, prefix} of a dataset's `tokenizer:` section (upstream keeps them there;
    defaults 1024, 128, ''), checked."""
    section = _section(section, owner)
    rows = {key: section.get(key, default) for key, default in _ROW_KEYS.items()}
    for key in ('src_max_length', 'tgt_max_length'):
        if not isinstance(rows[key], int) or isinstance(rows[key], bool) or rows[key] < 2:
            raise DatasetError(f"{owner}: tokenizer.{key} must be an integer >= 2, got {rows[key]!r}")
    if not isinstance(rows['prefix'], str):
        raise DatasetError(f"{owner}: tokenizer.prefix must be a string, got {rows['prefix']!r}")
    return rows


def translation_tokenizer(section, owner='TranslationDataset'):
    """The tokenizer of a dataset's `tokenizer:` section: `type` is a tokenizer class (with its vocab_file) or, as
    upstream writes it, a model name (`t5_small`: the name's cached tokenizer files)."""
    from mindformers.models.build_tokenizer import build_tokenizer  # pylint: disable=import-outside-toplevel
    section = _section(section, owner)
    for key in list(_ROW_KEYS) + ['stage']:   # upstream also writes the loader's stage there, where it is unread
        section.pop(key, None)
    kind = section.get('type')
    if kind and not MindFormerRegister.is_exist(MindFormerModuleType.TOKENIZER, kind):
        from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
        section.pop('type')
        return AutoTokenizer.from_pretrained(kind, **section)
    return build_tokenizer(section)


def translation_features(tokenizer, source, target, src_max_length, tgt_max_length, prefix=''):
    """One pair -> (input_ids, attention_mask) of `prefix + source` padded to src_max_length, and the target ids
    (labels, with `</s>`) padded with the pad id to tgt_max_length; both cut to fit, as upstream's dataset does."""
    encoded = tokenizer(prefix + str(source), max_length=src_max_length, padding='max_length', truncation=True)
    labels = tokenizer(str(target), max_length=tgt_max_length, padding='max_length', truncation=True)['input_ids']
    return (np.asarray(encoded['input_ids'], np.int32), np.asarray(encoded['attention_mask'], np.int32),
            np.asarray(labels, np.int32))


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class TranslationDataset(CausalLanguageModelDataset):
    """The translation task's dataset (upstream name).

    With a text loader (`WMT16DataLoader`: `<stage>.source` / `<stage>.target`), every pair is tokenized by the
    section's `tokenizer` (`translation_features`); a MindDataset (the t5 wmt16_to_mindrecord.py tool), or a
    MindRecord file or folder given as the loader's `dataset_dir`, is read as prepared rows. Columns go to the
    model in `input_ids, attention_mask, labels` order (T5ForConditionalGeneration's arguments); batching,
    sharding and the int32 cast are CausalLanguageModelDataset's. `record_length` is the source length and
    `target_length` the target length, which the trainer checks against the model's seq_length and
    max_decode_length.
    """

    def __new__(cls, dataset_config=None, data_loader=None, input_columns=None, output_columns=None,
                batch_size=8, drop_remainder=True, tokenizer=None, **kwargs):
        config = dataset_config_of(dataset_config, data_loader=data_loader, input_columns=input_columns,
                                   output_columns=output_columns, batch_size=batch_size, drop_remainder=drop_remainder,
                                   tokenizer=tokenizer, **kwargs)
        columns = list(config.get('input_columns') or COLUMNS)
        if sorted(columns) != sorted(COLUMNS):
            raise DatasetError(f"TranslationDataset: input_columns must be {COLUMNS} (the model's inputs), got "
                               f"{columns}")
        config['input_columns'] = list(COLUMNS)
        dataset = super().__new__(cls, dataset_config=config)
        if dataset.record_files:
            dataset.target_length = len(check_columns(dataset.record_files[0], COLUMNS)['labels'])
        else:
            dataset.target_length = translation_rows(config.get('tokenizer'))['tgt_max_length']
        return dataset

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if loader_cfg.type not in _RECORD_LOADERS and is_mindrecord_path(loader_cfg.dataset_dir):
            # `--train_dataset_dir rows.mindrecord` with the WMT16 YAML: read the tool's rows instead of text
            loader_cfg = MindFormerConfig({'type': 'MindDataset', 'dataset_dir': loader_cfg.dataset_dir,
                                           'shuffle': (loader_cfg.stage or 'train') == 'train'})
        if loader_cfg.type in _RECORD_LOADERS:
            return super()._open_source(config, loader_cfg, input_columns, shard)
        tokenizer, rows = translation_tokenizer(config.tokenizer), translation_rows(config.tokenizer)
        args = loader_cfg.to_dict()
        args.setdefault('column_names', ['source', 'target'])
        args.update(shard)
        dataset = build_dataset_loader(args)

        def features(source, target):
            return translation_features(tokenizer, source, target, rows['src_max_length'], rows['tgt_max_length'],
                                        rows['prefix'])
        dataset = dataset.map(operations=features, input_columns=list(args['column_names']),
                              output_columns=list(input_columns))
        return dataset.project(list(input_columns)), rows['src_max_length']
