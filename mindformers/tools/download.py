"""Where named checkpoints live (./checkpoint_download/<family>/<name>.ckpt) and how they are fetched."""
import os
import tempfile
import urllib.error
import urllib.request

from mindformers.tools.errors import CheckpointError

DOWNLOAD_TIMEOUT = 30


def checkpoint_download_root():
    return os.getenv('CHECKPOINT_DOWNLOAD_FOLDER', './checkpoint_download')


def named_file_folder(name):
    """<root>/<family>/ for `llama2_7b`, <root>/mindspore/<family>/ for Xihe names `mindspore/<name>`."""
    base = name.split('/')[-1]
    family = base.split('_')[0]
    if name.startswith('mindspore/'):
        return os.path.join(checkpoint_download_root(), 'mindspore', family)
    return os.path.join(checkpoint_download_root(), family)


def named_checkpoint_path(name):
    return os.path.join(named_file_folder(name), f"{name.split('/')[-1]}.ckpt")


def named_config_path(name):
    return os.path.join(named_file_folder(name), f"{name.split('/')[-1]}.yaml")


def download_with_progress_bar(url, path, timeout=DOWNLOAD_TIMEOUT):
    """Fetch `url` into `path` with a tqdm bar; written to a temp file first, so a failure leaves nothing.

    Raises CheckpointError naming the URL and the path to place the file at when the fetch fails.
    """
    from tqdm import tqdm  # pylint: disable=import-outside-toplevel
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp_path = tempfile.mkstemp(prefix='.download_', dir=folder)
    try:
        try:
            with os.fdopen(handle, 'wb') as out, urllib.request.urlopen(url, timeout=timeout) as response:
                total = int(response.headers.get('Content-Length') or 0) or None
                with tqdm(total=total, unit='B', unit_scale=True, desc=os.path.basename(path)) as bar:
                    while True:
                        chunk = response.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, 'reason', err)
            raise CheckpointError(f"cannot download {url} ({reason}); download it yourself and place it at "
                                  f"{os.path.abspath(path)}") from None
        if total is not None and os.path.getsize(tmp_path) != total:
            raise CheckpointError(f"download of {url} stopped after {os.path.getsize(tmp_path)} of {total} bytes; "
                                  f"download it yourself and place it at {os.path.abspath(path)}")
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
    return path


def resolve_named_checkpoint(name):
    """A model name -> its cached .ckpt path, downloaded from MindFormerBook's URL table when absent.

    A file already at the path is used without any network access.
    """
    from mindformers.mindformer_book import MindFormerBook  # pylint: disable=import-outside-toplevel
    path = named_checkpoint_path(name)
    if os.path.isfile(path):
        return path
    urls = MindFormerBook.get_model_ckpt_url_list().get(name)
    if not urls:
        raise CheckpointError(f"checkpoint '{name}' is not a file, is not cached at {os.path.abspath(path)} and has "
                              f"no download URL; place the .ckpt file at that path or give a file path")
    return download_with_progress_bar(urls[0], path)
