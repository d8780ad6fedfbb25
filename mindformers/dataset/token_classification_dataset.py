"""TokenClassificationDataset: texts with one label per character -> BERT token classification batches."""
from mindformers.dataset.causal_language_model_dataset import (CausalLanguageModelDataset, _RECORD_LOADERS,
                                                               dataset_config_of, section_tokenizer)
from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.dataset.labels import cluener_labels
from mindformers.dataset.transforms import build_transforms
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['TokenClassificationDataset', 'model_column_order']

# the positional order of BertForTokenClassification.construct(input_ids, input_mask, token_type_ids, label_ids),
# with the names each role goes by in upstream YAMLs and data tools
_ROLES = (('input_ids',), ('attention_mask', 'input_mask'), ('token_type_ids', 'token_type_id', 'segment_ids'),
          ('label_id', 'label_ids', 'labels'))
_DEFAULT_OUTPUT = ['input_ids', 'token_type_ids', 'attention_mask', 'label_id']


def model_column_order(columns):
    """`columns` sorted into the model's argument order (ids, mask, token types, labels); names are kept."""
    def role(name):
        for index, names in enumerate(_ROLES):
            if name in names:
                return index
        raise DatasetError(f"TokenClassificationDataset: column '{name}' is none of the model's inputs "
                           f"{[names[0] for names in _ROLES]} (or their other names {[n[1:] for n in _ROLES]})")
    roles = [role(name) for name in columns]
    if len(set(roles)) != len(roles):
        raise DatasetError(f"TokenClassificationDataset: columns {list(columns)} name one model input twice")
    return [name for _, name in sorted(zip(roles, columns))]


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class TokenClassificationDataset(CausalLanguageModelDataset):
    """The token_classification task's dataset (upstream name).

    With a text loader (`CLUENERDataLoader`, columns `text, label_id`), every row is tokenized by the section's
    `tokenizer` through `text_transforms` (TokenizeWithLabel: one token per character, [CLS] ... [SEP], padded to
    max_length) and its labels aligned by `label_transforms` (LabelPadding), giving `output_columns`. A MindDataset
    (the bert tokcls_dataset_to_mindrecord.py tool) is read as prepared rows.

    Columns reach the model positionally, so they are fed in BertForTokenClassification's argument order
    (input_ids, mask, token types, labels) whatever order the YAML lists them in (upstream's YAMLs list the token
    types before the mask).
    """

    def __new__(cls, dataset_config=None, data_loader=None, input_columns=None, output_columns=None,
                batch_size=8, drop_remainder=True, tokenizer=None, text_transforms=None, label_transforms=None,
                **kwargs):
        config = dataset_config_of(dataset_config, data_loader=data_loader, input_columns=input_columns,
                                   output_columns=output_columns, batch_size=batch_size, drop_remainder=drop_remainder,
                                   tokenizer=tokenizer, text_transforms=text_transforms,
                                   label_transforms=label_transforms, **kwargs)
        if config.get('data_loader') is None:
            raise DatasetError("dataset config has no data_loader section")
        loader_type = dict(config['data_loader']).get('type')
        if loader_type in _RECORD_LOADERS:
            columns = list(config.get('input_columns') or ['input_ids', 'input_mask', 'segment_ids', 'label_ids'])
        else:
            config['source_columns'] = list(config.get('input_columns') or ['text', 'label_id'])
            columns = list(config.get('output_columns') or config.get('column_order') or _DEFAULT_OUTPUT)
            if len(columns) != 4:
                raise DatasetError(f"TokenClassificationDataset: output_columns must name the 4 columns TokenizeWith"
                                   f"Label makes ({_DEFAULT_OUTPUT}), got {columns}")
            config['made_columns'] = columns
        config['input_columns'] = model_column_order(columns)
        dataset = super().__new__(cls, dataset_config=config)
        if loader_type not in _RECORD_LOADERS:
            dataset.label_count = len(cluener_labels)   # CLUENERDataLoader tags with CLUENER's BIOS labels
        return dataset

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if loader_cfg.type in _RECORD_LOADERS:
            return super()._open_source(config, loader_cfg, input_columns, shard)
        tokenizer = section_tokenizer(config, 'TokenClassificationDataset',
                                      'type: BertTokenizer, vocab_file: vocab.txt, is_tokenize_char: True')
        text_cfg = config.text_transforms.to_dict() if config.text_transforms else {'type': 'TokenizeWithLabel'}
        label_cfg = config.label_transforms.to_dict() if config.label_transforms else {'type': 'LabelPadding'}
        text_transform = build_transforms(text_cfg, {'tokenizer': tokenizer})
        label_transform = build_transforms(label_cfg)
        if label_transform.max_length != text_transform.max_length:
            raise DatasetError(f"TokenClassificationDataset: label_transforms.max_length {label_transform.max_length}"
                               f" must equal text_transforms.max_length {text_transform.max_length}")
        source = list(config.source_columns)
        made = list(config.made_columns)
        args = loader_cfg.to_dict()
        args.setdefault('column_names', source)
        args.update(shard)
        dataset = build_dataset_loader(args)
        dataset = dataset.map(operations=text_transform, input_columns=source, output_columns=made)
        dataset = dataset.map(operations=label_transform, input_columns=model_column_order(made)[-1])
        if made != list(input_columns):
            logger.info("TokenClassificationDataset: columns %s are fed to the model as %s", made, input_columns)
        dataset = dataset.project(list(input_columns))
        return dataset, text_transform.max_length
