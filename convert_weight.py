"""Convert model weights between the Hugging Face layout and MindFormers checkpoints.

    python convert_weight.py --model llama --input_path <hf dir | x.gguf> --output_path x.ckpt [--dtype fp32|fp16|bf16]
    python convert_weight.py --model llama --reversed --input_path x.ckpt --output_path <hf dir> [--config x.yaml]

A Hugging Face directory holds config.json and *.safetensors (sharded with model.safetensors.index.json
too). A .gguf input (llama.cpp, e.g. SmolLM2) is dequantized to fp32 and converted the same way.
"""
import argparse
import sys
import tempfile

from mindformers.models.auto_mapping import CONVERT_FAMILIES
from mindformers.tools.errors import MindFormerError

SUPPORTED_MODELS = tuple(CONVERT_FAMILIES)



class _OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def parse_args(argv=None):
    parser = _OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', required=True, help=f"model family: {', '.join(SUPPORTED_MODELS)}")
    parser.add_argument('--input_path', required=True)
    parser.add_argument('--output_path', required=True)
    parser.add_argument('--dtype', default='fp32', choices=('fp32', 'fp16', 'bf16'))
    parser.add_argument('--reversed', action='store_true', help='MindFormers .ckpt -> Hugging Face directory')
    parser.add_argument('--config', default=None, help='--reversed: YAML with model.model_config (default: the '
                                                        '.yaml next to the .ckpt)')
    args = parser.parse_args(argv)
    if args.model not in SUPPORTED_MODELS:
        parser.exit(2, f"{parser.prog}: error: unknown --model '{args.model}'; supported: "
                       f"{', '.join(SUPPORTED_MODELS)}\n")
    return args


def run(args):
    # pylint: disable=import-outside-toplevel
    from mindformers.models import hf_conversion
    converter = hf_conversion.family_converter(CONVERT_FAMILIES[args.model])
    if args.reversed:
        out = hf_conversion.convert_ckpt_to_hf(converter, args.input_path, args.output_path, args.config, args.dtype)
        print(f"wrote Hugging Face directory {out}")
        return
    if args.input_path.endswith('.gguf'):
        if CONVERT_FAMILIES[args.model] != 'llama':
            raise MindFormerError(f"a .gguf input converts only for LLaMA-architecture models, not --model "
                                  f"{args.model}")
        from mindformers.models.llama.convert_gguf import gguf_to_hf_directory
        with tempfile.TemporaryDirectory() as hf_dir:
            gguf_to_hf_directory(args.input_path, hf_dir)
            ckpt, yaml_path = hf_conversion.convert_hf_to_ckpt(converter, hf_dir, args.output_path, args.dtype)
    else:
        ckpt, yaml_path = hf_conversion.convert_hf_to_ckpt(converter, args.input_path, args.output_path, args.dtype)
    print(f"wrote {ckpt} and {yaml_path}")


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except MindFormerError as err:
        sys.stderr.write(f"convert_weight.py: error: {err}\n")
        sys.exit(2)


if __name__ == '__main__':
    main()
