"""Every data set the course uses, from one place.

The course runs offline: its data either ships with a dependency (scikit-learn's 8x8
handwritten digits, 1,797 images in 10 classes) or is generated here from a seed.
Fashion-MNIST is offered for learners who are online, but no lesson or test needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bncourse.seeding import resolve

__all__ = ["DataSplit", "digits", "house_prices", "shift_intensity", "fashion_mnist"]


@dataclass(frozen=True)
class DataSplit:
    """Train, validation and test arrays (inputs float32, labels int64)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max()) + 1)

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}={getattr(self, name).shape}" for name in ("x_train", "x_val", "x_test")
        )
        return f"DataSplit({parts}, num_classes={self.num_classes})"


def _split_indices(
    n: int, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(
            "val_fraction and test_fraction must be in [0, 1) and sum to less than 1; "
            f"got {val_fraction} and {test_fraction}"
        )
    order = np.random.default_rng(resolve(seed)).permutation(n)
    n_test = round(n * test_fraction)
    n_val = round(n * val_fraction)
    return order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]


def digits(
    *,
    flatten: bool = True,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DataSplit:
    """scikit-learn's handwritten digits, split at random (fixed by ``seed``).

    Pixels are scaled from 0..16 to 0..1. ``flatten=True`` gives ``(n, 64)`` rows for
    Dense networks; ``flatten=False`` gives ``(n, 8, 8, 1)`` images for Conv2D.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    x = images.reshape(len(images), -1) if flatten else images[..., np.newaxis]
    y = bunch.target.astype(np.int64)
    train, val, test = _split_indices(len(x), val_fraction, test_fraction, seed)
    return DataSplit(x[train], y[train], x[val], y[val], x[test], y[test])


def house_prices(
    n_samples: int = 200, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Generated regression data whose two features live on very different scales.

    Floor area in square metres (roughly 40 to 200) and distance to the city center in
    kilometres (roughly 0.5 to 5); the target is a price in thousands. The price is a
    linear function of both plus noise, so a linear model can fit it exactly up to the
    noise, and only the scaling of the features decides how easy gradient descent finds it.
    Returns ``(x, y, feature_names)`` with ``x`` of shape ``(n_samples, 2)``, float32.
    """
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2; got {n_samples}")
    rng = np.random.default_rng(resolve(seed))
    area = rng.uniform(40.0, 200.0, n_samples)
    distance = rng.uniform(0.5, 5.0, n_samples)
    price = 2.5 * area - 40.0 * distance + 150.0 + rng.normal(0.0, 15.0, n_samples)
    x = np.column_stack([area, distance]).astype(np.float32)
    return x, price.astype(np.float32), ["floor area (m²)", "distance to center (km)"]


def shift_intensity(x: np.ndarray, *, contrast: float = 0.5, brightness: float = 0.4) -> np.ndarray:
    """A distribution shift for images in [0, 1]: ``contrast * x + brightness``, clipped.

    The same digits, photographed in different light: what a model trained on the
    original data meets when it is deployed somewhere new. Returns a new float32 array.
    """
    x = np.asarray(x, dtype=np.float32)
    return np.clip(contrast * x + brightness, 0.0, 1.0).astype(np.float32)


def fashion_mnist(*, flatten: bool = True, seed: int = 0) -> DataSplit:
    """Fashion-MNIST through ``keras.datasets`` (downloads ~30 MB; needs the internet).

    Optional: for learners who want a larger data set than the digits. No lesson or test
    depends on it. Raises ``RuntimeError`` with an explanation when offline.
    """
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as error:  # keras raises various errors when the download fails
        raise RuntimeError(
            "Fashion-MNIST could not be downloaded (are you offline?). "
            "Every lesson works with bncourse.data.digits() instead."
        ) from error
    x_train = (x_train / 255.0).astype(np.float32)
    x_test = (x_test / 255.0).astype(np.float32)
    if flatten:
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    else:
        x_train, x_test = x_train[..., np.newaxis], x_test[..., np.newaxis]
    order = np.random.default_rng(resolve(seed)).permutation(len(x_train))
    n_val = len(x_train) // 6
    val, train = order[:n_val], order[n_val:]
    return DataSplit(
        x_train[train],
        y_train[train].astype(np.int64),
        x_train[val],
        y_train[val].astype(np.int64),
        x_test,
        y_test.astype(np.int64),
    )
