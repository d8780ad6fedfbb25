"""ContrastiveLanguageImagePretrainDataset (image, caption ids) and ZeroShotImageClassificationDataset (image,
class prompt ids, label): CLIP's datasets."""
from mindformers.dataset.causal_language_model_dataset import CausalLanguageModelDataset, dataset_config_of, \
    section_tokenizer
from mindformers.dataset.image_classification_dataset import image_source
from mindformers.dataset.transforms.text_transforms import build_transforms
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['ContrastiveLanguageImagePretrainDataset', 'ZeroShotImageClassificationDataset']


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class ContrastiveLanguageImagePretrainDataset(CausalLanguageModelDataset):
    """The contrastive_language_image_pretrain task's dataset (upstream name; columns `image, text`).

    The `data_loader` (Flickr8kDataLoader, or ImageCsvDataLoader with caption_templates) yields an image and its
    captions; `transforms` (mindspore.dataset.vision ops) run on the image and `text_transforms`
    (RandomChoiceTokenizerForward: one caption -> max_length ids) with the section's `tokenizer` on the captions.
    """
    float_columns = ('image',)
    columns = ('image', 'text')

    def __new__(cls, dataset_config=None, data_loader=None, transforms=None, text_transforms=None, tokenizer=None,
                input_columns=None, batch_size=8, drop_remainder=True, **kwargs):
        config = dataset_config_of(dataset_config, data_loader=data_loader, transforms=transforms,
                                   text_transforms=text_transforms, tokenizer=tokenizer, input_columns=input_columns,
                                   batch_size=batch_size, drop_remainder=drop_remainder, **kwargs)
        config['input_columns'] = list(config.get('input_columns') or cls.columns)
        return super().__new__(cls, dataset_config=config)

    @classmethod
    def _open_source(cls, config, loader_cfg, input_columns, shard):
        if len(input_columns) != len(cls.columns):
            raise DatasetError(f"{cls.__name__}: input_columns must be {list(cls.columns)}, got {input_columns}")
        loader_cfg.setdefault('column_names', list(input_columns))
        dataset = image_source(config, loader_cfg, shard, cls.__name__)
        if config.text_transforms is None:
            raise DatasetError(f"{cls.__name__}: the dataset section has no text_transforms (e.g. type: "
                               f"{'TokenizerForward' if len(cls.columns) == 3 else 'RandomChoiceTokenizerForward'}, "
                               f"max_length: 77)")
        tokenizer = section_tokenizer(config, cls.__name__, "tokenizer: {type: CLIPTokenizer, vocab_file: ...}")
        sections = config.text_transforms
        sections = [sections] if not isinstance(sections, (list, tuple)) else list(sections)
        operations = [build_transforms(section.to_dict() if hasattr(section, 'to_dict') else dict(section),
                                       default_args={'tokenizer': tokenizer}) for section in sections]
        names = dataset.get_col_names()
        label_names = getattr(dataset, 'label_names', None)
        dataset = dataset.map(operations=operations, input_columns=names[1])
        if names != list(input_columns):
            dataset = dataset.rename(names, list(input_columns))
        dataset.label_names = label_names
        return dataset, None


@MindFormerRegister.register(MindFormerModuleType.DATASET)
class ZeroShotImageClassificationDataset(ContrastiveLanguageImagePretrainDataset):
    """The zero_shot_image_classification task's dataset (upstream name; columns `image, text, label`): every row
    carries the prompts of all classes (TokenizerForward: (num_classes, max_length) ids) and its class id; the
    batched dataset keeps the loader's `label_names`."""
    columns = ('image', 'text', 'label')

    def __new__(cls, dataset_config=None, data_loader=None, transforms=None, text_transforms=None, tokenizer=None,
                input_columns=None, batch_size=8, drop_remainder=False, **kwargs):
        return super().__new__(cls, dataset_config=dataset_config, data_loader=data_loader, transforms=transforms,
                               text_transforms=text_transforms, tokenizer=tokenizer, input_columns=input_columns,
                               batch_size=batch_size, drop_remainder=drop_remainder, **kwargs)
