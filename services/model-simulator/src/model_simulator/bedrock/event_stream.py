"""AWS event-stream framing (``application/vnd.amazon.eventstream``), the encoding side.

A message is: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes, the
headers, the payload, and a CRC32 of everything before it. A header is: name length (u8),
name, value type (7 = string), value length (u16 BE), value.
"""

import json
import struct
import zlib
from functools import cache
from typing import Any

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING_VALUE = 7
_PRELUDE_AND_CRCS = 16


def event(event_type: str, payload: dict[str, Any]) -> bytes:
    return _message(_event_headers(event_type), payload)


def exception(exception_type: str, payload: dict[str, Any]) -> bytes:
    """An in-stream exception; ``exception_type`` is the stream member, e.g. throttlingException."""
    return _message(_exception_headers(exception_type), payload)


@cache
def _event_headers(event_type: str) -> bytes:
    return _headers(
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    )


@cache
def _exception_headers(exception_type: str) -> bytes:
    return _headers(
        (":exception-type", exception_type),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    )


def _headers(*pairs: tuple[str, str]) -> bytes:
    encoded = bytearray()
    for name, value in pairs:
        name_bytes, value_bytes = name.encode(), value.encode()
        encoded += struct.pack(">B", len(name_bytes)) + name_bytes
        encoded += struct.pack(">BH", _STRING_VALUE, len(value_bytes)) + value_bytes
    return bytes(encoded)


def _message(headers: bytes, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    prelude = struct.pack(">II", _PRELUDE_AND_CRCS + len(headers) + len(body), len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))
