"""Reads an IDX images file (gzip or plain) as float32 [N, C, H, W], the raw byte values."""
import gzip

import numpy as np


def idx_images(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim)]
    pixels = np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8)
    if ndim == 3:
        dims = [dims[0], 1, dims[1], dims[2]]
    return pixels.reshape(dims).astype(np.float32)
