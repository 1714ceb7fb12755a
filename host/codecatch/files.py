"""Writing a file so that a reader sees the old bytes or the new ones, never half."""

import os
import tempfile


def write_atomic(path, data, mode=0o600, folder_mode=0o700):
    """Write bytes or text to a temporary file beside `path`, then rename it over `path`.

    mkstemp creates the file 0600, so a private file is never readable by others, not
    even for a moment; `mode` is applied before the rename. A new folder gets
    `folder_mode`.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=folder_mode, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
