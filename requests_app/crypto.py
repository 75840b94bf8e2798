"""Encryption at rest of response packages: MultiFernet with keys from the environment.

``RESPONSE_ENCRYPTION_KEYS`` lists Fernet keys, newest first. New files are encrypted with
the first; any listed key decrypts. Rotation: put a new key first, run
``manage.py rotate_response_keys`` (re-encrypts every stored file with the newest key), then
drop the old key (docs/operations.md). Without the variable, outside production only, a key
is derived from ``SECRET_KEY`` so the embedded mode works out of the box; production refuses to
start without the variable (portal/settings.py). An installation that ran on the derived key
migrates with ``rotate_response_keys --from-secret-key``: the derived key then decrypts (never
encrypts) for that one run.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"lrp-response-encryption|" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...], accept_derived: bool) -> MultiFernet:
    material = [k.encode() for k in keys]
    if not material or accept_derived:
        material.append(_derived_key())  # last: MultiFernet encrypts with the first key only
    return MultiFernet([Fernet(k) for k in material])


def fernet(*, accept_derived: bool = False) -> MultiFernet:
    return _fernet(tuple(settings.RESPONSE_ENCRYPTION_KEYS), accept_derived)


def encrypt(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return fernet().decrypt(token)


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` (never overwrite: O_EXCL) readable by its owner only, in a directory of
    its owner only, and write ``data`` durably (fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_encrypted(path: Path, data: bytes) -> None:
    """``data`` encrypted with the newest key, written as ``write_private`` does (raw e-mails,
    response files, uploaded originals)."""
    write_private(path, encrypt(data))


def rotate(token: bytes, *, accept_derived: bool = False) -> bytes:
    return fernet(accept_derived=accept_derived).rotate(token)


def rotate_files(paths: Iterable[Path], *, accept_derived: bool = False) -> int:
    """Re-encrypt each existing file with the newest key, atomically (write aside, then replace),
    keeping it readable by its owner only. Returns how many files were rotated."""
    count = 0
    for path in paths:
        if not path.exists():
            continue
        tmp = path.with_suffix(".rotating")
        tmp.write_bytes(rotate(path.read_bytes(), accept_derived=accept_derived))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        count += 1
    return count
