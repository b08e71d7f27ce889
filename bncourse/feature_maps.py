"""Convolution feature maps in NumPy, for lessons that need a few without Keras.

Keras's layout throughout: images ``(batch, height, width, channels)`` and kernels
``(kernel_height, kernel_width, in_channels, out_channels)``. Like ``keras.layers.Conv2D``
with ``padding="valid"``, stride 1 and no bias, the "convolution" is a cross-correlation
(the kernel is not flipped).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["conv2d", "edge_kernels"]


def edge_kernels() -> np.ndarray:
    """Two Sobel filters for one input channel, shape ``(3, 3, 1, 2)``, float32.

    Output channel 0 responds to horizontal edges (brightness changing from top to bottom),
    channel 1 to vertical edges (changing from left to right).
    """
    horizontal = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
    vertical = horizontal.T
    return np.stack([horizontal, vertical], axis=-1)[:, :, np.newaxis, :].astype(np.float32)


def conv2d(images: Any, kernels: Any) -> np.ndarray:
    """Valid 2-D cross-correlation with stride 1: ``(batch, H - kh + 1, W - kw + 1, out)``.

    Returns float32; the inputs are not modified.
    """
    x = np.asarray(images, dtype=np.float64)
    k = np.asarray(kernels, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (batch, height, width, channels); got {x.shape}")
    if k.ndim != 4:
        raise ValueError(
            f"kernels must have shape (kernel_height, kernel_width, in_channels, out_channels); "
            f"got {k.shape}"
        )
    if k.shape[2] != x.shape[3]:
        raise ValueError(f"kernels expect {k.shape[2]} input channels but images have {x.shape[3]}")
    if k.shape[0] > x.shape[1] or k.shape[1] > x.shape[2]:
        raise ValueError(f"kernels of size {k.shape[:2]} do not fit images of size {x.shape[1:3]}")
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape[:2], axis=(1, 2))
    # windows: (batch, out_h, out_w, in_channels, kh, kw)
    return np.einsum("bhwcij,ijco->bhwo", windows, k).astype(np.float32)
