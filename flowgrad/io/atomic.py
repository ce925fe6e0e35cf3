"""Atomic file writes: a new file next to the target, flushed and fsynced, then renamed over it,
so a crash at any moment leaves the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from typing import IO

__all__ = ["atomic_write"]


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; there the rename alone has to do
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the data itself is synced
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes], str], None]) -> None:
    """Call ``write(file, temp_path)`` on a new file next to ``path``, then move it over ``path``.

    The temporary file is flushed and fsynced before ``os.replace`` and the folder after, so
    a crash at any moment leaves the old file or the new one, never a torn one. On any error
    the temporary file is removed and ``path`` is untouched.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write(os.path.join(d, "note.txt"), lambda f, temp: f.write(b"hello"))
    ...     os.listdir(d), open(os.path.join(d, "note.txt"), "rb").read()
    (['note.txt'], b'hello')
    """
    target = os.path.abspath(os.fspath(path))
    folder, base = os.path.split(target)
    temp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 (not mkstemp's 0o600) so the file gets the permissions the umask gives.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        mode = os.fstat(fd).st_mode
        with os.fdopen(fd, "wb") as f:
            write(f, temp)
            f.flush()
        # Reopen by name to sync: the safetensors package writes its own temporary file (mode
        # 0o600) and renames it onto ours, so our handle may no longer be the file at `temp`.
        with open(temp, "rb+") as f:
            if os.fstat(f.fileno()).st_mode != mode:
                os.chmod(temp, mode & 0o7777)
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)
