"""Writing files safely: never through a planted symlink, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_replacing(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically with permissions ``mode``.

    The bytes go to a new file created exclusively (``O_EXCL``, a random
    name) in the same directory, which is flushed to disk and then renamed
    over ``path``. A rename replaces whatever is at ``path``, a symlink
    included, without following it: a link planted there cannot redirect the
    write to its target.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
