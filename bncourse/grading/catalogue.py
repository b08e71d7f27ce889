"""The misconception catalogue: every named mistake a check can diagnose.

Each entry says what the mistake is and how to think about the fix, without handing over
the answer. The ids are stable: the instructor's misconception report counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Diagnosis", "DIAGNOSES"]


@dataclass(frozen=True)
class Diagnosis:
    id: str
    title: str
    explanation: str
    hint: str


_ENTRIES = [
    Diagnosis(
        "wrong-axis",
        "statistics over the wrong axes",
        "BN keeps one statistic per feature: for a (batch, features) array one per column, "
        "and for a (batch, height, width, channels) feature map one per channel, shared by "
        "every sample and every position.",
        "Ask which axis holds the features (the last one, as in Keras) and average over all "
        "the others. For images, that includes height and width.",
    ),
    Diagnosis(
        "unbiased-variance",
        "the variance divides by m - 1",
        "BN (like scikit-learn's StandardScaler, and this course throughout) uses the biased "
        "variance: divide by m, the number of values each statistic averages. Dividing by "
        "m - 1 (ddof=1, the 'sample variance' of statistics courses and pandas' default) is "
        "what PyTorch stores in running_var, not what normalization uses.",
        "NumPy's np.var and np.std divide by m unless you pass ddof=1.",
    ),
    Diagnosis(
        "eps-outside-sqrt",
        "epsilon is added outside the square root",
        "You computed (x - mean) / (sqrt(var) + eps). BN adds epsilon to the variance, "
        "inside the root: sqrt(var + eps). The two agree when the variance is large and "
        "differ a lot when it is small, which is exactly when epsilon matters.",
        "Look at where the parentheses of the square root close.",
    ),
    Diagnosis(
        "missing-eps",
        "no epsilon",
        "Without epsilon, a feature whose variance is 0 (a constant feature, or any "
        "training batch of one) divides 0 by 0 and produces NaN, and a tiny variance blows "
        "the output up.",
        "Use the eps argument; it belongs next to the variance.",
    ),
    Diagnosis(
        "std-for-var",
        "divides by the variance instead of the standard deviation",
        "Normalizing means dividing by the standard deviation, sqrt(var + eps). Dividing by "
        "var + eps gives each feature a standard deviation of 1/sigma instead of 1.",
        "The denominator needs a square root.",
    ),
    Diagnosis(
        "swapped-gamma-beta",
        "gamma and beta are swapped",
        "You computed beta * x_hat + gamma. Gamma is the scale (it multiplies) and beta the "
        "shift (it is added): y = gamma * x_hat + beta, as in Keras's 'scale' and 'center'.",
        "Check which parameter multiplies and which is added.",
    ),
    Diagnosis(
        "missing-scale-shift",
        "gamma and beta are not applied",
        "The last step of BN scales by gamma and shifts by beta, so the network can undo "
        "the normalization where that helps. Your output ignores one or both of them.",
        "Every feature has its own gamma and beta; use both.",
    ),
    Diagnosis(
        "minmax-divides-by-max",
        "min-max scaling divides by the maximum only",
        "x / max only lands in [0, 1] when the minimum is already 0. Min-max scaling first "
        "subtracts the minimum, then divides by the range: (x - min) / (max - min).",
        "What happens to a feature whose values run from -3 to 5?",
    ),
    Diagnosis(
        "momentum-reversed",
        "the momentum weights the new batch instead of the old average",
        "Keras's momentum is the weight of the OLD moving value: new = momentum * old + "
        "(1 - momentum) * batch, with momentum = 0.99. PyTorch's momentum (default 0.1) is "
        "the weight of the NEW batch. Using PyTorch's formula with Keras's number makes the "
        "'moving average' jump almost all the way to each batch.",
        "With momentum = 0.99, one update should move the average only 1% of the way.",
    ),
    Diagnosis(
        "batch-stats-at-inference",
        "inference uses the batch's own statistics",
        "At inference BN must not depend on the other samples in the batch: it uses the "
        "moving mean and variance accumulated during training. With the batch's own "
        "statistics, a prediction changes with its batch mates, and a batch of one gives "
        "beta for every input.",
        "Which arguments does the function receive that training-mode BN does not use?",
    ),
    Diagnosis(
        "mutates-input",
        "the caller's arrays are modified in place",
        "Your function changed an array it was given (for example with -=, /= or by "
        "assigning into it). The caller still needs those arrays: a training loop that "
        "reuses x, or moving statistics that a model keeps, would be silently corrupted.",
        "Compute into new arrays: x - mean creates one, x -= mean overwrites x.",
    ),
    Diagnosis(
        "backward-ignores-batch-stats",
        "the backward pass treats the batch mean and variance as constants",
        "In training mode the mean and variance are computed from the very inputs you "
        "differentiate with respect to, so dx has three paths: through x_hat directly, "
        "through the mean and through the variance. Dropping a path gives a gradient that "
        "looks plausible but is wrong: for instance it no longer sums to 0 over the batch.",
        "Draw the graph x -> (mean, var) -> x_hat -> y and follow every edge back to x.",
    ),
    Diagnosis(
        "constant-feature",
        "a constant feature produces NaN",
        "A feature with the same value in every sample has range 0 and standard deviation "
        "0, so the formula divides 0 by 0. The convention (scikit-learn's too) is to map "
        "such a feature to 0.",
        "Handle a zero denominator explicitly, e.g. with np.where.",
    ),
    Diagnosis(
        "std-not-variance",
        "returns the standard deviation instead of the variance",
        "Step 2 returns the variance, the mean squared deviation from the mean. Its square "
        "root, the standard deviation, comes in step 3 (together with epsilon).",
        "Leave the square root for the next step.",
    ),
    Diagnosis(
        "missing-centering",
        "the mean is not subtracted",
        "Normalizing first centers each feature (subtract its mean), then divides by its "
        "standard deviation. Dividing alone changes the spread but leaves the mean where it "
        "was.",
        "Which part of (x - mean) / sqrt(var + eps) is missing?",
    ),
    Diagnosis(
        "ignores-given-stats",
        "recomputes the statistics instead of using the ones passed in",
        "normalize receives mean and var as arguments, so the same function can normalize "
        "with batch statistics (training) or with moving statistics (inference). Yours "
        "computes its own from x, so it gives the wrong answer whenever the two differ.",
        "Use the mean and var arguments; do not compute statistics inside normalize.",
    ),
    Diagnosis(
        "ignores-eps-argument",
        "ignores the eps argument",
        "Your function uses a fixed epsilon instead of the one it is given, so a layer "
        "built with another epsilon (PyTorch's 1e-5, say) would get the wrong answer.",
        "Use the eps parameter rather than a number written into the formula.",
    ),
    Diagnosis(
        "wrong-eps-default",
        "the default epsilon is not Keras's",
        "Called without eps, your function used a different epsilon. Keras's "
        "BatchNormalization defaults to epsilon = 1e-3; 1e-5 is PyTorch's default.",
        "Keep the signature's default, eps=1e-3.",
    ),
    Diagnosis(
        "ignores-momentum-argument",
        "ignores the momentum argument",
        "Your update uses a fixed momentum instead of the one it is given.",
        "Use the momentum parameter rather than a number written into the formula.",
    ),
    Diagnosis(
        "dgamma-uses-x",
        "dgamma uses x instead of x_hat",
        "y = gamma * x_hat + beta, so dy/dgamma is x_hat, the normalized input, not x.",
        "dgamma sums dout times the quantity gamma multiplies.",
    ),
    Diagnosis(
        "fold-forgets-mean",
        "the folded bias does not subtract the moving mean",
        "Inference-mode BN computes gamma * (z - mean) / sqrt(var + eps) + beta with "
        "z = x @ kernel + bias, so the folded bias is (bias - mean) * scale + beta.",
        "Expand gamma * (x @ kernel + bias - mean) / sqrt(var + eps) + beta and collect "
        "the terms that do not involve x.",
    ),
    Diagnosis(
        "fold-bias-unscaled",
        "the folded bias is not multiplied by the scale",
        "The whole pre-activation, bias included, is divided by sqrt(var + eps) and "
        "multiplied by gamma, so (bias - mean) must be scaled too.",
        "Expand the formula and see which terms the scale multiplies.",
    ),
    Diagnosis(
        "fold-ignores-bias",
        "the folded bias ignores the layer's own bias",
        "When the layer before BN has a bias (use_bias=True), that bias passes through BN "
        "like the rest of the pre-activation, so it must appear in the folded bias.",
        "Treat bias=None as zeros, but use the bias when one is given.",
    ),
    Diagnosis(
        "bias-before-bn",
        "the layer before BN keeps its bias",
        "BN subtracts the mean of each feature, so a bias added just before it is "
        "cancelled exactly; beta takes over its role. Keras lets you drop it with "
        "use_bias=False, which saves parameters and an addition.",
        "Look at the use_bias argument of the layer that feeds BN.",
    ),
    Diagnosis(
        "bn-after-activation",
        "BN is placed after the activation",
        "The exercise asks for the original paper's order, Dense -> BN -> activation: BN "
        "normalizes the pre-activation, which the nonlinearity then receives. (After the "
        "activation is also used in practice; lesson 07 measures both.)",
        "Keep the activation out of the Dense layer and add it as its own layer after BN.",
    ),
    Diagnosis(
        "missing-batchnorm",
        "the model has no BatchNormalization layer",
        "The exercise asks for a BatchNormalization layer between the hidden Dense layer "
        "and its activation.",
        "keras.layers.BatchNormalization() is a layer of its own.",
    ),
    Diagnosis(
        "wrong-output-order",
        "the outputs come back in the wrong order",
        "Every value your function returns is right, but not in the order the contract "
        "lists them. Code that unpacks the result (new_mean, new_var = ...) would silently "
        "use one value as the other.",
        "Return the values in the order the docstring names them.",
    ),
    Diagnosis(
        "standardize-adds-eps",
        "standardization adds BN's epsilon",
        "You divided by sqrt(var + eps) as BN does. Standardization divides by the standard "
        "deviation itself, so a feature with a tiny spread still comes out with standard "
        "deviation 1; adding epsilon shrinks exactly those features. A constant feature is "
        "the only special case, and it maps to 0.",
        "Which input feature of the failing test has a tiny spread, and what should its "
        "standard deviation be after standardizing?",
    ),
    Diagnosis(
        "one-pass-variance",
        "the variance is computed as E[x^2] - E[x]^2 in float32",
        "For a feature whose mean is large compared with its spread (values near 1000 that "
        "differ by 0.01, say), E[x^2] and E[x]^2 are two nearly equal large numbers; in "
        "float32 their difference keeps none of the digits that matter and can even be "
        "negative. Subtracting the mean first, or computing in float64, avoids it.",
        "Compute the mean first and average the squared deviations from it, or convert "
        "to float64 before you square.",
    ),
    Diagnosis(
        "float32-constant-column",
        "a constant column is not recognized in float32",
        "Your function treats a column as constant only when its spread is exactly 0. For a "
        "constant value that float32 cannot hold exactly (0.1, say), the float32 mean is not "
        "exactly that value, the spread comes out as a tiny nonzero number, and dividing by "
        "it turns rounding noise into large outputs.",
        "Compute the statistics in float64 (the mean of a float32 constant column is then "
        "exact), then return float32.",
    ),
    Diagnosis(
        "casts-to-float32-first",
        "the input is rounded to float32 before computing",
        "The input came as float64 with differences finer than float32 can hold. Converting "
        "it to float32 first erases them, so features that differ only in those digits look "
        "constant. Compute in float64 and round only the result to float32.",
        "Where does your function convert to float32: before or after the arithmetic?",
    ),
    Diagnosis(
        "mixes-moving-and-batch-stats",
        "inference mixes moving and batch statistics",
        "At inference BN uses the moving mean and the moving variance together. Your "
        "function uses one moving statistic and one computed from the batch, so its output "
        "still depends on the other samples in the batch.",
        "Both the mean and the variance should come from the function's moving_* arguments.",
    ),
    Diagnosis(
        "pytorch-bn-settings",
        "the BatchNormalization layer uses PyTorch's settings",
        "The layer was built with momentum or epsilon other than Keras's defaults "
        "(momentum=0.99, epsilon=1e-3). PyTorch's momentum=0.1 means the opposite in Keras "
        "(the weight of the old average), so the moving statistics would barely remember "
        "anything; the contract asks for Keras's defaults.",
        "Leave BatchNormalization's momentum and epsilon at their defaults.",
    ),
    # Each lesson's own misconceptions go in its section below (one section per lesson, so
    # that lessons written in parallel do not edit the same lines).
    # --- Lesson 02 (why normalize activations) ---
    Diagnosis(
        "saturation-one-sided",
        "only one side of the tanh counts as saturated",
        "tanh flattens out at both ends: an output near -1 passes back as little gradient as "
        "one near +1. Your count includes only the outputs near one end, so a layer whose "
        "units sit at -1 looks healthy.",
        "Ask what the sign of an output has to do with how flat tanh is there.",
    ),
    Diagnosis(
        "saturation-per-unit-decision",
        "decides per unit instead of per output",
        "Your function decides for each unit as a whole (saturated on every sample, or on "
        "average) and then counts units. A unit can be saturated for some samples and not "
        "for others; the statistic counts every (sample, unit) output on its own, as "
        "Karpathy's saturation plots do.",
        "Mark each output first, and only then average the marks; do not summarize a unit "
        "over the batch before comparing with the threshold.",
    ),
    Diagnosis(
        "layer-stat-wrong-axes",
        "the per-layer statistic is taken over the wrong axes",
        "The stack has shape (layers, batch, units) and the answer is one number per layer, "
        "taken over all the samples and all the units of that layer. Reducing over the "
        "layers, over only one of the other two axes, or after a reshape that mixes layers, "
        "gives a number per unit, per sample or for the whole network instead.",
        "Say out loud what the answer's shape must be, then which axes must disappear to get "
        "it. A reshape must keep each layer's outputs together.",
    ),
    Diagnosis(
        "saturation-at-threshold",
        "an output equal to the threshold counts as saturated",
        "The contract counts an output as saturated when its magnitude is strictly above the "
        "threshold. Outputs exactly at the threshold are rare in a trained network but not in "
        "the tests, where your comparison counts them.",
        "Compare the two comparison operators on a value equal to the threshold.",
    ),
    Diagnosis(
        "saturation-ignores-threshold",
        "the threshold argument is ignored",
        "Your function compares with a fixed number (such as 0.97, Karpathy's value) instead "
        "of the threshold it is called with, so a caller who asks about another level gets "
        "the answer for yours.",
        "Use the function's threshold argument wherever the level appears.",
    ),
    Diagnosis(
        "saturation-not-a-fraction",
        "not a fraction of the layer's outputs",
        "The contract asks for a fraction between 0 and 1 per layer: saturated outputs "
        "divided by all the layer's outputs (samples times units). Your numbers are a count, "
        "a percentage (the lesson's tables print those, but the function returns the "
        "fraction they are made from), or a count divided by the number of units or of "
        "samples alone.",
        "Check the largest value your function can return: a layer saturated everywhere "
        "should give exactly 1.",
    ),
    Diagnosis(
        "spread-averages-unit-spreads",
        "averages per-unit spreads instead of taking the layer's spread",
        "Your function takes a spread per unit (or per sample) and averages those. That "
        "leaves out how far the units' own means lie from each other: a layer whose units "
        "each sit still at different values has a large spread but per-unit spreads of 0.",
        "Put all of the layer's outputs together first, then measure how far they lie from "
        "their common mean.",
    ),
    Diagnosis(
        "spread-not-centered",
        "the spread is measured from 0, not from the mean",
        "You took the root of the mean square of the outputs. That is the standard deviation "
        "only when the outputs average 0, as tanh's nearly do; ReLU and sigmoid outputs are "
        "positive, and their root mean square counts their mean as spread.",
        "Subtract the layer's mean before you square.",
    ),
    Diagnosis(
        "spread-is-variance",
        "returns the variance, not the standard deviation",
        "Your numbers are the variance of each layer's outputs, in squared units. The "
        "lesson's spread is the standard deviation, in the outputs' own units, which is what "
        "its plots and claims compare.",
        "One step is missing at the end.",
    ),
    # --- Lesson 03 (the four steps) ---
    # --- Lesson 04 (training vs. inference, the BatchNorm layer) ---
    # --- Lesson 05 (backprop through BN) ---
    # --- Lesson 06 (BN in Keras) ---
    # --- Lesson 07 (where to put BN) ---
    # --- Lesson 08 (what BN buys you) ---
    # --- Lesson 09 (beyond BN: LayerNorm, GroupNorm, RMSNorm) ---
    # --- Lesson 10 (BN in deployment) ---
    # --- Lesson 11 (capstone) ---
]

DIAGNOSES: dict[str, Diagnosis] = {entry.id: entry for entry in _ENTRIES}
