"""Writes the NumPy fixtures the datasets tests read: `python3 make_fixtures.py <out dir>`.

The checked-in copies beside this script were written by it (NumPy 2.4); the tests also run it
into a temp directory whenever `import numpy` works, so files from the installed NumPy are read
too. Values follow one formula the tests recompute: element k of an image array (C order) is
(k % 251) / 250 for floats and k % 256 for uint8; training label i is i % 3, test label i is
(2 i + 1) % 3.
"""
import os
import sys

import numpy as np
from numpy.lib import format as npy_format

TRAIN, TEST = 12, 6


def images(n, shape, dtype):
    k = np.arange(n * int(np.prod(shape)))
    v = k % 256 if np.dtype(dtype).kind == "u" else (k % 251) / 250
    return v.reshape((n, *shape)).astype(dtype)


def labels(n, dtype, test=False):
    i = np.arange(n)
    return ((2 * i + 1) % 3 if test else i % 3).astype(dtype)


def save(path, array, version):
    with open(path, "wb") as f:
        npy_format.write_array(f, array, version=version)


def main(out):
    # npy_v1: what np.save writes by default (format 1.0), little-endian float32, int64 labels.
    d = os.path.join(out, "npy_v1")
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "x_train.npy"), images(TRAIN, (4, 4, 3), "<f4"))
    np.save(os.path.join(d, "y_train.npy"), labels(TRAIN, "<i8"))
    np.save(os.path.join(d, "x_test.npy"), images(TEST, (4, 4, 3), "<f4"))
    np.save(os.path.join(d, "y_test.npy"), labels(TEST, "<i8", test=True))

    # npy_v3_be: format 3.0 and 2.0 headers, big-endian float64 grayscale images and int64 labels.
    d = os.path.join(out, "npy_v3_be")
    os.makedirs(d, exist_ok=True)
    save(os.path.join(d, "x_train.npy"), images(TRAIN, (4, 4), ">f8"), (3, 0))
    save(os.path.join(d, "y_train.npy"), labels(TRAIN, ">i8"), (2, 0))
    save(os.path.join(d, "x_test.npy"), images(TEST, (4, 4), ">f8"), (3, 0))
    save(os.path.join(d, "y_test.npy"), labels(TEST, ">i8", test=True), (3, 0))

    # stored.npz: np.savez (entries stored), uint8 images, int32 labels shaped (N, 1) as Keras returns them.
    np.savez(
        os.path.join(out, "stored.npz"),
        x_train=images(TRAIN, (4, 4, 3), np.uint8),
        y_train=labels(TRAIN, "<i4").reshape(-1, 1),
        x_test=images(TEST, (4, 4, 3), np.uint8),
        y_test=labels(TEST, "<i4", test=True).reshape(-1, 1),
    )

    # deflated.npz: np.savez_compressed, other array names, flat uint8 vectors, uint8 labels.
    np.savez_compressed(
        os.path.join(out, "deflated.npz"),
        train_images=images(TRAIN, (48,), np.uint8),
        train_labels=labels(TRAIN, np.uint8),
        test_images=images(TEST, (48,), np.uint8),
        test_labels=labels(TEST, np.uint8, test=True),
    )

    # nchw.npz: PyTorch's (N, C, H, W) float32, read with channelsFirst.
    np.savez_compressed(
        os.path.join(out, "nchw.npz"),
        x_train=images(TRAIN, (3, 4, 2), "<f4"),
        y_train=labels(TRAIN, "<i8"),
        x_test=images(TEST, (3, 4, 2), "<f4"),
        y_test=labels(TEST, "<i8", test=True),
    )


if __name__ == "__main__":
    main(sys.argv[1])
