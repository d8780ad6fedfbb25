"""Offline checkpoint transform between parallel layouts (upstream's mindformers/tools/transform_ckpt.py), on CPU.

    python mindformers/tools/transform_ckpt.py --src_ckpt_strategy None --dst_ckpt_strategy output/strategy \
        --src_ckpt_dir full_ckpt --dst_ckpt_dir sharded_ckpt --prefix llama_

`--src_ckpt_dir` holds rank_<i>/ folders (a complete checkpoint: rank_0/ only). A strategy is a strategy file,
a folder of them (merged first), or None/'' for a complete checkpoint. Rank i of the result is
`<dst_ckpt_dir>/rank_<i>/<prefix><i>.ckpt`. `--transform_process_num N` spreads the ranks over N processes.
"""
import argparse
import os
import sys

if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mindformers.tools.errors import MindFormerError  # noqa: E402  pylint: disable=wrong-import-position


def get_parser():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--src_ckpt_strategy', default=None,
                        help='strategy of the source: a file, a folder of per-stage files, or None (complete)')
    parser.add_argument('--dst_ckpt_strategy', default=None,
                        help='strategy of the result: a file, a folder of per-stage files, or None (complete)')
    parser.add_argument('--src_ckpt_dir', required=True, help='folder of rank_<i>/ folders holding .ckpt files')
    parser.add_argument('--dst_ckpt_dir', required=True, help='new or empty folder for the result')
    parser.add_argument('--prefix', default='checkpoint_', help='file name prefix of the result (default checkpoint_)')
    parser.add_argument('--rank_id', default=0, type=int, help='this process\'s rank (logging only)')
    parser.add_argument('--world_size', default=None, type=int,
                        help='devices of the destination layout (checked against dst_ckpt_strategy)')
    parser.add_argument('--transform_process_num', default=1, type=int, help='processes to spread the ranks over')
    return parser


def main(argv=None):
    args = get_parser().parse_args(argv)
    from mindformers.tools.ckpt_transform.transform import transform_checkpoints  # pylint: disable=C0415
    print(f"src_ckpt_strategy: {args.src_ckpt_strategy}\ndst_ckpt_strategy: {args.dst_ckpt_strategy}\n"
          f"src_ckpt_dir: {args.src_ckpt_dir}\ndst_ckpt_dir: {args.dst_ckpt_dir}\nprefix: {args.prefix}")
    print("......Start transform......")
    try:
        written = transform_checkpoints(args.src_ckpt_dir, args.dst_ckpt_dir, args.src_ckpt_strategy,
                                        args.dst_ckpt_strategy, args.prefix, args.transform_process_num,
                                        args.world_size)
    except MindFormerError as error:
        print(f"transform_ckpt.py: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(written)} rank(s) under {args.dst_ckpt_dir}")
    print("......Transform succeed!......")
    return 0


if __name__ == '__main__':
    sys.exit(main())
