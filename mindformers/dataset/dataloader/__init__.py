"""Dataset loaders."""
from .build_dataloader import build_dataset_loader
from .adgen_dataloader import ADGenDataLoader
from .cluener_dataloader import CLUENERDataLoader
from .squad_dataloader import SQuADDataLoader
from .wmt16_dataloader import WMT16DataLoader
from .image_csv_dataloader import ImageCsvDataLoader
from .flickr8k_dataloader import Flickr8kDataLoader, Cifar100DataLoader
from .multi_image_cap_dataloader import MultiImgCapDataLoader
from .multi_source_dataloader import MultiSourceDataLoader
from .sft_dataloader import SFTDataLoader
from .training_dataloader import TrainingDataLoader

__all__ = ['build_dataset_loader', 'ADGenDataLoader', 'CLUENERDataLoader', 'SQuADDataLoader', 'WMT16DataLoader',
           'ImageCsvDataLoader', 'Flickr8kDataLoader', 'Cifar100DataLoader', 'MultiImgCapDataLoader',
           'MultiSourceDataLoader', 'SFTDataLoader', 'TrainingDataLoader']
