"""One way to write a file at rest (crypto.write_encrypted / write_private): exclusive create,
owner-only permissions, encrypted with the newest key; used for raw e-mails, response files
and uploaded originals."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from requests_app import crypto
from requests_app.mailbox import store
from requests_app.services import attachments, delivery


def test_write_encrypted_is_owner_only_exclusive_and_decrypts(tmp_path):
    path = tmp_path / "ab" / "abcdef"
    crypto.write_encrypted(path, b"evidence")
    assert crypto.decrypt(path.read_bytes()) == b"evidence"
    assert b"evidence" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(FileExistsError):
        crypto.write_encrypted(path, b"other")  # never overwrites
    assert crypto.decrypt(path.read_bytes()) == b"evidence"


@pytest.mark.parametrize("module", [store, delivery, attachments], ids=lambda m: m.__name__)
def test_the_three_stores_have_no_writer_of_their_own(module):
    source = Path(module.__file__).read_text(encoding="utf-8")
    assert "os.open(" not in source and "O_EXCL" not in source
    assert "crypto.write_encrypted(" in source


def test_mailbox_and_delivery_write_through_crypto(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = str(tmp_path)
    mail = store._write_encrypted(b"From: a@b\r\n\r\nhello")
    response = delivery._write_encrypted(b"record")
    assert crypto.decrypt(store.storage_path(mail).read_bytes()).endswith(b"hello")
    assert crypto.decrypt(delivery.response_path(response).read_bytes()) == b"record"
    for path in (store.storage_path(mail), delivery.response_path(response)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
