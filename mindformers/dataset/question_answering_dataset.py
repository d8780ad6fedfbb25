"""QuestionAnsweringDataset: SQuAD-format questions -> BERT question answering batches."""
from mindformers.dataset.causal_language_model_dataset import (CausalLanguageModelDataset, _RECORD_LOADERS,
                                                               dataset_config_of, section_tokenizer)
from mindformers.dataset.dataloader.build_dataloader import build_dataset_loader
from mindformers.dataset.dataloader.squad_dataloader import COLUMNS, MAX_SEQ_LEN
from mindformers.dataset.mindrecord_files import is_mindrecord_path
from mindformers.tools.register import MindFormerConfig, MindFormerModuleType, MindFormerRegister

__all__ = ['QuestionAnsweringDataset']


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class QuestionAnsweringDataset(CausalLanguageModelDataset):
    """The question_answering task's dataset (upstream name).

    With `SQuADDataLoader` the section's `tokenizer` (a BertTokenizer) turns every question and its context into
    `max_seq_len` feature rows (`input_ids, input_mask, token_type_id, start_position, end_position, unique_id`,
    BertForQuestionAnswering's argument order); a MindDataset (the bert qa_dataset_to_mindrecord.py tool) is
    read as prepared rows, and so is a MindRecord file or folder given as the SQuADDataLoader's `dataset_dir`
    (`--train_dataset_dir rows.mindrecord` with a SQuAD YAML). Batching, sharding and the int32 cast are
    CausalLanguageModelDataset's.
    """

    def __new__(cls, dataset_config=None, data_loader=None, input_columns=None, output_columns=None,
                batch_size=8, drop_remainder=True, tokenizer=None, **kwargs):
        config = dataset_config_of(dataset_config, data_loader=data_loader, input_columns=input_columns,
                                   output_columns=output_columns, batch_size=batch_size, drop_remainder=drop_remainder,
                                   tokenizer=tokenizer, **kwargs)
        config['input_columns'] = list(config.get('input_columns') or COLUMNS)
        return super().__new__(cls, dataset_config=config)

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if loader_cfg.type not in _RECORD_LOADERS and is_mindrecord_path(loader_cfg.dataset_dir):
            # `--train_dataset_dir rows.mindrecord` with the SQuAD YAML: read the tool's rows instead of JSON
            loader_cfg = MindFormerConfig({'type': 'MindDataset', 'dataset_dir': loader_cfg.dataset_dir,
                                           'shuffle': loader_cfg.stage != 'dev'})
        if loader_cfg.type in _RECORD_LOADERS:
            return super()._open_source(config, loader_cfg, input_columns, shard)
        args = loader_cfg.to_dict()
        args.setdefault('column_names', list(input_columns))
        args['tokenizer'] = section_tokenizer(config, 'QuestionAnsweringDataset',
                                              'type: BertTokenizer, vocab_file: vocab.txt')
        args.update(shard)
        return build_dataset_loader(args), int(args.get('max_seq_len', MAX_SEQ_LEN))
