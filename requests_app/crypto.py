"""Encryption at rest of response packages: MultiFernet with keys from the environment.

``RESPONSE_ENCRYPTION_KEYS`` lists Fernet keys, newest first. New files are encrypted with
the first; any listed key decrypts. Rotation: put a new key first, run
``manage.py rotate_response_keys`` (re-encrypts every stored file with the newest key), then
drop the old key (docs/operations.md). Without the variable, a key is derived from
``SECRET_KEY`` so the embedded mode works out of the box.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _derived_key() -> bytes:
    digest = hashlib.sha256(b"lrp-response-encryption|" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    material = [k.encode() for k in keys] or [_derived_key()]
    return MultiFernet([Fernet(k) for k in material])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.RESPONSE_ENCRYPTION_KEYS))


def encrypt(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt(token: bytes) -> bytes:
    return fernet().decrypt(token)


def rotate(token: bytes) -> bytes:
    return fernet().rotate(token)
