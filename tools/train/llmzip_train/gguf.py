"""GGUF files: a reader and a writer for the subset llmzip's tools need.

Layout (GGUF v3, little-endian): magic "GGUF", version u32, tensor count
u64, key/value count u64, the key/values, the tensor infos (name, dims
innermost first, ggml type, offset into the data section), padding to the
alignment, then the tensor data, each tensor at an aligned offset.

Tensors are handed out as numpy arrays in row-major order, so a ggml tensor
with dims (ne0, ne1) becomes an array of shape (ne1, ne0): for a weight
matrix that is (out_features, in_features), the layout torch.nn.Linear uses.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GGUF"
VERSION = 3
DEFAULT_ALIGNMENT = 32

# Value types of the key/value section.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
_SCALAR = {
    T_UINT8: "B", T_INT8: "b", T_UINT16: "H", T_INT16: "h", T_UINT32: "I", T_INT32: "i",
    T_FLOAT32: "f", T_BOOL: "?", T_UINT64: "Q", T_INT64: "q", T_FLOAT64: "d",
}

# ggml tensor types this module reads and writes.
GGML_F32, GGML_F16, GGML_Q8_0 = 0, 1, 8
Q8_0_BLOCK = 32
_TYPE_NAMES = {GGML_F32: "F32", GGML_F16: "F16", GGML_Q8_0: "Q8_0"}


@dataclass
class Value:
    """A typed metadata value (the type matters to llama.cpp: e.g. u32 vs i32)."""

    type: int
    value: Any
    item_type: int | None = None  # element type when type == T_ARRAY


@dataclass
class Tensor:
    name: str
    ggml_type: int
    dims: tuple[int, ...]  # ggml order: innermost (contiguous) first
    data: np.ndarray  # float32 array of shape reversed(dims), or raw bytes for unknown types

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(reversed(self.dims))


@dataclass
class GGUFFile:
    meta: dict[str, Value] = field(default_factory=dict)
    tensors: dict[str, Tensor] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        v = self.meta.get(key)
        return default if v is None else v.value

    def tensor(self, name: str) -> np.ndarray:
        return self.tensors[name].data


# ---------------------------------------------------------------- reading


class _Reader:
    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.buf):
            raise ValueError("GGUF file is truncated")
        out = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += size
        return out[0] if len(out) == 1 else out

    def string(self) -> str:
        n = self.take("Q")
        if self.pos + n > len(self.buf):
            raise ValueError("GGUF file is truncated")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t: int) -> Value:
        if t in _SCALAR:
            return Value(t, self.take(_SCALAR[t]))
        if t == T_STRING:
            return Value(t, self.string())
        if t == T_ARRAY:
            item = self.take("I")
            n = self.take("Q")
            if item in _SCALAR:
                fmt = _SCALAR[item]
                size = struct.calcsize(fmt)
                arr = list(struct.unpack_from("<" + fmt * n, self.buf, self.pos))
                self.pos += size * n
            elif item == T_STRING:
                arr = [self.string() for _ in range(n)]
            else:
                raise ValueError(f"unsupported GGUF array element type {item}")
            return Value(t, arr, item)
        raise ValueError(f"unsupported GGUF value type {t}")


def _f16_to_f32(raw: np.ndarray) -> np.ndarray:
    return raw.view(np.float16).astype(np.float32)


def _decode(ggml_type: int, raw: bytes, count: int) -> np.ndarray:
    if ggml_type == GGML_F32:
        return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
    if ggml_type == GGML_F16:
        return _f16_to_f32(np.frombuffer(raw, dtype="<u2", count=count).copy())
    if ggml_type == GGML_Q8_0:
        blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2 + Q8_0_BLOCK)
        d = _f16_to_f32(blocks[:, :2].copy().view("<u2").reshape(-1))
        q = blocks[:, 2:].view(np.int8).astype(np.float32)
        return (q * d[:, None]).reshape(-1)[:count]
    raise ValueError(f"unsupported ggml tensor type {ggml_type}")


def _nbytes(ggml_type: int, count: int) -> int:
    if ggml_type == GGML_F32:
        return 4 * count
    if ggml_type == GGML_F16:
        return 2 * count
    if ggml_type == GGML_Q8_0:
        if count % Q8_0_BLOCK:
            raise ValueError("Q8_0 tensor size is not a multiple of 32")
        return count // Q8_0_BLOCK * (2 + Q8_0_BLOCK)
    raise ValueError(f"unsupported ggml tensor type {ggml_type}")


def read(path: str) -> GGUFFile:
    """Reads a whole GGUF file (metadata and F32/F16/Q8_0 tensors, dequantized to float32)."""
    with open(path, "rb") as f:
        buf = f.read()
    r = _Reader(buf)
    if buf[:4] != MAGIC:
        raise ValueError(f"{path} is not a GGUF file")
    r.pos = 4
    version = r.take("I")
    if version not in (2, 3):
        raise ValueError(f"{path}: unsupported GGUF version {version}")
    n_tensors = r.take("Q")
    n_kv = r.take("Q")
    out = GGUFFile()
    for _ in range(n_kv):
        key = r.string()
        out.meta[key] = r.value(r.take("I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.take("I")
        dims = tuple(r.take("Q") for _ in range(n_dims))
        infos.append((name, dims, r.take("I"), r.take("Q")))
    align = out.get("general.alignment", DEFAULT_ALIGNMENT)
    start = (r.pos + align - 1) // align * align
    for name, dims, ggml_type, offset in infos:
        count = int(np.prod(dims)) if dims else 1
        size = _nbytes(ggml_type, count)
        lo = start + offset
        if lo + size > len(buf):
            raise ValueError(f"{path}: tensor {name} lies outside the file")
        data = _decode(ggml_type, buf[lo:lo + size], count).reshape(tuple(reversed(dims)))
        out.tensors[name] = Tensor(name, ggml_type, dims, data)
    return out


# ---------------------------------------------------------------- writing


def _f32_to_f16_bits(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).view("<u2")


def quantize_q8_0(x: np.ndarray) -> bytes:
    """ggml's reference Q8_0: per block of 32, d = max|x| / 127 (stored as f16), q = round(x / d)."""
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, Q8_0_BLOCK)
    amax = np.abs(flat).max(axis=1)
    d = amax / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    # roundf rounds halves away from zero; numpy's rint would round them to even.
    scaled = flat * inv[:, None]
    q = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int8)
    blocks = np.empty((flat.shape[0], 2 + Q8_0_BLOCK), dtype=np.uint8)
    blocks[:, :2] = _f32_to_f16_bits(d).reshape(-1, 1).view(np.uint8).reshape(-1, 2)
    blocks[:, 2:] = q.view(np.uint8)
    return blocks.tobytes()


def _encode(ggml_type: int, data: np.ndarray) -> bytes:
    if ggml_type == GGML_F32:
        return np.ascontiguousarray(data, dtype="<f4").tobytes()
    if ggml_type == GGML_F16:
        return _f32_to_f16_bits(np.ascontiguousarray(data, dtype=np.float32)).tobytes()
    if ggml_type == GGML_Q8_0:
        return quantize_q8_0(data)
    raise ValueError(f"unsupported ggml tensor type {ggml_type}")


def _pack_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _pack_value(v: Value) -> bytes:
    head = struct.pack("<I", v.type)
    if v.type in _SCALAR:
        return head + struct.pack("<" + _SCALAR[v.type], v.value)
    if v.type == T_STRING:
        return head + _pack_string(v.value)
    if v.type == T_ARRAY:
        item = v.item_type
        body = struct.pack("<IQ", item, len(v.value))
        if item in _SCALAR:
            body += struct.pack("<" + _SCALAR[item] * len(v.value), *v.value)
        elif item == T_STRING:
            body += b"".join(_pack_string(s) for s in v.value)
        else:
            raise ValueError(f"unsupported GGUF array element type {item}")
        return head + body
    raise ValueError(f"unsupported GGUF value type {v.type}")


def write(path: str, meta: dict[str, Value], tensors: list[tuple[str, np.ndarray, int]]) -> None:
    """Writes a GGUF v3 file. `tensors`: (name, row-major float array, ggml type), in file order."""
    align = DEFAULT_ALIGNMENT
    if "general.alignment" in meta:
        align = meta["general.alignment"].value
    blobs = []
    infos = b""
    offset = 0
    for name, data, ggml_type in tensors:
        arr = np.asarray(data, dtype=np.float32)
        dims = tuple(reversed(arr.shape)) if arr.ndim else (1,)
        if ggml_type == GGML_Q8_0 and dims[0] % Q8_0_BLOCK:
            raise ValueError(f"{name}: Q8_0 needs rows that are a multiple of 32 (got {dims[0]})")
        blob = _encode(ggml_type, arr)
        infos += _pack_string(name) + struct.pack("<I", len(dims)) + struct.pack("<" + "Q" * len(dims), *dims)
        infos += struct.pack("<IQ", ggml_type, offset)
        pad = (-len(blob)) % align
        blobs.append(blob + b"\0" * pad)
        offset += len(blob) + pad
    head = MAGIC + struct.pack("<IQQ", VERSION, len(tensors), len(meta))
    head += b"".join(_pack_string(k) + _pack_value(v) for k, v in meta.items())
    head += infos
    head += b"\0" * ((-len(head)) % align)
    with open(path + ".tmp", "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    os.replace(path + ".tmp", path)


def type_name(ggml_type: int) -> str:
    return _TYPE_NAMES.get(ggml_type, str(ggml_type))


def s(value: str) -> Value:
    return Value(T_STRING, value)


def u32(value: int) -> Value:
    return Value(T_UINT32, int(value))


def i32(value: int) -> Value:
    return Value(T_INT32, int(value))


def f32(value: float) -> Value:
    return Value(T_FLOAT32, float(value))


def boolean(value: bool) -> Value:
    return Value(T_BOOL, bool(value))


def str_array(values: list[str]) -> Value:
    return Value(T_ARRAY, list(values), T_STRING)


def f32_array(values: list[float]) -> Value:
    return Value(T_ARRAY, [float(v) for v in values], T_FLOAT32)


def i32_array(values: list[int]) -> Value:
    return Value(T_ARRAY, [int(v) for v in values], T_INT32)

