"""Client order ids, and the short tag that carries one inside an MT5 order.

MT5 has no field for a caller's id; the order comment (31 characters) is the one place the id can
travel with the order to the server and come back in positions, orders and deals. The tag is
``#`` + 10 base-32 characters of a hash of the id (50 bits: no collision among an account's orders in
practice), appended to the user's comment, which is cut to fit.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

MT5_COMMENT_LIMIT = 31
TAG_LENGTH = 11  # "#" + 10 characters
_TAG = re.compile(r"#([A-Z2-7]{10})\b")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_client_id() -> str:
    return uuid.uuid4().hex


def is_valid_client_id(client_id: str) -> bool:
    """Letters, digits and ``._:-``, 1 to 64 characters (a UUID in any of its usual spellings fits)."""
    return bool(_VALID_ID.match(client_id))


def tag_for(client_id: str) -> str:
    digest = hashlib.sha256(client_id.encode("utf-8")).digest()
    return "#" + base64.b32encode(digest).decode("ascii")[:10]


def comment_with_tag(comment: str, tag: str) -> str:
    """``comment`` cut so that ``comment + " " + tag`` fits MT5's 31 characters."""
    room = MT5_COMMENT_LIMIT - TAG_LENGTH - 1
    text = comment.strip()[:room].rstrip()
    return f"{text} {tag}" if text else tag


def has_tag(comment: str, tag: str) -> bool:
    return tag in comment


def without_tag(comment: str) -> str:
    """The trader's own comment, the tag taken off (for showing: the order keeps its tag)."""
    return _TAG.sub("", comment).strip()
