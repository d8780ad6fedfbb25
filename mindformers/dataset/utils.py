"""check_dataset_config: copy the run-level settings into the dataset sections, as upstream's trainers do."""


def check_dataset_config(config):
    """For `train_dataset` and `eval_dataset` (if present): do_eval, seed, auto_tune settings, profile and the runner
    batch size go into the section, mixup's num_classes from runner_config, output_columns default to
    input_columns, and the section becomes its task's dataset_config."""
    for section, do_eval in (('train_dataset', False), ('eval_dataset', True)):
        data = config.get(section)
        if data is None:
            continue
        data.do_eval = do_eval
        data.seed = config.seed
        data.auto_tune = config.auto_tune
        data.filepath_prefix = config.filepath_prefix
        data.autotune_per_step = config.autotune_per_step
        data.profile = config.profile
        runner = config.runner_config
        if runner is not None and runner.batch_size is not None:
            data.batch_size = runner.batch_size
        if not do_eval and data.mixup_op and runner is not None:
            data.mixup_op.num_classes = runner.num_classes
        if data.output_columns is None:
            data.output_columns = data.input_columns
        task = config.get(f'{section}_task')
        if task is not None:
            task.dataset_config = data


def check_dataset_iterable(dataset):
    """True for an object a GeneratorDataset can read: iterable, indexable, or a generator function."""
    import inspect  # pylint: disable=import-outside-toplevel
    return hasattr(dataset, '__iter__') or hasattr(dataset, '__getitem__') or inspect.isgeneratorfunction(dataset)
