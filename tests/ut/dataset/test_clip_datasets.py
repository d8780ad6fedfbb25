"""CLIP's data: ImageCsvDataLoader captions and zero-shot prompts, Flickr8kDataLoader over Flickr8k's layout,
Cifar100DataLoader over CIFAR-100's pickles, the caption tokenizer transforms, and both task datasets (columns,
shapes, dtypes, ids), with one-line errors. The tokenizer is a small CLIP BPE written here."""
import gzip
import pickle

import numpy as np
import pytest
from PIL import Image

from mindformers import CLIPTokenizer
from mindformers.dataset import (Cifar100DataLoader, ContrastiveLanguageImagePretrainDataset, Flickr8kDataLoader,
                                 ImageCsvDataLoader, RandomChoiceTokenizerForward, TokenizerForward,
                                 ZeroShotImageClassificationDataset)
from mindformers.tools.errors import DatasetError
from tests.ut.dataset.test_image_classification import digit_csv

NAMES = ['zero', 'one', 'two']
MERGES = ['t h', 'th e</w>', 'o n', 'on e</w>', 'z e', 'ze r', 'zer o</w>', 't w', 'tw o</w>']


@pytest.fixture(name='bpe_file')
def fixture_bpe_file(tmp_path):
    """A CLIP merges file (header line + merges) with a handful of merges, so some words are one token."""
    path = tmp_path / 'bpe.txt.gz'
    with gzip.open(path, 'wt', encoding='utf-8') as stream:
        stream.write('header\n' + '\n'.join(MERGES) + '\n')
    return str(path)


@pytest.fixture(name='tokenizer')
def fixture_tokenizer(bpe_file):
    return CLIPTokenizer(vocab_file=bpe_file, pad_token='!')


def rows_of(dataset):
    return list(dataset.create_tuple_iterator(output_numpy=True))


def test_csv_loader_gives_captions_of_each_label(tmp_path):
    csv = digit_csv(tmp_path / 'digits.csv', per_class=3)
    loader = ImageCsvDataLoader(dataset_dir=csv, stage='train', val_per_class=1, column_names=['image', 'text'],
                                label_names=NAMES, caption_templates=['a photo of {}.', 'the digit {}'],
                                shuffle=False)
    rows = rows_of(loader)
    assert len(rows) == 6 and loader.label_names == NAMES
    image, captions = rows[2]
    assert image.shape == (28, 28, 1) and int(image[0, 0, 0]) == 20          # label 1, first row of its class
    assert [str(c) for c in captions] == ['a photo of one.', 'the digit one']


def test_csv_loader_gives_every_class_prompt_for_zero_shot(tmp_path):
    csv = digit_csv(tmp_path / 'digits.csv', per_class=3)
    loader = ImageCsvDataLoader(dataset_dir=csv, stage='val', val_per_class=1,
                                column_names=['image', 'text', 'label'], label_names='mnist_words',
                                hypothesis_template='a photo of the digit {}.')
    rows = rows_of(loader)
    assert [int(r[2]) for r in rows] == [0, 1, 2]
    assert [str(p) for p in rows[0][1]][:3] == ['a photo of the digit zero.', 'a photo of the digit one.',
                                               'a photo of the digit two.']
    assert len(rows[0][1]) == 10


def test_csv_loader_text_errors_are_one_line(tmp_path):
    csv = digit_csv(tmp_path / 'digits.csv', per_class=3)
    with pytest.raises(DatasetError, match='needs label_names'):
        ImageCsvDataLoader(dataset_dir=csv, column_names=['image', 'text'], caption_templates=['{}'])
    with pytest.raises(DatasetError, match='label 2 has no name'):
        ImageCsvDataLoader(dataset_dir=csv, column_names=['image', 'text'], caption_templates=['{}'],
                           label_names=['a', 'b'])
    with pytest.raises(DatasetError, match='caption_templates must be strings with {}'):
        ImageCsvDataLoader(dataset_dir=csv, column_names=['image', 'text'], caption_templates=['no slot'],
                           label_names=NAMES)
    with pytest.raises(DatasetError, match='with hypothesis_template'):
        ImageCsvDataLoader(dataset_dir=csv, column_names=['image', 'text', 'label'], label_names=NAMES)


def flickr8k(root):
    """Flickr8k's layout with four images: three train, one test, two captions each."""
    images = root / 'Flickr8k_Dataset' / 'Flickr8k_Dataset'
    text = root / 'Flickr8k_text'
    images.mkdir(parents=True)
    text.mkdir()
    lines = []
    for number in range(4):
        Image.fromarray(np.full((6, 8, 3), number * 40, np.uint8)).save(images / f'{number}.jpg', quality=100)
        lines += [f'{number}.jpg#0\tcaption {number} a', f'{number}.jpg#1\tcaption {number} b']
    (text / 'Flickr8k.token.txt').write_text('\n'.join(lines) + '\n')
    (text / 'Flickr_8k.trainImages.txt').write_text('0.jpg\n1.jpg\n2.jpg\n')
    (text / 'Flickr_8k.testImages.txt').write_text('3.jpg\n')
    (text / 'Flickr_8k.devImages.txt').write_text('')
    return str(root)


def test_flickr8k_loader_reads_images_and_their_captions(tmp_path):
    root = flickr8k(tmp_path / 'Flickr8k')
    rows = rows_of(Flickr8kDataLoader(dataset_dir=root, stage='test'))
    assert len(rows) == 1
    image, captions = rows[0]
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8 and abs(int(image.mean()) - 120) <= 2
    assert [str(c) for c in captions] == ['caption 3 a', 'caption 3 b']
    assert len(rows_of(Flickr8kDataLoader(dataset_dir=root, stage='train'))) == 3
    assert len(rows_of(Flickr8kDataLoader(dataset_dir=root, stage='all'))) == 4
    with pytest.raises(DatasetError, match="stage must be one of"):
        Flickr8kDataLoader(dataset_dir=root, stage='val')
    with pytest.raises(DatasetError, match='Flickr8k_Dataset does not exist'):
        Flickr8kDataLoader(dataset_dir=str(tmp_path / 'missing'))


def test_cifar100_loader_reads_the_pickles(tmp_path):
    rng = np.random.default_rng(0)
    meta = {b'fine_label_names': [b'apple', b'bee', b'cat'], b'coarse_label_names': [b'fruit', b'animal']}
    for name, count in (('train', 4), ('test', 2)):
        data = {b'data': rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                b'fine_labels': list(range(count % 3 + 1)) * 4, b'coarse_labels': [1] * count}
        data[b'fine_labels'] = data[b'fine_labels'][:count]
        (tmp_path / name).write_bytes(pickle.dumps(data))
        if name == 'test':
            test_data = data
    (tmp_path / 'meta').write_bytes(pickle.dumps(meta))
    loader = Cifar100DataLoader(dataset_dir=str(tmp_path), stage='test', hypothesis_template='a picture of {}')
    rows = rows_of(loader)
    assert loader.label_names == ['apple', 'bee', 'cat'] and len(rows) == 2
    image, prompts, label = rows[1]
    np.testing.assert_array_equal(image, test_data[b'data'][1].reshape(3, 32, 32).transpose(1, 2, 0))
    assert [str(p) for p in prompts] == ['a picture of apple', 'a picture of bee', 'a picture of cat']
    assert int(label) == test_data[b'fine_labels'][1]
    coarse = Cifar100DataLoader(dataset_dir=str(tmp_path), stage='all', fine_label=False)
    assert coarse.label_names == ['fruit', 'animal'] and len(rows_of(coarse)) == 6
    with pytest.raises(DatasetError, match='cifar-100-python folder'):
        Cifar100DataLoader(dataset_dir=str(tmp_path / 'none'))


def test_caption_transforms(tokenizer):
    captions = np.array(['the one', 'zero two', 'the two'])
    pick = RandomChoiceTokenizerForward(tokenizer, max_length=8, random_seed=1)
    drawn = {tuple(pick(captions).tolist()) for _ in range(30)}
    expected = {tuple(tokenizer(c, max_length=8, padding='max_length')['input_ids']) for c in captions}
    assert drawn == expected                       # every caption gets drawn, each tokenized as the tokenizer does
    ids = TokenizerForward(tokenizer, max_length=6)(np.array(['one', 'zero two']))
    assert ids.dtype == np.int32 and ids.tolist() == [tokenizer('one', max_length=6, padding='max_length')['input_ids'],
                                                      tokenizer('zero two', max_length=6,
                                                                padding='max_length')['input_ids']]
    with pytest.raises(DatasetError, match="needs the dataset section's tokenizer"):
        TokenizerForward(None)


def test_task_datasets_batch_images_and_ids(tmp_path, tokenizer):
    csv = digit_csv(tmp_path / 'digits.csv', per_class=3)
    transforms = [{'type': 'ToTensor'}]
    loader = dict(type='ImageCsvDataLoader', dataset_dir=csv, stage='train', val_per_class=1, label_names=NAMES,
                  caption_templates=['the {}'], shuffle=False)
    pretrain = ContrastiveLanguageImagePretrainDataset(dataset_config=dict(
        data_loader=loader, transforms=transforms, tokenizer=tokenizer, batch_size=2,
        text_transforms={'type': 'RandomChoiceTokenizerForward', 'max_length': 7}))
    image, text = next(pretrain.create_tuple_iterator(output_numpy=True))
    assert image.shape == (2, 1, 28, 28) and image.dtype == np.float32 and text.dtype == np.int32
    assert text[0].tolist() == tokenizer('the zero', max_length=7, padding='max_length')['input_ids']
    zero_loader = dict(loader, stage='val', hypothesis_template='{}')
    del zero_loader['caption_templates']
    zero = ZeroShotImageClassificationDataset(dataset_config=dict(
        data_loader=zero_loader, transforms=transforms, tokenizer=tokenizer, batch_size=3,
        text_transforms={'type': 'TokenizerForward', 'max_length': 5}))
    assert zero.label_names == NAMES
    image, prompts, label = next(zero.create_tuple_iterator(output_numpy=True))
    assert prompts.shape == (3, 3, 5) and label.tolist() == [0, 1, 2]
    assert prompts[0, 2].tolist() == tokenizer('two', max_length=5, padding='max_length')['input_ids']
    with pytest.raises(DatasetError, match='no text_transforms'):
        ZeroShotImageClassificationDataset(dataset_config=dict(data_loader=zero_loader, tokenizer=tokenizer))
