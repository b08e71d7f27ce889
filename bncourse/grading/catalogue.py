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
        "When the values that share one mean (a feature in BN, a sample or a group in "
        "LayerNorm and GroupNorm) sit far from 0 compared with their spread (near 1000 and "
        "1000.01 apart, say), E[x^2] and E[x]^2 are two nearly equal large numbers; in "
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
    Diagnosis(
        "smoothness-steps-uphill",
        "the step goes up the gradient",
        "Your moved point is params + eta * g. The gradient points to where the loss grows "
        "fastest; training moves the other way, and that is the direction whose landscape "
        "the measurement describes. On a quadratic the two directions give the same number, "
        "so only losses whose curvature changes tell them apart.",
        "Which sign does a step of gradient descent take?",
    ),
    Diagnosis(
        "smoothness-steps-accumulate",
        "each step size starts where the previous one ended",
        "Your second point is reached from the first, your third from the second, and so on, "
        "so every entry but the first measures a longer step than its step size says. Every "
        "step size must start from params itself. Subtracting in place (params -= ...) or "
        "reassigning the same variable inside the loop both do this.",
        "At the start of each step size, where are you?",
    ),
    Diagnosis(
        "smoothness-difference-of-norms",
        "compares the gradients' lengths instead of the gradients",
        "You subtract the length of the old gradient from the length of the new one. Two "
        "gradients of the same length can point in very different directions, and that "
        "change of direction is exactly what makes a gradient a poor guide. The change is "
        "the length of the difference of the two vectors.",
        "Subtract first, then take the length.",
    ),
    Diagnosis(
        "smoothness-squared-length",
        "uses squared lengths",
        "Your change (or distance) is a squared Euclidean length: the square root is missing. "
        "A ratio of squared lengths grows with the step even on a quadratic, where the "
        "gradient changes exactly in proportion to the distance.",
        "np.linalg.norm gives the length itself.",
    ),
    Diagnosis(
        "smoothness-not-per-distance",
        "the change of the gradient is not divided by the distance moved",
        "A longer step changes the gradient more on any curved loss, so a raw change mostly "
        "reports how far you went. The smoothness compares networks per unit of distance: "
        "the change divided by how far the parameters moved.",
        "How far did the parameters move for this step size?",
    ),
    Diagnosis(
        "smoothness-wrong-distance",
        "divides by the wrong distance",
        "The distance moved is the length of the step itself, eta times the length of the "
        "gradient. Dividing by eta alone, or by the gradient's length alone, leaves the other "
        "factor in, and networks whose gradients have different lengths (with and without "
        "BN, for instance) are no longer compared per unit of distance.",
        "Write the step as a vector, then take its length.",
    ),
    # --- Lesson 03 (the four steps) ---
    Diagnosis(
        "reshape-mixes-features",
        "x.reshape(C, -1) mixes the features",
        "reshape keeps the order the values have in memory, where the last axis (the "
        "features) changes fastest. Cutting that sequence into C rows therefore puts "
        "consecutive values into each row, a few of every feature, and each statistic you "
        "computed from a row averages several features together.",
        "Print x.reshape(C, -1)[0] for a small x next to the values of feature 0: which "
        "feature does each number belong to? A table whose columns are the features keeps "
        "them apart.",
    ),
    Diagnosis(
        "divides-by-batch-size",
        "the sum is divided by the batch size, not by m",
        "For a (batch, features) array the two are the same number, so the mistake hides "
        "there. For feature maps, each channel's statistic sums m = batch x height x width "
        "values, and dividing by the batch size alone makes it height x width times too "
        "large.",
        "Count how many numbers the sum for one channel adds up; divide by that count.",
    ),
    Diagnosis(
        "shift-before-scale",
        "beta is added before gamma multiplies",
        "Your function shifts x_hat by beta and then scales the sum by gamma, so the output "
        "is centered on gamma * beta instead of beta: the center of a feature then moves "
        "whenever its scale does. In step 4 the scale acts on x_hat alone and the shift "
        "comes last, so gamma sets the spread and beta, on its own, the center.",
        "With gamma = 2 and beta = 1, what should the mean of y be when x_hat has mean 0? "
        "What does your function give?",
    ),
    Diagnosis(
        "identity-not-inverse",
        "gamma and beta do not undo steps 1 to 3",
        "Substitute your gamma and beta into y = gamma * (x - mean) / sqrt(var + eps) + beta "
        "and simplify: for the identity, y must come out as x for every x. Yours leaves x "
        "scaled, or shifted, or both: gamma has to cancel the division of step 3, and beta "
        "has to give back what step 1 took away, after gamma has acted.",
        "Expand gamma * (x - mean) / sqrt(var + eps) + beta into a multiple of x plus a "
        "constant. Which gamma makes the multiple 1, and which beta makes the constant 0?",
    ),
    # --- Lesson 04 (training vs. inference, the BatchNorm layer) ---
    Diagnosis(
        "updates-stats-at-inference",
        "the moving statistics change at inference",
        "A call with training=False moved moving_mean or moving_var. Inference must leave "
        "the layer as it found it: otherwise every prediction (or every evaluation batch) "
        "drags the averages towards the data it is shown, and the same input gets another "
        "answer tomorrow. Keras's predict() and model(x, training=False) change nothing.",
        "Which branch of __call__ updates the moving statistics? Only training=True may.",
    ),
    Diagnosis(
        "stats-frozen-in-training",
        "the moving statistics do not move during training",
        "After a training call, moving_mean, moving_var or both still hold their old "
        "values, so inference keeps using the starting values (mean 0, variance 1) however "
        "long the layer trains. Common causes: the new values are computed into local "
        "variables, or into attributes with other names, and never stored back on the "
        "layer; or only one of the two statistics is updated.",
        "After the training branch runs, do self.moving_mean and self.moving_var both "
        "refer to the new values?",
    ),
    Diagnosis(
        "stats-updated-twice",
        "the moving statistics are updated twice per training call",
        "One training call moved the moving statistics as far as two updates with the same "
        "batch would. Keras updates them once per training step; a second update (say, a "
        "helper that already updates, followed by an update in __call__) makes the average "
        "forget old batches twice as fast, as if the momentum were its square.",
        "Count how many times one call with training=True assigns new values to self.moving_mean.",
    ),
    Diagnosis(
        "moving-var-unbiased",
        "the moving variance is fed the unbiased (m - 1) batch variance",
        "Keras normalizes with the biased batch variance (divide by m) and feeds the same "
        "value into its moving variance. Dividing by m - 1 for the moving variance is "
        "PyTorch's choice for running_var, not Keras's; with small batches the two differ "
        "by the factor m / (m - 1).",
        "Compute the batch variance once, the way the forward pass does, and use that one "
        "value for both jobs.",
    ),
    Diagnosis(
        "moving-stats-of-output",
        "the moving averages follow the layer's output, not its input",
        "At inference the layer normalizes x with the moving mean and variance, so they must "
        "estimate the mean and variance of x, the batch statistics the training branch "
        "normalizes with. Averaging the output (x_hat, or gamma x_hat + beta) instead gives "
        "numbers near 0 and 1 (or beta and gamma squared) whatever the data is.",
        "In inference mode, which array do the moving statistics get subtracted from and "
        "divided into? Which array's statistics should they track, then?",
    ),
    Diagnosis(
        "moving-var-holds-std",
        "the moving variance is fed the standard deviation",
        "Your moving_var moved towards each batch's standard deviation, not towards its "
        "variance. Inference then treats that number as a variance and takes its square "
        "root again, so every feature whose spread is not 1 is scaled wrongly.",
        "What quantity does the name moving_var promise, and which of your batch "
        "statistics is that quantity?",
    ),
    Diagnosis(
        "moving-stats-in-training",
        "training mode normalizes with the moving statistics",
        "With training=True, BN normalizes each batch with that batch's own mean and "
        "variance; the moving statistics are only updated, for later use at inference. "
        "Normalizing with the moving ones during training gives a fresh layer an "
        "un-normalized output and changes the gradients the layer passes back.",
        "In the training branch, which mean and variance does x_hat use, and which ones "
        "are only bookkeeping?",
    ),
    Diagnosis(
        "layer-initial-values",
        "the layer does not start from Keras's initial values",
        "A fresh Keras BatchNormalization layer starts with gamma = 1 and beta = 0 (so it "
        "begins as plain normalization), the moving mean at 0 and the moving variance at "
        "1 (so inference on a fresh layer barely changes its input). A moving variance "
        "that starts at 0 makes a fresh layer divide by the square root of epsilon.",
        "Look at what each of the four attributes holds right after BatchNorm(features).",
    ),
    Diagnosis(
        "training-by-default",
        "the layer trains when training is not given",
        "Called without the training argument, your layer behaved as in training mode. "
        "Keras layers run in inference mode unless they are told to train (fit() passes "
        "training=True), so code that calls layer(x) to predict must not change the "
        "moving statistics or depend on the batch.",
        "What is the default value of training in your __call__?",
    ),
    Diagnosis(
        "layer-attribute-names",
        "an attribute the contract names is missing",
        "The check, and the capstone that builds on this layer, read gamma, beta, "
        "moving_mean and moving_var by exactly these names. Keras calls its variance "
        "moving_variance and PyTorch uses running_mean and running_var; this course's "
        "layer uses the contract's names.",
        "Set all four attributes in __init__, spelled as in the docstring.",
    ),
    Diagnosis(
        "layer-signature",
        "the layer does not take the contract's arguments",
        "The check builds BatchNorm(features, momentum=..., epsilon=...) and calls "
        "layer(x, training=...), with these names, as the capstone will. A constructor "
        "with other names (eps is PyTorch's spelling; Keras says epsilon), without the "
        "defaults, or a __call__ without training, cannot be used that way.",
        "Compare your def lines with the docstring's: names, order and defaults.",
    ),
    Diagnosis(
        "layer-returns-tuple",
        "the layer returns more than its output",
        "Calling a layer returns its output array and nothing else: Keras layers do, and "
        "code that chains layers (h = bn(z, training=True)) relies on it. Returning a cache "
        "as well, as CS231n's forward functions do, breaks that; a layer keeps what its "
        "backward pass will need on self.",
        "What does the return statement of __call__ return?",
    ),
    # --- Lesson 05 (backprop through BN) ---
    Diagnosis(
        "backward-forgets-gamma",
        "gamma is missing from the gradient",
        "On the way forward y = gamma * x_hat + beta scales x_hat by gamma, so everything "
        "that flows back from y towards x_hat and x is scaled by gamma too. Without it the "
        "gradient is right only for a feature whose gamma happens to be 1.",
        "Follow the edge from x_hat to y: what is its local derivative?",
    ),
    Diagnosis(
        "dx-hat-divides-by-gamma",
        "dx_hat divides by gamma",
        "Backpropagation multiplies the upstream gradient by each local derivative; it does "
        "not undo the forward step. Solving y = gamma * x_hat + beta for x_hat gives the "
        "inverse function, which is a different thing from the derivative of y.",
        "With gamma = 2, does a small change of x_hat change y by more or by less than itself?",
    ),
    Diagnosis(
        "uses-x-not-deviation",
        "mu is missing from a term: x where the graph has x - mu",
        "x_hat depends on x through the deviation x - mu, and var through (x - mu)**2, so "
        "their local derivatives carry x_i - mu, not x_i. The two agree only for a feature "
        "whose mu is 0, and no feature of the test has mu = 0.",
        "Write x_hat_i with its numerator spelled out, then differentiate that.",
    ),
    Diagnosis(
        "dvar-power-rule",
        "the derivative of (var + eps) ** (-1/2) is off",
        "x_hat_i = (x_i - mu) * (var + eps) ** (-1/2). Differentiating a power with respect "
        "to var lowers its exponent by one and brings the old exponent down as a factor, "
        "sign included. Your dvar has another power, another factor or the opposite sign.",
        "Differentiate v ** (-1/2) with respect to v on paper, then put v = var + eps.",
    ),
    Diagnosis(
        "dmu-forgets-variance-term",
        "dmu misses the path through var",
        "var = (1/m) * sum((x_i - mu)**2) is computed from mu, so mu reaches the loss twice: "
        "directly through every x_hat_i, and through var. Your dmu has only the first "
        "route. The second one vanishes when mu is exactly the mean of x, but a node must "
        "hold for any mu it is handed, and the check also passes one that is not x's mean.",
        "In the graph, follow the arrow from mu to var and multiply dvar by its local derivative.",
    ),
    Diagnosis(
        "dmu-variance-term-sign",
        "dmu's term through var has the wrong sign",
        "Raising mu by a little lowers every deviation x_i - mu by the same amount: the inner "
        "derivative of (x_i - mu)**2 with respect to mu is -1. Your term through var lost "
        "that minus (or gained one).",
        "Differentiate (x_i - mu)**2 with respect to mu, inner derivative included.",
    ),
    Diagnosis(
        "variance-derivative-factor",
        "the factor from differentiating var is missing or wrong",
        "var = (1/m) * sum over j of (x_j - mu)**2. Differentiating the square brings down a "
        "2, and the average keeps its 1/m; both belong to d(var)/d(x_i) and to d(var)/d(mu). "
        "Your term through var has another factor: the 2 (or the whole 2/m) is missing.",
        "Differentiate (1/m) * (x_j - mu)**2 once with respect to x_i (only j = i counts) and "
        "once with respect to mu (every j counts).",
    ),
    Diagnosis(
        "m-from-wrong-axes",
        "m counts the wrong axes",
        "m is the number of values each statistic averages: the batch size for a (batch, "
        "features) array, and batch * height * width for feature maps. Your m counts other "
        "axes, so the 1/m factors come out wrong on feature maps.",
        "m is the size of x divided by the number of features.",
    ),
    Diagnosis(
        "missing-1-over-m",
        "a 1/m factor is missing",
        "mu and var are averages over m values, so the derivative of either with respect to "
        "one input carries a 1/m. Without it the paths through the statistics come out m "
        "times too strong.",
        "What is d(mu)/d(x_i) for mu = (1/m) * (x_1 + ... + x_m)?",
    ),
    Diagnosis(
        "backward-forgets-sum",
        "the gradient of a per-feature value is left per element",
        "mu and var hold one number per feature, so their gradients do too: every sample "
        "of a feature uses the same mu and var, and the chain rule adds up the contribution "
        "of each use. Your result still has one value per element of x.",
        "What shape does the gradient of a per-feature value have, and how do you get there "
        "from one contribution per element?",
    ),
    Diagnosis(
        "backward-mean-for-sum",
        "a gradient averages where the chain rule sums",
        "A value that every sample of a feature uses (beta, gamma, mu, var) collects the "
        "gradient of each use: the chain rule adds the contributions of all the paths, it "
        "does not average them.",
        "How many outputs does one beta touch, and what does the chain rule do with the "
        "contribution of each?",
    ),
    Diagnosis(
        "backward-sign-slip",
        "a chain-rule term has the wrong sign",
        "Each path contributes (the gradient at the node) * (the local derivative), and the "
        "contributions add. The minus signs live inside the local derivatives; a minus put in "
        "front of a whole term, or dropped from inside one, flips that path.",
        "Check each local derivative's sign on its own: does x_hat_i rise or fall when mu "
        "rises? Does var rise when x_i moves away from mu?",
    ),
    Diagnosis(
        "numgrad-one-sided",
        "the numerical gradient uses a one-sided difference",
        "A step in one direction only measures the slope of a secant that starts at x, whose "
        "error shrinks like h. Stepping both up and down by h and using the points on either "
        "side cancels that first-order error, leaving one that shrinks like h**2: that is "
        "what a gradient check relies on.",
        "Evaluate L once at x[i] + h and once at x[i] - h, and never at x itself.",
    ),
    Diagnosis(
        "numgrad-missing-half",
        "the difference is not divided by 2h",
        "The two evaluations sit 2h apart, so the slope between them is their difference "
        "divided by that distance. Dividing by h doubles every element, and not dividing at "
        "all gives the change in L rather than a slope.",
        "How far apart are x[i] + h and x[i] - h?",
    ),
    Diagnosis(
        "numgrad-perturbs-in-place",
        "the caller's x is perturbed in place",
        "Your function moved elements of the array it was given and did not put each one "
        "back exactly, or its two 'copies' were the same array (x_plus = x does not copy, so "
        "both steps land on x and cancel). Either way the evaluations do not happen at the "
        "points you meant, and the caller's x may come back changed.",
        "After your loop, is x exactly what was passed in? Is x_plus a new array or another "
        "name for x?",
    ),
    Diagnosis(
        "numgrad-not-restored",
        "an element is not put back after its two steps",
        "Each partial derivative is taken with every other element of x at its original "
        "value. Your loop leaves each element at x[i] + h or x[i] - h when it moves on, so "
        "the next element's steps start from a shifted point, and the shifts pile up along "
        "the loop. For a function that acts element by element nothing shows; for BN or a "
        "matrix product every later element is off.",
        "When the loop moves on from element i, what value does that element hold?",
    ),
    Diagnosis(
        "numgrad-float32",
        "the perturbation is done in float32",
        "float32 keeps about 7 significant digits: near 5 its values are about 5e-7 apart, so "
        "a step of 1e-5 spans only about 20 of those gaps, and the difference of two nearly "
        "equal losses keeps few correct digits. A gradient check needs float64 throughout.",
        "What dtype is the array you perturb? x may arrive as float32.",
    ),
    Diagnosis(
        "numgrad-ignores-dout",
        "the numerical gradient ignores dout",
        "The contract's loss is L = sum(dout * f(x)): dout weights each output of f, exactly "
        "as an upstream gradient does in a backward pass. Summing f(x) alone gives the "
        "gradient for a dout of all ones.",
        "Where does dout enter the number you compute at each step?",
    ),
    Diagnosis(
        "numgrad-ignores-h",
        "the numerical gradient ignores the h it is given",
        "The step is an argument because the right step depends on the function and the "
        "precision: the central difference of v ** 3 with step h is 3 v ** 2 + h ** 2, so a "
        "caller who asks for h=0.5 expects that answer. Your function moved x by another "
        "step (perhaps a fixed 1e-5).",
        "Which step does your function move x by, and where does that number come from?",
    ),
    Diagnosis(
        "numgrad-all-at-once",
        "every element of x is moved at once",
        "Moving all of x by h at once measures how L changes along the direction (1, 1, ..., "
        "1): one directional derivative, not a gradient. It only looks right for functions "
        "that act element by element; for BN it gives 0, because shifting a whole feature "
        "changes nothing.",
        "Move one element at a time, and leave all the others where they are.",
    ),
    # --- Lesson 06 (BN in Keras) ---
    # --- Lesson 07 (where to put BN) ---
    Diagnosis(
        "keep-vs-drop-rate",
        "the drop rate is used where the keep probability belongs",
        "Keras's Dropout(rate) drops each value with probability rate and keeps it with "
        "probability p = 1 - rate, dividing the kept values by p. Your numbers are what you "
        "get with p = rate: right only when rate is 0.5, where the two coincide.",
        "For rate = 0.2, what fraction of the values survive, and what are they divided by?",
    ),
    Diagnosis(
        "dropout-not-inverted",
        "Dropout's division by the keep probability is missing",
        "Keras's Dropout is inverted: in training it divides every value it keeps by the keep "
        "probability p, so that the unit's mean is the same in training and at inference. "
        "Your numbers are those of a Dropout that only zeroes values, whose training mean "
        "would be p times the inference mean.",
        "What happens to a value that Dropout keeps, in Keras?",
    ),
    Diagnosis(
        "variance-shift-ignores-mean",
        "the unit's mean is left out of the training variance",
        "Your ratio is the keep probability for every unit, which holds only for units whose "
        "mean is 0. Each value Dropout sets to 0 lands at a distance from the unit's mean, "
        "and the further the mean is from 0, the more those zeros add to the training "
        "variance. A ReLU's outputs, for one, have a positive mean.",
        "Work out the mean of y squared for y = x * m / p without assuming that x has mean "
        "0, then subtract the square of y's mean.",
    ),
    Diagnosis(
        "second-moment-for-variance",
        "the training variance is the mean of the squares",
        "You used E[y^2], the mean of the squared outputs, as their variance. The variance is "
        "E[y^2] - E[y]^2: it subtracts the square of the mean, and inverted Dropout leaves "
        "the unit's mean where it was.",
        "What is the unit's mean in training, and where does it enter its variance?",
    ),
    Diagnosis(
        "ratio-upside-down",
        "the ratio is upside down",
        "The contract asks for the variance at inference divided by the variance in "
        "training: the factor by which the variance of a BN layer's output shrinks at "
        "inference, at most 1 when Dropout is on. Your numbers are its reciprocal.",
        "For rate 0.5 and a unit with mean 0, is the ratio 0.5 or 2?",
    ),
    Diagnosis(
        "simulates-dropout",
        "the ratio comes from random masks, not from their expectation",
        "Your numbers are close to the expected ratio but not equal to it, as a simulation "
        "with random Dropout masks gives: each run of it gives other numbers. The contract "
        "asks for the expectation over all masks, which depends only on each unit's mean "
        "and variance and on the keep probability, and needs no random numbers.",
        "Write Dropout's output as x * m / p and take expectations: E[m] = p, and m * m = m.",
    ),
    Diagnosis(
        "recalibrate-with-dropout-on",
        "the statistics are collected with Dropout on",
        "You ran the layers in front of the BN layer in training mode, so Dropout zeroed "
        "values and scaled the rest while you collected the statistics: you measured the "
        "training-time variance again, the very shift that re-estimating should remove. At "
        "inference Dropout passes everything on; collect the statistics that way.",
        "Which values will the BN layer meet at inference? Produce exactly those.",
    ),
    Diagnosis(
        "averages-batch-variances",
        "the variance is an average of per-batch variances",
        "An average of the per-batch variances leaves out how far the batch means lie from "
        "the overall mean: for equal batches, the variance of all the data is the mean of "
        "the per-batch variances plus the variance of the batch means. Batches drawn group "
        "by group, or small ones (a batch of one has variance 0), lose much of it. Ioffe & "
        "Szegedy (2015, Algorithm 2) average per-batch variances times m / (m - 1), which is "
        "right on average when batches are drawn at random; the contract asks for the "
        "variance of all the examples together, right however the batches were drawn.",
        "Put every batch's outputs together before you compute the variance.",
    ),
    Diagnosis(
        "momentum-recalibration",
        "a moving average over the batches instead of their pooled statistics",
        "Training keeps a moving average (new = momentum * old + (1 - momentum) * batch) "
        "because the weights change from step to step, so old batches are out of date. "
        "After training the weights stay put and every batch counts the same. A moving "
        "average over a few batches also stays near where it started (zeros and ones in "
        "Keras) or leans on the last batches.",
        "After training, is there a reason to trust the last batch more than the first?",
    ),
    Diagnosis(
        "recalibrate-one-batch",
        "the statistics come from a single batch",
        "Your mean and variance are those of one batch (a loop that keeps only the last one, "
        "say). Re-estimating pools every batch it is given: one batch's statistics are as "
        "noisy as the ones training-mode BN uses, which is what re-estimating gets away "
        "from.",
        "Where do the other batches' values go in your code?",
    ),
    # --- Lesson 08 (what BN buys you) ---
    Diagnosis(
        "steps-to-index",
        "a position in the arrays instead of the value recorded there",
        "The curve is measured every few optimizer steps, and `steps` records the step of "
        "each evaluation. Your function returned where the evaluation sits in the arrays "
        "(its index, or how many evaluations it took), or rebuilt the step from that "
        "position with a fixed interval. Positions are not steps, and a rebuilt step is off "
        "as soon as the first evaluation is at step 0 or the last one falls off the grid.",
        "Once you know which evaluation it is, read its step from `steps`.",
    ),
    Diagnosis(
        "strict-threshold",
        "'reaches' read as 'exceeds'",
        "An accuracy exactly equal to the target has reached it. Accuracies are fractions of "
        "a fixed number of images, so a value equal to the target happens (0.875 is 7 of 8), "
        "and with > your function skips that evaluation and reports a later one.",
        "Which comparison includes equality?",
    ),
    Diagnosis(
        "last-crossing",
        "the last crossing, not the first",
        "Validation accuracy is noisy: it can reach the target, dip below it and reach it "
        "again. Steps to a target counts until the first time it gets there. Your function "
        "reported a later evaluation: the last one above the target, or the start of the "
        "final stretch above it.",
        "Stop at the first evaluation that qualifies; what happens afterwards does not change "
        "the answer.",
    ),
    Diagnosis(
        "never-reached-not-handled",
        "'never' is not reported as NaN",
        "When no evaluation reaches the target, the contract asks for NaN, so that a mean "
        "over seeds shows the failure and np.isnan can count it. Your function returned a "
        "step, a number standing for 'never' (0, -1, inf or a length), or nothing, or it "
        "raised. A classic source: np.argmax of an all-False array is 0, which reads as "
        "'reached at the first evaluation'.",
        "Check whether any evaluation qualifies before you pick one, and return np.nan when "
        "none does.",
    ),
    Diagnosis(
        "hard-coded-target",
        "a fixed target instead of the argument",
        "Your function behaves as if the target were always the lesson's 95%. The same "
        "measurement is wanted at other targets too: Figure 1's numbers are steps to 80%.",
        "Compare with the `target` argument.",
    ),
    Diagnosis(
        "one-seed-is-enough",
        "a learning rate counted as working when not every seed trained",
        "A learning rate belongs to the working range only if the network learned with it "
        "on every seed: one lucky seed, or a mean over seeds pulled up by good runs, hides "
        "the seeds that failed, and the range then looks wider than it is.",
        "For each learning rate, ask whether all of its seeds passed.",
    ),
    Diagnosis(
        "diverged-not-failure",
        "a diverged run (nan) does not count as a failure",
        "A run whose loss became infinite or NaN ends with a nan accuracy. It did not learn. "
        "np.nanmin and np.nanmean skip it, and a test such as `not (accuracy < threshold)` "
        "lets it pass, so the learning rate where it diverged looks usable.",
        "What does nan >= threshold give? Let that decide, or turn nan into a failing value first.",
    ),
    # --- Lesson 09 (beyond BN: LayerNorm, GroupNorm, RMSNorm) ---
    Diagnosis(
        "norm-stats-over-batch",
        "the statistics average over the batch axis",
        "Layer Norm, Group Norm and RMSNorm exist so that a sample never depends on the other "
        "samples in its batch: each sample (or token) gets its own statistics. Yours mix "
        "values from several samples, the way BN does, so the output for one sample changes "
        "with its batch mates and a batch of one behaves differently from a batch of many.",
        "Take one sample on its own: which of its values share a statistic? The batch axis "
        "(axis 0) is never among the axes you average over.",
    ),
    Diagnosis(
        "gn-wrong-groups",
        "the channels are split into the wrong groups",
        "Group Norm splits the C channels into `groups` groups of C // groups consecutive "
        "channels: with 6 channels and groups=2, channels 0 to 2 form one group and 3 to 5 "
        "the other. Your groups hold other channels: every second channel (an interleaved "
        "split), groups of size `groups` instead of `groups` groups, or no split at all.",
        "When you reshape the channel axis, which of the two new axes has `groups` entries, "
        "and over which one do you average?",
    ),
    Diagnosis(
        "norm-affine-wrong-axis",
        "gamma and beta are applied along the wrong axis",
        "There is one gamma and one beta per channel (shape (C,)), whatever the statistics "
        "were computed over: every sample and every group uses the same per-channel gamma "
        "and beta. Yours give each sample, or each group, its own value, for example after "
        "transposing the batch to reuse BN code, or by keeping one gamma per group.",
        "After normalizing, put x_hat back in the input's layout, then scale and shift "
        "along the channel (last) axis.",
    ),
    Diagnosis(
        "rms-subtracts-mean",
        "RMSNorm subtracts the mean",
        "RMSNorm keeps only Layer Norm's re-scaling: it divides each row by its root mean "
        "square and never subtracts the mean (Zhang & Sennrich, 2019), neither from x nor "
        "inside the root. Subtracting it from x turns RMSNorm back into Layer Norm without "
        "beta; subtracting it inside the root divides by the standard deviation instead. "
        "Either way the outputs differ wherever a row's mean is not 0.",
        "Which quantity is in the name? Compute only that, from x itself.",
    ),
    Diagnosis(
        "rms-uses-l2-norm",
        "divides by the length of the row, not its root mean square",
        "The root mean square is sqrt(mean(x^2)): the mean of the squares, over the d values "
        "of the row. Dividing by sqrt(sum(x^2)) (np.linalg.norm) makes the output sqrt(d) "
        "times too small, so its size depends on how many features there are.",
        "Mean, not sum: divide the sum of squares by the number of values.",
    ),
    # --- Lesson 10 (BN in deployment) ---
    # adapt_statistics (bncourse/grading/exercises/transfer.py)
    Diagnosis(
        "adapt-stale-upstream",
        "later blocks see inputs normalized with the old statistics",
        "Re-estimating goes block by block because each BN layer's input depends on the "
        "blocks before it. If block 1 still normalizes with its old statistics while you "
        "measure block 2's input, block 2's new statistics describe inputs the adapted "
        "network will never produce: at inference block 1 uses its new statistics.",
        "Once a block's statistics are re-estimated, use them to compute what the next block "
        "receives.",
    ),
    Diagnosis(
        "adapt-blends-statistics",
        "the new statistics are blended into the old ones",
        "Your moving statistics are a momentum update, old * momentum + new * (1 - "
        "momentum), as one training-mode call in Keras would leave them. Re-estimating "
        "(AdaBN) replaces them: the old statistics describe the old data, and keeping a share "
        "of them keeps a share of the shift.",
        "How much of the old moving statistics should survive? Store the new ones as they are.",
    ),
    Diagnosis(
        "adapt-wrong-tensor",
        "the statistics describe the wrong tensor",
        "A BN layer's moving mean and variance describe what arrives at it: the output of "
        "the Dense layer before it, not yet normalized. Yours are the statistics of another "
        "tensor: the BN layer's output, the ReLU's output, or the block's input.",
        "Write down the block, Dense -> BN -> ReLU, and mark where BN reads its input.",
    ),
    Diagnosis(
        "adapt-transposed-kernel",
        "the kernel is applied transposed",
        "A Keras Dense kernel has shape (inputs, units): the layer computes x @ kernel, so "
        "column j holds the weights of unit j. Using kernel.T (PyTorch stores its weight as "
        "(units, inputs) and computes x @ weight.T) mixes the units up whenever the kernel is "
        "square.",
        "Which axis of the kernel matches the input's last axis?",
    ),
    Diagnosis(
        "adapt-skips-relu",
        "the next block gets BN's output without the ReLU",
        "Each block is Dense -> BN -> ReLU, so the next block's Dense layer receives the "
        "ReLU's output: BN's output with its negative values set to 0. Without the ReLU the "
        "next block's input, and so every later BN layer's new statistics, describe a "
        "network that does not exist.",
        "Follow one value through a whole block: what is the last thing that happens to it "
        "before the next Dense layer?",
    ),
    # frozen_bn_call (bncourse/grading/exercises/transfer.py)
    Diagnosis(
        "frozen-bn-still-trains",
        "a frozen BN layer still runs in training mode",
        "In Keras, trainable=False on a BatchNormalization layer does more than stop the "
        "optimizer: the layer then runs in inference mode even when it is called with "
        "training=True. Yours normalized with the batch's statistics and updated the moving "
        "ones, as if the flag only froze gamma and beta.",
        "Two flags meet in one call: which combination of training and trainable lets the "
        "layer look at the batch?",
    ),
    Diagnosis(
        "frozen-bn-normalizes-with-batch",
        "a frozen BN layer normalizes with the batch's statistics",
        "Your frozen layer left its moving statistics alone, but its output, when called with "
        "training=True, used the batch's mean and variance. A Keras BN layer with "
        "trainable=False computes exactly its inference output, whatever `training` says.",
        "If the moving statistics may not change, which statistics is the output computed with?",
    ),
    Diagnosis(
        "frozen-bn-updates-statistics",
        "a frozen BN layer still updates its moving statistics",
        "Your frozen layer's output used the moving statistics, but the call still moved them "
        "towards the batch's. In Keras the same condition (training and trainable) guards "
        "both the batch statistics and their update: a frozen layer changes nothing.",
        "What should a frozen layer's moving mean be after any call?",
    ),
    Diagnosis(
        "bn-mode-ignores-training",
        "the layer's mode follows trainable and ignores training",
        "Your layer used the batch's statistics whenever it was trainable, also when it was "
        "called with training=False. trainable=False can force inference mode, but "
        "trainable=True does not force training mode: a call with training=False (predict, "
        "evaluate) always uses the moving statistics.",
        "Look at the call with training=False on a trainable layer: what does inference use?",
    ),
    # --- Lesson 11 (capstone) ---
    Diagnosis(
        "backward-uses-moving-stats",
        "the backward pass normalizes with the moving statistics",
        "The forward call with training=True normalized x with the batch's own mean and "
        "variance, so its gradient must use those same numbers. Your backward pass "
        "recomputed x_hat and the standard deviation from moving_mean and moving_var, which "
        "describe earlier batches (and were just updated): the gradient of a function the "
        "layer never computed.",
        "Which mean and variance did the training-mode forward call use? Keep them (or "
        "x_hat) for the backward pass.",
    ),
    Diagnosis(
        "backward-caches-output",
        "the backward pass uses the layer's output where x_hat belongs",
        "Your backward pass matches a layer that kept y = gamma * x_hat + beta and used it as "
        "x_hat. y is x_hat after the scale and shift, so dgamma and dx come out wrong "
        "whenever gamma is not 1 or beta is not 0: exactly after a few training steps.",
        "Which tensor does gamma multiply in the forward pass? That is the one to keep.",
    ),
    Diagnosis(
        "param-grads-not-summed",
        "dgamma and dbeta are not summed over the batch",
        "gamma and beta are shared by every sample of the batch, so their gradients add up "
        "the contributions of all m samples: one number per feature, a sum over the batch "
        "axis. An average is m times too small (the learning rate silently shrinks for gamma "
        "and beta), and per-sample rows have the wrong shape.",
        "How many samples use each gamma, and what does the chain rule do with a parameter "
        "used m times?",
    ),
    Diagnosis(
        "fold-scales-input-axis",
        "the kernel is scaled along its input-channel axis",
        "A Keras Conv2D kernel has shape (height, width, in_channels, out_channels), and BN "
        "scales each OUTPUT channel. Your kernel was multiplied along the input channels. "
        "With as many input as output channels the shapes still fit, and the folded network "
        "computes something else.",
        "Which axis of the kernel holds one output channel's weights?",
    ),
    # --- Lesson 11: deciding between two placements from runs over seeds ---
    Diagnosis(
        "decides-from-one-seed",
        "the decision reads one seed per placement",
        "Your decisions follow the first seed of each placement and ignore the others. One "
        "training run is one draw from a spread of results: another seed can reverse the "
        "order, and only the other seeds show how wide that spread is.",
        "What do the other seeds say when their order differs from the first seed's?",
    ),
    Diagnosis(
        "compares-best-seeds",
        "the placements are compared by their best seeds",
        "Your decisions follow each placement's best seed. The best of several runs is the "
        "luckiest one: a placement with one lucky seed wins even when its other seeds are "
        "worse than every seed of the other placement.",
        "Which of a placement's seeds does the other placement have to beat before you can "
        "say it is better on every seed?",
    ),
    Diagnosis(
        "ignores-seed-spread",
        "the higher mean wins, however much the seeds interleave",
        "Your decisions follow the mean accuracies alone: on these tests, a difference of "
        "means far smaller than the scatter between seeds still picked a winner. Two "
        "placements whose seeds interleave have not been told apart by the measurement, "
        "whatever their means.",
        "Look at the lowest and highest seed of each placement: when do the two ranges "
        "overlap, and what should the answer be then?",
    ),
    Diagnosis(
        "winner-despite-overlap",
        "a winner is declared though the two ranges of seeds overlap",
        "On a test where one placement's best seed is at least as good as the other's "
        "worst seed, your function still named a winner (for example: the worst seed beats "
        "the other's mean). The contract asks for more: a placement wins only if every one "
        "of its seeds beats every seed of the other.",
        "Compare one placement's worst seed with the other placement's best seed.",
    ),
    Diagnosis(
        "touching-ranges-win",
        "two ranges that touch count as separated",
        "When one placement's worst seed exactly equals the other's best seed, the two "
        "ranges share a value, so some seed of the winner did not beat every seed of the "
        "other. Your function named a winner there; the contract asks for 'tie'.",
        "Which comparison says 'strictly better'?",
    ),
    Diagnosis(
        "decision-labels-swapped",
        "the answer names the losing placement",
        "Your function says 'before' where BN after the ReLU is better on every seed, and "
        "'after' where BN before it is: the rule is right and the labels are swapped (or "
        "accuracies were read as errors, where lower is better).",
        "Which argument holds the runs with BN before the ReLU, and is a higher accuracy "
        "better or worse?",
    ),
    Diagnosis(
        "decides-without-measuring",
        "the same answer whatever the measurement says",
        "Your function gave one answer on every test, whichever placement did better. A "
        'rule of thumb ("BN goes before the activation, as in the paper", or "after it") '
        "is not a decision from the measurement: both placements are used, and which works "
        "better depends on the network and the data.",
        "Where do the numbers in before and after enter your answer?",
    ),
    Diagnosis(
        "accepts-one-seed",
        "a decision from a single run",
        "With one seed for a placement there is no spread: nothing says whether a "
        "difference is larger than the scatter between runs. The contract asks for a "
        "ValueError that names the argument with too few seeds; your function answered "
        "instead.",
        "How many values does a range need before it says anything about the scatter?",
    ),
]

DIAGNOSES: dict[str, Diagnosis] = {entry.id: entry for entry in _ENTRIES}
