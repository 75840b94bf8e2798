"""The Subject of an e-mail encoded as Django's mail gives it, without the email package's brute force.

Django (``django.core.mail.message.forbid_multi_line_headers``) encodes a non-ASCII Subject with
``email.header.Header(value, "utf-8").encode()``. Its splitter (``email.charset.Charset.
header_encode_lines``) re-encodes the whole growing prefix for every character of the value to
find where an RFC 2047 encoded-word must end: quadratic, and the largest single cost of sending a
receipt in French or German (issue 9 item 5). Both encodings it can pick have a length that grows
by a known amount per character (Q: 1 or 3 per octet; B: 4 per 3 octets), so the same split
points come from one pass. ``encoded_subject`` returns exactly the string ``Header`` returns
(tests/notifications/test_subject_encoding.py compares them over generated values); anything
outside the case it covers is handed to ``Header`` itself.
"""

from __future__ import annotations

from email import base64mime, quoprimime
from email.charset import RFC2047_CHROME_LEN  # type: ignore[attr-defined]
from email.header import MAXLINELEN, Header  # type: ignore[attr-defined]
from typing import Any

from django.core.mail import EmailMultiAlternatives

_CHARSET = "utf-8"
# RFC 2047 "=?utf-8?q?" + "?=": what each encoded-word adds around its encoded octets.
_CHROME = RFC2047_CHROME_LEN + len(_CHARSET)
# email.header.Header's default line length (no header name) and its continuation (" ").
_FIRST_LINE = MAXLINELEN - _CHROME
_NEXT_LINE = MAXLINELEN - 1 - _CHROME
# The Q-encoded length of each octet (1, or 3 for "=XX").
_Q_LENGTH = [quoprimime.header_length(bytes([octet])) for octet in range(256)]


def _q(octets: bytes) -> str:
    return str(quoprimime.header_encode(octets, charset=_CHARSET))


def _b(octets: bytes) -> str:
    return str(base64mime.header_encode(octets, charset=_CHARSET))


def encoded_subject(value: str) -> str:
    """``email.header.Header(value, "utf-8").encode()``, computed in one pass."""
    if not value or value.splitlines() != [value] or value.isascii():
        return Header(value, _CHARSET).encode()
    try:
        whole = value.encode(_CHARSET)
    except UnicodeEncodeError:  # a lone surrogate: the email package's own handling
        return Header(value, _CHARSET).encode()
    # Charset._get_encoder for SHORTEST: base64 only when strictly shorter.
    groups, rest = divmod(len(whole), 3)
    base64_wins = groups * 4 + (4 if rest else 0) < sum(_Q_LENGTH[octet] for octet in whole)
    words: list[bytes] = []
    current: list[bytes] = []
    limit, length, count = _FIRST_LINE, 0, 0  # length of the Q-encoded line, or octets for B
    for character in value:
        octets = character.encode(_CHARSET)
        if base64_wins:
            count_after = count + len(octets)
            grows_to = (count_after // 3) * 4 + (4 if count_after % 3 else 0)
        else:
            grows_to = length + sum(_Q_LENGTH[octet] for octet in octets)
        if grows_to > limit:
            if not current:  # nothing fits on the first line: not reached with these limits
                return Header(value, _CHARSET).encode()
            words.append(b"".join(current))
            current, limit = [octets], _NEXT_LINE
            count = len(octets)
            length = sum(_Q_LENGTH[octet] for octet in octets)
        else:
            current.append(octets)
            count, length = count + len(octets), grows_to if not base64_wins else length
    words.append(b"".join(current))
    encode = _b if base64_wins else _q
    return "\n ".join(encode(word) for word in words)


class NotificationMail(EmailMultiAlternatives):
    """``EmailMultiAlternatives`` whose Subject is encoded by ``encoded_subject``: the same message,
    byte for byte. The value is checked as Django checks it (no line breaks: header injection)."""

    def message(self) -> Any:
        subject = str(self.subject)
        encoding = (self.encoding or _default_charset()).lower()
        if subject.isascii() or encoding != _CHARSET:
            return super().message()
        if "\n" in subject or "\r" in subject:
            return super().message()  # Django raises BadHeaderError
        self.subject = ""
        try:
            msg = super().message()
        finally:
            self.subject = subject
        msg.replace_header("Subject", encoded_subject(subject))
        return msg


def _default_charset() -> str:
    from django.conf import settings

    return str(settings.DEFAULT_CHARSET)
