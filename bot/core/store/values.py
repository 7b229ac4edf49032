"""Text the databases cannot hold: PostgreSQL refuses NUL in text, and neither driver can
encode a lone UTF-16 surrogate (a platform payload can carry both). They become U+FFFD."""

from __future__ import annotations

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """``value`` with the characters no database can store replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", value)


def storable_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: storable(v) if isinstance(v, str) else v for k, v in values.items()}
