"""Thrift's compact protocol, the encoding of Parquet's file and page headers.

Only what Parquet metadata uses: structs of i32 / i64 / binary / bool / list /
struct fields. A struct is written from a list of (field id, type, value) and
read back as a dict {field id: value}, so the Parquet module names its fields
by the ids of parquet.thrift and nothing here knows about Parquet.

Wire format (Apache Thrift, "compact protocol"): integers are zigzag varints;
a field header is one byte (delta from the previous field id << 4 | type)
when the delta is 1..15, else the type byte then the id as a zigzag varint; a
struct ends with a 0 byte; booleans live in the field header's type nibble; a
list header is (size << 4 | element type), or 0xF0 | type then the size as a
varint when the size is 15 or more.
"""

from __future__ import annotations

import struct
from typing import Any

BOOL_TRUE = 1
BOOL_FALSE = 2
BYTE = 3
I16 = 4
I32 = 5
I64 = 6
DOUBLE = 7
BINARY = 8
LIST = 9
SET = 10
MAP = 11
STRUCT = 12
# Our name for a boolean field when writing; on the wire it becomes 1 or 2.
BOOL = 100

Field = tuple[int, int, Any]  # (field id, type, value); value None = field absent


class ThriftError(ValueError):
    """Bytes that are not valid compact-protocol Thrift (a corrupt or foreign file)."""


# -- writing -----------------------------------------------------------------------------


def _varint(value: int, out: bytearray) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def write_struct(fields: list[Field], out: bytearray | None = None) -> bytearray:
    """Append one struct (fields in ascending id order, None values skipped) to `out`."""
    out = bytearray() if out is None else out
    last = 0
    for fid, kind, value in fields:
        if value is None:
            continue
        wire = (BOOL_TRUE if value else BOOL_FALSE) if kind == BOOL else kind
        delta = fid - last
        if 0 < delta <= 15:
            out.append((delta << 4) | wire)
        else:
            out.append(wire)
            _varint(_zigzag(fid), out)
        last = fid
        if kind != BOOL:
            _write_value(kind, value, out)
    out.append(0)
    return out


def _write_value(kind: int, value: Any, out: bytearray) -> None:
    if kind in (I16, I32, I64):
        _varint(_zigzag(int(value)), out)
    elif kind == BINARY:
        data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        _varint(len(data), out)
        out += data
    elif kind == DOUBLE:
        out += struct.pack("<d", value)
    elif kind == STRUCT:
        write_struct(value, out)
    elif kind == LIST:
        element, items = value
        wire = BOOL_TRUE if element == BOOL else element
        if len(items) < 15:
            out.append((len(items) << 4) | wire)
        else:
            out.append(0xF0 | wire)
            _varint(len(items), out)
        for item in items:
            if element == BOOL:
                out.append(BOOL_TRUE if item else BOOL_FALSE)
            else:
                _write_value(element, item, out)
    else:
        raise ThriftError(f"cannot write thrift type {kind}")


# -- reading -----------------------------------------------------------------------------


class Reader:
    """Reads compact-protocol values from `data` starting at `pos`."""

    def __init__(self, data: bytes | memoryview, pos: int = 0) -> None:
        self.data = memoryview(data)
        self.pos = pos

    def _byte(self) -> int:
        if self.pos >= len(self.data):
            raise ThriftError("unexpected end of thrift data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            byte = self._byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ThriftError("varint longer than 10 bytes")

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def read_struct(self) -> dict[int, Any]:
        """One struct as {field id: value}; nested structs are dicts, lists are lists."""
        fields: dict[int, Any] = {}
        last = 0
        while True:
            header = self._byte()
            if header == 0:
                return fields
            kind = header & 0x0F
            delta = header >> 4
            fid = last + delta if delta else self.zigzag()
            last = fid
            if kind in (BOOL_TRUE, BOOL_FALSE):
                fields[fid] = kind == BOOL_TRUE
            else:
                fields[fid] = self._value(kind)

    def _value(self, kind: int) -> Any:
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == BYTE:
            return self._byte()
        if kind == BINARY:
            size = self.varint()
            end = self.pos + size
            if end > len(self.data):
                raise ThriftError("binary field runs past the end of the data")
            value = bytes(self.data[self.pos : end])
            self.pos = end
            return value
        if kind == DOUBLE:
            if self.pos + 8 > len(self.data):
                raise ThriftError("double runs past the end of the data")
            (value,) = struct.unpack_from("<d", self.data, self.pos)
            self.pos += 8
            return value
        if kind == STRUCT:
            return self.read_struct()
        if kind in (LIST, SET):
            header = self._byte()
            size = header >> 4
            element = header & 0x0F
            if size == 15:
                size = self.varint()
            if element in (BOOL_TRUE, BOOL_FALSE):
                return [self._byte() == BOOL_TRUE for _ in range(size)]
            return [self._value(element) for _ in range(size)]
        if kind == MAP:
            size = self.varint()
            if size == 0:
                return {}
            types = self._byte()
            key_kind, value_kind = types >> 4, types & 0x0F
            return {self._value(key_kind): self._value(value_kind) for _ in range(size)}
        raise ThriftError(f"unknown thrift compact type {kind}")
