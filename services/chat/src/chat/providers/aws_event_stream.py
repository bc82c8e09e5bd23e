"""AWS event-stream framing (``application/vnd.amazon.eventstream``), the decoding side.

A message is: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes, the
headers, the payload, and a CRC32 of everything before it. A header is: name length (u8),
name, value type (u8), value. Feed the bytes as they arrive; whole messages come out.
"""

import struct
import zlib
from dataclasses import dataclass

_PRELUDE = struct.Struct(">III")
_PRELUDE_LENGTH = 12
_CRC_LENGTH = 4
_MAX_MESSAGE = 16 * 1024 * 1024
# Value types of fixed size: bool true/false, byte, short, int, long, timestamp, uuid.
_FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_BYTES, _STRING = 6, 7


class EventStreamError(Exception):
    """The bytes are not a valid event stream (a cut or corrupted message)."""


@dataclass(frozen=True)
class Message:
    headers: dict[str, str]  # string-valued headers (the ones AWS's :-prefixed headers use)
    payload: bytes


class EventStreamDecoder:
    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= _PRELUDE_LENGTH:
            total, headers_length, prelude_crc = _PRELUDE.unpack_from(self._buffer)
            if zlib.crc32(memoryview(self._buffer)[:8]) != prelude_crc:
                raise EventStreamError("corrupted message prelude")
            if not 16 + headers_length <= total <= _MAX_MESSAGE:
                raise EventStreamError(f"invalid message length {total}")
            if len(self._buffer) < total:
                break
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            messages.append(_decode(message, headers_length))
        return messages

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete."""
        return len(self._buffer)


def _decode(message: bytes, headers_length: int) -> Message:
    body_end = len(message) - _CRC_LENGTH
    (message_crc,) = struct.unpack_from(">I", message, body_end)
    if zlib.crc32(memoryview(message)[:body_end]) != message_crc:
        raise EventStreamError("corrupted message")
    headers_end = _PRELUDE_LENGTH + headers_length
    return Message(
        _decode_headers(message, _PRELUDE_LENGTH, headers_end),
        message[headers_end:body_end],
    )


def _decode_headers(data: bytes, start: int, end: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    at = start
    try:
        while at < end:
            name_length = data[at]
            name = data[at + 1 : at + 1 + name_length].decode()
            kind = data[at + 1 + name_length]
            at += 2 + name_length
            if kind in (_BYTES, _STRING):
                (length,) = struct.unpack_from(">H", data, at)
                if kind == _STRING:
                    headers[name] = data[at + 2 : at + 2 + length].decode()
                at += 2 + length
            elif kind in _FIXED_SIZES:
                at += _FIXED_SIZES[kind]
            else:
                raise EventStreamError(f"unknown header value type {kind}")
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise EventStreamError("invalid headers") from exc
    if at != end:
        raise EventStreamError("invalid headers")
    return headers
