"""What several lessons share: the explorer base, Keras training and experiments.

* ``explorer``: an interactive figure (ipywidgets controls + a drawing function) with a
  static picture for headless runs; every lesson's explorer is built on it;
* ``training``: ``MLP`` and ``Trainer``, fast repeatable Keras training over seeds;
* ``experiments``: comparisons, sweeps and their plots, on top of ``training``.
"""
