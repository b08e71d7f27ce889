"""Forward + backward time: the NumPy reference against keras.layers.BatchNormalization.

Prints a table; not a test. Run with `make bench` or `python benchmarks/reference_vs_keras.py`.
"""

from __future__ import annotations

import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bncourse import reference as ref  # noqa: E402

SHAPES = [(256, 1024), (64, 32, 32, 64)]
REPEATS = 10


def best_time(function, repeats: int = REPEATS) -> float:
    function()  # warm-up (TensorFlow traces and allocates on the first call)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_step(x, gamma, beta, dout):
    ref.batchnorm_forward(x, gamma, beta)
    ref.batchnorm_backward(dout, x, gamma)


def bench_shape(shape: tuple[int, ...]) -> tuple[float, float, float]:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(np.float32)
    dout = rng.normal(size=shape).astype(np.float32)
    gamma = np.ones(shape[-1], np.float32)
    beta = np.zeros(shape[-1], np.float32)
    layer = keras.layers.BatchNormalization()
    layer.build(shape)
    x_tf, dout_tf = tf.constant(x), tf.constant(dout)
    compiled = tf.function(lambda x_in, d_in: _grads(layer, x_in, d_in))

    t_numpy = best_time(lambda: numpy_step(x, gamma, beta, dout))
    t_eager = best_time(lambda: [g.numpy() for g in _grads(layer, x_tf, dout_tf)])
    t_graph = best_time(lambda: [g.numpy() for g in compiled(x_tf, dout_tf)])
    return t_numpy, t_eager, t_graph


def main() -> None:
    import keras
    import tensorflow as tf

    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}, "
        f"{os.cpu_count()} CPU cores; best of {REPEATS}, forward + backward, float32\n"
    )
    print("| input shape | NumPy reference (ms) | Keras eager (ms) | Keras tf.function (ms) |")
    print("|---|---:|---:|---:|")
    for shape in SHAPES:
        t_numpy, t_eager, t_graph = bench_shape(shape)
        print(f"| {shape} | {1e3 * t_numpy:.1f} | {1e3 * t_eager:.1f} | {1e3 * t_graph:.1f} |")


def _grads(layer, x_in, d_in):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x_in)
        loss = tf.reduce_sum(layer(x_in, training=True) * d_in)
    return tape.gradient(loss, [x_in, layer.gamma, layer.beta])


if __name__ == "__main__":
    main()
