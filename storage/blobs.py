"""Compact float32 blobs for cube points and latent vectors, validated on the way in and out."""

from __future__ import annotations

import numpy as np

from storage.errors import BadBlob

# Little-endian on disk whatever the host, so a database file moves between machines.
_DTYPE = np.dtype("<f4")


def to_blob(vector: np.ndarray, length: int, what: str) -> bytes:
    """Serialise a 1-D finite vector of exactly `length` floats; raise BadBlob otherwise."""
    arr = np.asarray(vector)
    if arr.ndim != 1:
        raise BadBlob(f"{what} must be a 1-D vector, got shape {arr.shape}")
    if arr.shape[0] != length:
        raise BadBlob(f"{what} has {arr.shape[0]} values, this session expects {length}")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise BadBlob(f"{what} must hold real numbers, got dtype {arr.dtype}")
    with np.errstate(over="ignore"):  # overflow becomes inf, refused just below
        out = arr.astype(_DTYPE)  # a copy: the caller's array is never touched
    if not np.all(np.isfinite(out)):
        raise BadBlob(f"{what} contains NaN or infinite values (or values beyond float32)")
    return out.tobytes()


def from_blob(blob: bytes, length: int, what: str) -> np.ndarray:
    """Decode a stored blob into a read-only float32 vector; raise BadBlob on a length mismatch."""
    if len(blob) != length * _DTYPE.itemsize:
        raise BadBlob(
            f"stored {what} has {len(blob)} bytes, expected {length * _DTYPE.itemsize} "
            f"({length} float32 values)"
        )
    out = np.frombuffer(blob, dtype=_DTYPE).astype(np.float32)  # (length,) native float32
    out.flags.writeable = False  # rows are frozen; their arrays too
    return out


def vector_length(vector: np.ndarray, what: str) -> int:
    """The length of a 1-D vector (how a session's first album fixes its dimensions)."""
    arr = np.asarray(vector)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise BadBlob(f"{what} must be a non-empty 1-D vector, got shape {arr.shape}")
    return int(arr.shape[0])
