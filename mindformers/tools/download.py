"""Where named checkpoints live (./checkpoint_download/<family>/<name>.ckpt) and how they are fetched."""
import os

from mindformers.tools.errors import CheckpointError


def checkpoint_download_root():
    return os.getenv('CHECKPOINT_DOWNLOAD_FOLDER', './checkpoint_download')


def named_checkpoint_path(name):
    family = name.split('/')[-1].split('_')[0]
    return os.path.join(checkpoint_download_root(), family, f"{name.split('/')[-1]}.ckpt")


def resolve_named_checkpoint(name):
    """A model name -> its cached .ckpt path; a name that is neither a file nor cached is an error."""
    path = named_checkpoint_path(name)
    if os.path.isfile(path):
        return path
    raise CheckpointError(f"checkpoint '{name}' is not a file and is not cached at {path}; hub downloads are not "
                          f"available in this build: place the .ckpt file at that path or give a file path")
