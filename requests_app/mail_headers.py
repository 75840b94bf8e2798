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

The MIME boundary of a multipart e-mail (every notification: text and HTML) is chosen when the
message is serialised (``as_bytes``, which Django's SMTP backend calls): ``email.generator``'s
``_make_boundary`` draws a random boundary and then compiles a new regular expression, the boundary
being new each time, to check that no line of the parts is that boundary; compiling it cost about a
third of serialising a receipt (issue 9 item 5; bench/perf_notes.md, stop 30). ``_Boundary`` draws the
same boundary from the same random numbers and looks for it as a substring first: absent (always, in
practice), no line can be it, so it is the boundary the email package would have chosen; present,
the email package's own check runs. The bytes are the same (tests/notifications/test_subject_encoding.py).
"""

from __future__ import annotations

import random
import re
import sys
from email import base64mime, generator, quoprimime
from email.charset import RFC2047_CHROME_LEN  # type: ignore[attr-defined]
from email.header import MAXLINELEN, Header  # type: ignore[attr-defined]
from io import BytesIO, StringIO
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart

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
    """``EmailMultiAlternatives`` whose Subject is encoded by ``encoded_subject`` and whose MIME
    boundary is chosen by ``_Boundary``: the same message, byte for byte. The Subject is checked as
    Django checks it (no line breaks: header injection)."""

    def message(self) -> Any:
        msg = self._message()
        if type(msg) is SafeMIMEMultipart:
            # The same object, serialised by the generators below (nested parts are flattened by
            # clones of the top-level generator, so they use it too).
            msg.__class__ = _Multipart
        return msg

    def _message(self) -> Any:
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


# email.generator's boundary format: 15 "=", the random token zero-padded, "==".
_TOKEN = f"%0{len(repr(sys.maxsize - 1))}d"


class _Boundary:
    """``email.generator.Generator._make_boundary``, the regular expression compiled only when the
    boundary occurs in the text at all."""

    @classmethod
    def _make_boundary(cls, text: str | bytes | None = None) -> str:
        token = random.randrange(sys.maxsize)  # the email package's draw, from the same generator
        boundary = ("=" * 15) + (_TOKEN % token) + "=="
        if text is None:
            return boundary
        delimiter = "--" + boundary
        if delimiter.encode("ascii") not in text if isinstance(text, bytes) else delimiter not in text:
            return boundary  # not in the text, so not a line of it
        # The email package's own loop (Python 3.11-3.13): a line of the text is the boundary.
        found, counter = boundary, 0
        while cls._compile_re("^--" + re.escape(found) + "(--)?$", re.MULTILINE).search(text):  # type: ignore[attr-defined]
            found = boundary + "." + str(counter)
            counter += 1
        return found


class _Generator(_Boundary, generator.Generator):
    pass


class _BytesGenerator(_Boundary, generator.BytesGenerator):
    pass


class _Multipart(SafeMIMEMultipart):
    """Django's multipart message (``MIMEMixin``: "From " lines not mangled), serialised by the
    generators choosing the boundary with ``_Boundary``."""

    # Django's MIMEMixin signature (the stubs ignore its override of email.message.Message's).
    def as_string(self, unixfrom: bool = False, linesep: str = "\n") -> str:  # type: ignore[override]
        fp = StringIO()
        _Generator(fp, mangle_from_=False).flatten(self, unixfrom=unixfrom, linesep=linesep)
        return fp.getvalue()

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:  # type: ignore[override]
        fp = BytesIO()
        _BytesGenerator(fp, mangle_from_=False).flatten(self, unixfrom=unixfrom, linesep=linesep)
        return fp.getvalue()
