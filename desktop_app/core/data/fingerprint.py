"""What a file holds, as a short content digest, and when a file may have changed.

A photo's digest is what a run records in its split and what the embedding store keys
on. Size and modification time are not enough to tell that a file changed (a copy can
keep the time of the file it replaced), so a stamp also holds the change time and the
inode, and a cached digest is trusted only with the stamp it was computed under.
No Qt, no TensorFlow.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DIGEST_SIZE = 16  # bytes of BLAKE2b: 32 hex digits, plenty for a dataset or a weights folder
_CHUNK = 1 << 20


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).hexdigest()


def stamp(path: Path) -> list[int] | None:
    """Size, modification and change times, inode: what changes whenever the content may have."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def digest_file(path: Path) -> str:
    """The digest of a file's bytes, read in chunks."""
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()
