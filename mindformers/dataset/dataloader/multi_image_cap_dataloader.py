"""MultiImgCapDataLoader: (image, caption) rows from several caption files (JSON lists of {image, caption})."""
import copy
import json
import os
from collections import OrderedDict

from mindspore.dataset import GeneratorDataset

from mindformers.models.image_processor import open_image
from mindformers.tools.errors import DatasetError
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['MultiImgCapDataLoader', 'MultiImgCapDataSet']


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class MultiImgCapDataLoader:
    """`MultiImgCapDataLoader(dataset_dir, annotation_files, image_dirs, column_names=['image', 'text'],
    stage='train', repeat_images=False, shuffle=True, **GeneratorDataset args)`: annotation file i (under
    dataset_dir) lists images of image_dirs[i]; rows are (RGB image, caption). In the eval stage `img2txt` /
    `txt2img` index the captions, and `repeat_images` gives one row per caption."""

    def __new__(cls, dataset_dir, annotation_files, image_dirs, column_names=None, stage='train',
                repeat_images=False, shuffle=True, **kwargs):
        if len(image_dirs) != len(annotation_files):
            raise DatasetError(f"MultiImgCapDataLoader: {len(image_dirs)} image_dirs for {len(annotation_files)} "
                               f"annotation_files; give one image folder per annotation file")
        annotations = [os.path.join(dataset_dir, name) for name in annotation_files]
        folders = [os.path.join(dataset_dir, name) for name in image_dirs]
        for path in annotations:
            if not os.path.isfile(path):
                raise DatasetError(f"MultiImgCapDataLoader: annotation file {path} does not exist")
        for path in folders:
            if not os.path.isdir(path):
                raise DatasetError(f"MultiImgCapDataLoader: image folder {path} does not exist")
        kwargs.pop('None', None)
        source = MultiImgCapDataSet(folders, annotations, stage, repeat_images)
        return GeneratorDataset(source, column_names or ['image', 'text'], shuffle=shuffle, **kwargs)


class MultiImgCapDataSet:
    """The rows of every annotation file, image paths made absolute."""

    def __init__(self, image_dirs, annotation_files, stage='train', repeat_images=False):
        if stage not in ('train', 'eval'):
            raise DatasetError(f"MultiImgCapDataLoader: stage must be 'train' or 'eval', got {stage!r}")
        self.annotation = []
        for folder, path in zip(image_dirs, annotation_files):
            with open(path, encoding='utf-8') as stream:
                for entry in json.load(stream):
                    entry = dict(entry)
                    entry['image'] = os.path.join(folder, entry['image'])
                    self.annotation.append(entry)
        if stage == 'eval':
            self.img2txt, self.txt2img, text_id = {}, {}, 0
            for img_id, entry in enumerate(self.annotation):
                captions = entry['caption'] if isinstance(entry['caption'], list) else [entry['caption']]
                self.img2txt[img_id] = list(range(text_id, text_id + len(captions)))
                for _ in captions:
                    self.txt2img[text_id] = img_id
                    text_id += 1
            if repeat_images:
                repeated = []
                for entry in self.annotation:
                    captions = entry['caption'] if isinstance(entry['caption'], list) else [entry['caption']]
                    for caption in captions:
                        copied = copy.deepcopy(entry)
                        copied['caption'] = caption
                        repeated.append(copied)
                self.annotation = repeated

    def __len__(self):
        return len(self.annotation)

    def __getitem__(self, index):
        entry = self.annotation[index]
        return open_image(entry['image']).convert('RGB'), entry['caption']

    def display_item(self, index):
        entry = self.annotation[index]
        return OrderedDict(file=entry['image'], caption=entry['caption'], image=open_image(entry['image']))
