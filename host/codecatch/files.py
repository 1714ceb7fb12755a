"""Files and folders of this user's: a file written so that a reader sees the old bytes
or the new ones, never half; a folder that only this user can use."""

import os
import stat


class NotPrivate(OSError):
    """A folder that is not this user's own (a link, not a folder, another user's)."""


def private_dir(path):
    """Create `path` 0700; an existing one must be a folder of this user's, not a link,
    and is set back to 0700. Another user who could write there could plant what we
    later read (an advertise file, a token cache)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    if os.name != "posix":
        return path  # per-user profile folders; POSIX modes do not apply
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise NotPrivate(f"{path} is a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        raise NotPrivate(f"{path} is not a folder")
    if st.st_uid != os.getuid():
        raise NotPrivate(f"{path} belongs to another user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def write_atomic(path, data, mode=0o600, folder_mode=0o700):
    """Write bytes or text to a temporary file beside `path`, then rename it over `path`.

    mkstemp creates the file 0600, so a private file is never readable by others, not
    even for a moment; `mode` is applied before the rename. A new folder gets
    `folder_mode`.
    """
    import tempfile

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
