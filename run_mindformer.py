"""One-click entry: command line -> MindFormerConfig (YAML plus overrides) -> build_context -> Trainer."""
import argparse
import glob
import json
import os
import sys

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
if SCRIPT_DIR not in sys.path:
    sys.path.insert(0, SCRIPT_DIR)

# pylint: disable=wrong-import-position
from mindformers.tools.errors import ConfigError, MindFormerError
from mindformers.tools.logger import logger
from mindformers.tools.register.config import ActionDict, MindFormerConfig
from mindformers.tools.register.research import check_register_path, register_research_classes
from mindformers.tools.utils import IMAGE_EXTENSIONS, parse_value, set_output_path, str2bool

PROG = 'run_mindformer.py'
RUN_MODES = ('train', 'finetune', 'eval', 'predict')
MODALS = {'text': None, 'image': ('.jpg', '.jpeg', '.png', '.bmp'), 'video': ('.mp4', '.avi', '.mkv')}
BOOL = '{true,false}'

# Flags that reach the config but whose feature is not built yet: each prints one warning when given
# (booleans only when true). Delete an entry once its feature works.
NOT_AVAILABLE_YET = {
    'strategy_load_checkpoint': 'loading a parallel strategy file is not available yet (semi/auto parallel '
                                'does not run on CPU); parallel.strategy_ckpt_load_file is set but not used',
    'remote_save_url': 'uploading outputs to OBS (ModelArts) is not available; outputs stay in output_dir',
    'adapter_id': 'multi-adapter (SLoRA) inference is not available yet; adapter_id is recorded but not used',
    'modal_type': 'multi-modal prediction is not available yet; input_data holds the modal list '
                  'but no model reads it',
}

# Flag -> config key for flags that are a plain copy, in upstream's order of application.
# Applied before --options, so --options wins over these.
FLAGS_BEFORE_OPTIONS = (
    ('device_id', 'context.device_id'),
    ('device_target', 'context.device_target'),
    ('mode', 'context.mode'),
    ('run_mode', 'run_mode'),
    ('do_eval', 'do_eval'),
    ('seed', 'seed'),
    ('use_parallel', 'use_parallel'),
    ('load_checkpoint', 'load_checkpoint'),
    ('src_strategy_path_or_dir', 'src_strategy_path_or_dir'),
    ('auto_trans_ckpt', 'auto_trans_ckpt'),
    ('transform_process_num', 'transform_process_num'),
    ('only_save_strategy', 'only_save_strategy'),
    ('resume_training', 'resume_training'),
)
# Applied after --options (and after run_mode validation), so these win over --options.
FLAGS_AFTER_OPTIONS = (
    ('predict_batch_size', 'predict_batch_size'),
    ('adapter_id', 'adapter_id'),
    ('epochs', 'runner_config.epochs'),
    ('batch_size', 'runner_config.batch_size'),
    ('gradient_accumulation_steps', 'runner_config.gradient_accumulation_steps'),
    ('sink_mode', 'runner_config.sink_mode'),
)
FLAGS_LAST = (
    ('output_dir', 'output_dir'),
    ('do_sample', 'model.model_config.do_sample'),
    ('trust_remote_code', 'trust_remote_code'),
)


class _OneLineParser(argparse.ArgumentParser):
    """Reports a bad command line as one line (no usage block), exit code 2."""

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message}\n')


def _bool_arg(value):
    try:
        return str2bool(value)
    except ConfigError:
        raise argparse.ArgumentTypeError(f"expected true or false, got '{value}'") from None


def _bool_or_name_arg(value):
    """true/false, or a checkpoint file name (for --resume_training)."""
    if value.strip().lower() in ('true', 'false'):
        return value.strip().lower() == 'true'
    if not value.strip():
        raise argparse.ArgumentTypeError("expected true, false or a checkpoint file name, got ''")
    return value


def _positive_int_arg(value):
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{value}'")
    return number


def _non_negative_int_arg(value):
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got '{value}'")
    return number


def get_parser():
    """The run_mindformer.py argument parser; every flag defaults to None (= keep the YAML value)."""
    parser = _OneLineParser(
        prog=PROG, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Train, finetune, evaluate or predict with a MindFormers YAML run config.\n'
                    'Every flag except --config is optional; a flag left out keeps the YAML value.\n'
                    'Booleans take true or false (any case).',
        epilog='Any other setting: --a.b.c value or --a.b.c=value (e.g. --model.model_config.num_layers 2).\n'
               'The value is parsed as int, float, True/true, False/false, None/null, JSON, else kept as\n'
               'text; the sections a.b must already exist in the config, the last key may be new.\n\n'
               'Order of application (a later step wins): --register_path; the YAML; --device_id\n'
               '--device_target --mode --run_mode --do_eval --seed --use_parallel --load_checkpoint\n'
               '--src_strategy_path_or_dir --auto_trans_ckpt --transform_process_num --only_save_strategy\n'
               '--resume_training --strategy_load_checkpoint --remote_save_url --profile; --options;\n'
               'the run_mode check; --train_dataset_dir --eval_dataset_dir --predict_data/--modal_type\n'
               '--predict_batch_size --adapter_id --epochs --batch_size --gradient_accumulation_steps\n'
               '--sink_mode --num_samples --output_dir --do_sample --trust_remote_code; finally the\n'
               '--a.b.c overrides.')
    add = parser.add_argument
    add('--config', required=True,
        help='run YAML; a relative path is looked up in the current directory, then next to this script')
    add('--mode', type=int, choices=(0, 1), help='overrides context.mode (0 GRAPH_MODE, 1 PYNATIVE_MODE)')
    add('--device_id', type=_non_negative_int_arg, help='overrides context.device_id')
    add('--device_target', choices=('CPU', 'GPU', 'Ascend'), help='overrides context.device_target')
    add('--run_mode', help='overrides run_mode: one of ' + ', '.join(RUN_MODES))
    add('--do_eval', type=_bool_arg, metavar=BOOL, help='overrides do_eval (evaluate during training)')
    add('--train_dataset_dir', help='overrides train_dataset.data_loader.dataset_dir')
    add('--eval_dataset_dir', help='overrides eval_dataset.data_loader.dataset_dir')
    add('--predict_data', nargs='+',
        help='sets input_data: prompt text (a literal \\n becomes a newline), a .txt file of prompts '
             '(one per line, read by the trainer), or a directory of images; several values make a batch')
    add('--modal_type', nargs='+', choices=tuple(MODALS),
        help='one modal per --predict_data value (text, image, video); input_data becomes '
             '[[{modal: value}, ...]]')
    add('--predict_batch_size', type=_positive_int_arg, help='overrides predict_batch_size')
    add('--adapter_id', help='overrides adapter_id (SLoRA adapter to predict with)')
    add('--load_checkpoint', help='overrides load_checkpoint (a .ckpt file, a directory or a model name)')
    add('--src_strategy_path_or_dir', help='overrides src_strategy_path_or_dir (strategy of load_checkpoint)')
    add('--auto_trans_ckpt', type=_bool_arg, metavar=BOOL, help='overrides auto_trans_ckpt')
    add('--transform_process_num', type=_positive_int_arg, help='overrides transform_process_num')
    add('--only_save_strategy', type=_bool_arg, metavar=BOOL, help='overrides only_save_strategy')
    add('--resume_training', type=_bool_or_name_arg, metavar='{true,false,NAME.ckpt}',
        help='overrides resume_training: true/false or a checkpoint file name in load_checkpoint')
    add('--strategy_load_checkpoint',
        help='overrides parallel.strategy_ckpt_load_file; a directory means the first *.ckpt inside')
    add('--remote_save_url', help='overrides remote_save_url (OBS upload target)')
    add('--seed', type=int, help='overrides seed')
    add('--use_parallel', type=_bool_arg, metavar=BOOL, help='overrides use_parallel')
    add('--profile', type=_bool_arg, metavar=BOOL, help='overrides profile')
    add('--options', nargs='+', action=ActionDict,
        help='key=value pairs with dotted keys (a.b=1 c=[1,2]) merged into the config; see the order below')
    add('--epochs', type=_positive_int_arg, help='overrides runner_config.epochs')
    add('--batch_size', type=_positive_int_arg, help='overrides runner_config.batch_size (per device)')
    add('--gradient_accumulation_steps', type=_positive_int_arg,
        help='overrides runner_config.gradient_accumulation_steps')
    add('--sink_mode', type=_bool_arg, metavar=BOOL, help='overrides runner_config.sink_mode')
    add('--num_samples', type=_positive_int_arg,
        help='overrides train_dataset.data_loader.num_samples and eval_dataset.data_loader.num_samples '
             '(where those sections exist)')
    add('--output_dir', help='overrides output_dir (root of checkpoints, logs, strategies)')
    add('--register_path', help='folder of externally registered modules (e.g. research/qwen2_5): '
                                'exported as env REGISTER_PATH and added to sys.path')
    add('--do_sample', type=_bool_arg, metavar=BOOL, help='overrides model.model_config.do_sample')
    add('--trust_remote_code', type=_bool_arg, metavar=BOOL, help='overrides trust_remote_code')
    return parser


def _find_path(path, what):
    """Absolute path of `path`: as given, else relative to the current directory, else to this script."""
    path = os.path.expanduser(path)
    candidates = [path] if os.path.isabs(path) else [os.path.abspath(path), os.path.join(SCRIPT_DIR, path)]
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate
    looked = '' if os.path.isabs(path) else f' (looked in {os.getcwd()} and {SCRIPT_DIR})'
    raise ConfigError(f"{what} not found: {path}{looked}")


def _export_register_path(register_path):
    path = _find_path(register_path, '--register_path')
    check_register_path(path)
    os.environ['REGISTER_PATH'] = path
    if path not in sys.path:
        sys.path.append(path)


def _set_key(config, dotted_key, value):
    """Set config[a][b][c] = value, creating missing sections; a non-section in the way is an error."""
    node = config
    keys = dotted_key.split('.')
    for depth, key in enumerate(keys[:-1]):
        if node.get(key) is None:
            setattr(node, key, MindFormerConfig())
        elif not isinstance(node[key], dict):
            section = '.'.join(keys[:depth + 1])
            raise ConfigError(f"cannot set {dotted_key}: '{section}' in the config is "
                              f"{type(node[key]).__name__} {node[key]!r}, not a section")
        node = node[key]
    setattr(node, keys[-1], value)


def _apply_flags(config, args, pairs):
    for dest, key in pairs:
        value = getattr(args, dest)
        if value is not None:
            _set_key(config, key, value)


def _data_loader(config, section):
    """config.<section>.data_loader if the YAML has it, else None."""
    dataset = config.get(section)
    loader = dataset.get('data_loader') if isinstance(dataset, dict) else None
    return loader if isinstance(loader, dict) else None


def _apply_dataset_dir(config, flag, section, dataset_dir):
    loader = _data_loader(config, section)
    if loader is None:
        raise ConfigError(f"{flag} {dataset_dir}: the config has no {section}.data_loader section "
                          f"to put it in; add one to the YAML")
    loader.dataset_dir = dataset_dir


def _strategy_file(path):
    """A strategy file, or the first *.ckpt (by name) in a strategy directory."""
    if not os.path.isdir(path):
        return path
    files = sorted(name for name in os.listdir(path) if name.endswith('.ckpt'))
    if not files:
        raise ConfigError(f"--strategy_load_checkpoint: directory {path} holds no *.ckpt strategy file")
    return os.path.join(path, files[0])


def _prompt_or_file(item):
    """A .txt file path stays a path; any other text gets literal '\\n' turned into newlines."""
    if item.endswith('.txt') and not any(char.isspace() for char in item):
        if not os.path.isfile(item):
            raise ConfigError(f"--predict_data: prompt file not found: {item}")
        return item
    return item.replace('\\n', '\n')


def _predict_input(predict_data):
    """--predict_data values -> config.input_data (text, .txt path, list of texts or image files)."""
    if len(predict_data) == 1:
        item = predict_data[0]
        if os.path.isdir(item):
            images = sorted(path for path in glob.glob(os.path.join(item, '**', '*'), recursive=True)
                            if path.lower().endswith(IMAGE_EXTENSIONS))
            if not images:
                raise ConfigError(f"--predict_data: directory {item} holds no image files "
                                  f"({', '.join(IMAGE_EXTENSIONS)})")
            return images
        return _prompt_or_file(item)
    return [_prompt_or_file(item) for item in predict_data]


def _modal_input(predict_data, modal_type):
    """Pair each --predict_data value with its --modal_type: [[{modal: value}, ...]]."""
    if predict_data is None:
        raise ConfigError("--modal_type needs --predict_data with one value per modal")
    if len(predict_data) != len(modal_type):
        raise ConfigError(f"--modal_type has {len(modal_type)} values but --predict_data has "
                          f"{len(predict_data)}; give one modal per predict_data value")
    query = []
    for item, modal in zip(predict_data, modal_type):
        suffixes = MODALS[modal]
        if suffixes is None:
            query.append({modal: item.replace('\\n', '\n')})
            continue
        if not item.lower().endswith(suffixes):
            raise ConfigError(f"--predict_data {item}: a {modal} must end with one of {', '.join(suffixes)}")
        if not os.path.isfile(item):
            raise ConfigError(f"--predict_data: {modal} file not found: {item}")
        query.append({modal: item})
    return [query]


def _apply_num_samples(config, num_samples, warnings):
    loaders = [loader for loader in (_data_loader(config, 'train_dataset'), _data_loader(config, 'eval_dataset'))
               if loader is not None]
    if not loaders:
        warnings.append('--num_samples: the config has neither train_dataset.data_loader nor '
                        'eval_dataset.data_loader; the flag has nothing to apply to')
    for loader in loaders:
        loader.num_samples = num_samples


def _check_run_mode(config):
    if config.run_mode not in RUN_MODES:
        if config.run_mode is None:
            raise ConfigError(f"run_mode is not set; pass --run_mode or set run_mode in the YAML "
                              f"(one of {', '.join(RUN_MODES)})")
        raise ConfigError(f"run_mode '{config.run_mode}' is not supported; use one of {', '.join(RUN_MODES)}")


def _split_overrides(tokens):
    """Leftover tokens -> [(dotted_key, text)]: '--a.b value' or '--a.b=value' (split on the first '=')."""
    pairs = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith('--') or len(token) == 2:
            raise ConfigError(f"unrecognized argument '{token}'; config overrides look like --a.b value")
        if '=' in token:
            key, value = token[2:].split('=', 1)
            index += 1
        else:
            if index + 1 >= len(tokens) or tokens[index + 1].startswith('--'):
                raise ConfigError(f"override {token} has no value; write {token} value or {token}=value")
            key, value = token[2:], tokens[index + 1]
            index += 2
        if not key or '' in key.split('.'):
            raise ConfigError(f"override '{token}': malformed key; write --section.key value")
        pairs.append((key, value))
    return pairs


def _apply_override(config, dotted_key, text, warnings):
    """Set an existing section's key (the key itself may be new); list items are addressed by index."""
    keys = dotted_key.split('.')
    node = config
    for depth, key in enumerate(keys[:-1]):
        child = _child(node, key)
        if child is None or not isinstance(child, (dict, list)):
            section = '.'.join(keys[:depth + 1])
            if child is None:
                raise ConfigError(f"override --{dotted_key}: key '{section}' does not exist in the config")
            raise ConfigError(f"override --{dotted_key}: '{section}' is {type(child).__name__} {child!r}, "
                              f"not a section")
        node = child
    leaf = keys[-1]
    value = parse_value(text)
    current = node.get(leaf) if isinstance(node, dict) else None
    if isinstance(current, (list, tuple)) and not isinstance(value, (list, tuple)):
        example = json.dumps(list(current)) if current else '["a", "b"]'
        raise ConfigError(f"override --{dotted_key}: expects a list like '{example}', got {text!r}; write the "
                          f"list as JSON (quote it in the shell)")
    if isinstance(node, list):
        if not leaf.isdigit() or int(leaf) >= len(node):
            raise ConfigError(f"override --{dotted_key}: '{leaf}' is not an index of the "
                              f"{len(node)}-item list '{'.'.join(keys[:-1])}'")
        node[int(leaf)] = value
    elif isinstance(node, MindFormerConfig):
        if node is config and leaf not in config:
            warnings.append(f"override --{dotted_key}: '{leaf}' is a new top-level key (not in the YAML); "
                            f"check its spelling")
        setattr(node, leaf, value)
    else:
        node[leaf] = value


def _child(node, key):
    if isinstance(node, list):
        return node[int(key)] if key.isdigit() and int(key) < len(node) else None
    return node.get(key)


def _not_available_warnings(args):
    return [f"--{dest}: {message}" for dest, message in NOT_AVAILABLE_YET.items()
            if getattr(args, dest) is not None and getattr(args, dest) is not False]


def load_config(args, unknown_args=()):
    """Read args.config and apply the command line on top, in upstream's order; returns MindFormerConfig."""
    overrides = _split_overrides(list(unknown_args))  # malformed leftovers fail before anything else
    warnings = []
    if args.register_path is not None:
        _export_register_path(args.register_path)
    config_path = _find_path(args.config, 'config file')
    config = MindFormerConfig(config_path)

    _apply_flags(config, args, FLAGS_BEFORE_OPTIONS)
    if args.strategy_load_checkpoint is not None:
        _set_key(config, 'parallel.strategy_ckpt_load_file', _strategy_file(args.strategy_load_checkpoint))
    _apply_flags(config, args, (('remote_save_url', 'remote_save_url'), ('profile', 'profile')))
    if args.options:
        config.merge_from_dict(args.options)
    _check_run_mode(config)

    if args.train_dataset_dir is not None:
        _apply_dataset_dir(config, '--train_dataset_dir', 'train_dataset', args.train_dataset_dir)
    if args.eval_dataset_dir is not None:
        _apply_dataset_dir(config, '--eval_dataset_dir', 'eval_dataset', args.eval_dataset_dir)
    if args.modal_type is not None:
        config.input_data = _modal_input(args.predict_data, args.modal_type)
    elif args.predict_data is not None:
        config.input_data = _predict_input(args.predict_data)
    _apply_flags(config, args, FLAGS_AFTER_OPTIONS)
    if args.num_samples is not None:
        _apply_num_samples(config, args.num_samples, warnings)
    _apply_flags(config, args, FLAGS_LAST)

    for dotted_key, text in overrides:
        _apply_override(config, dotted_key, text, warnings)

    if config.profile and config.run_mode not in ('train', 'finetune'):
        warnings.append(f"profile: the profiler traces training steps; run_mode {config.run_mode} runs without it")
    if config.only_save_strategy and config.run_mode not in ('train', 'finetune'):
        warnings.append(f"only_save_strategy: strategy files are written by train/finetune runs; run_mode "
                        f"{config.run_mode} runs as usual")
    set_output_path(config.output_dir)  # so the warnings land in this run's log folder
    for message in warnings + _not_available_warnings(args):
        logger.warning(message)
    register_research_classes(config, config_path)
    return config


def main(config):
    """Build the context and the Trainer from `config`, then run config.run_mode."""
    # Imported here: they pull in MindSpore and the model zoo, which argument parsing does not need.
    from mindformers.core.context import build_context  # pylint: disable=import-outside-toplevel
    from mindformers.trainer import Trainer  # pylint: disable=import-outside-toplevel

    _check_run_mode(config)
    set_output_path(config.output_dir)
    build_context(config)
    trainer = Trainer(config)
    if config.run_mode == 'train':
        trainer.train()
    elif config.run_mode == 'finetune':
        trainer.finetune(finetune_checkpoint=config.load_checkpoint)
    elif config.run_mode == 'eval':
        trainer.evaluate(eval_checkpoint=config.load_checkpoint)
    elif config.run_mode == 'predict':
        trainer.predict(predict_checkpoint=config.load_checkpoint, input_data=config.input_data,
                        batch_size=config.predict_batch_size)


def _fail(message, code):
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(code)


def cli(argv=None):
    """`python run_mindformer.py ...`: argv (default sys.argv[1:]) -> a run; bad input exits 2 with one line."""
    try:
        args, unknown_args = get_parser().parse_known_args(argv)
        main(load_config(args, unknown_args))
    except (MindFormerError, FileNotFoundError) as error:
        _fail(error, 2)
    except KeyboardInterrupt:
        _fail('interrupted', 130)


if __name__ == '__main__':
    cli()
