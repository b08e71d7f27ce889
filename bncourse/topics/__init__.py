"""One module per lesson topic: the lesson's helpers and its explorers side by side.

| lesson | module |
|---|---|
| 01 normalization vs. standardization | ``scaling`` |
| 02 why normalize activations | ``activations`` |
| 03 the four steps | ``four_steps`` |
| 04 training vs. inference | ``inference`` |
| 05 backprop through BN | ``backprop`` |
| 06 BN in Keras | ``keras_bn`` |
| 07 where to put BN | ``placement`` |
| 08 what BN buys you | ``benefits`` |
| 09 beyond BN | ``small_batches``, ``norms`` |
| 10 BN in deployment | ``transfer`` |
| 11 capstone | ``capstone`` |

Each module's docstring starts with its lesson. Topics build on the core and on
``bncourse.lab`` (the explorer base, Keras training, experiments), never on each other.
"""
