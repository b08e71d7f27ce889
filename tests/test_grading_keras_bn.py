"""The model-builder check: correct builders in any style pass, each misplacement is named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bncourse.grading import DIAGNOSES, EXERCISES, check
from bncourse.grading.execution import Observation, Returned
from bncourse.grading.exercises.keras_bn import (
    decode_description,
    describe_model,
    encode_description,
    judge_model,
    model_text,
)

keras = pytest.importorskip("keras")
L = keras.layers

EXERCISE = "build_dense_bn_model"


# ---------------------------------------------------------------------------
# Correct builders, written the ways learners write them.
# ---------------------------------------------------------------------------


def sequential(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units, use_bias=False),
            L.BatchNormalization(),
            L.Activation("relu"),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


def functional(input_dim, units, num_classes):
    inputs = keras.Input(shape=(input_dim,))
    h = L.Dense(units, use_bias=False)(inputs)
    h = L.BatchNormalization()(h)
    h = L.Activation("relu")(h)
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(h))


def named_layers(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,), name="pixels")
    h = L.Dense(units, use_bias=False, name="hidden")(inputs)
    h = L.BatchNormalization(name="bn")(h)
    h = L.Activation("relu", name="relu")(h)
    outputs = L.Dense(num_classes, activation="softmax", name="probabilities")(h)
    return keras.Model(inputs=inputs, outputs=outputs, name="dense_bn")


def relu_layer_and_softmax_layer(input_dim, units, num_classes):
    model = keras.Sequential(name="with_layers")
    model.add(keras.Input((input_dim,)))
    model.add(L.Dense(units, use_bias=False))
    model.add(L.BatchNormalization())
    model.add(L.ReLU())
    model.add(L.Dense(num_classes))
    model.add(L.Softmax())
    return model


def nested_sequential(input_dim, units, num_classes):
    body = keras.Sequential(
        [keras.Input((input_dim,)), L.Dense(units, use_bias=False), L.BatchNormalization()]
    )
    inputs = keras.Input((input_dim,))
    h = L.Activation("relu")(body(inputs))
    return keras.Model(inputs, L.Dense(num_classes, activation=keras.activations.softmax)(h))


CORRECT = [
    sequential,
    functional,
    named_layers,
    relu_layer_and_softmax_layer,
    nested_sequential,
]


@pytest.mark.parametrize("builder", CORRECT, ids=lambda fn: fn.__name__)
def test_correct_builders_pass(builder):
    result = check(EXERCISE, builder)
    assert result.passed, str(result)
    assert result.status == "passed"
    assert result.score == result.max_score
    assert result.diagnosis is None


# ---------------------------------------------------------------------------
# Each diagnosis, from two different wrong builders.
# ---------------------------------------------------------------------------


def bias_kept_sequential(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units),  # use_bias defaults to True
            L.BatchNormalization(),
            L.Activation("relu"),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


def bias_kept_functional(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,))
    h = L.Dense(units, use_bias=True, name="hidden")(inputs)
    h = L.ReLU()(L.BatchNormalization(name="bn")(h))
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(h))


def activation_inside_dense(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units, use_bias=False, activation="relu"),
            L.BatchNormalization(),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


def activation_layer_before_bn(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,))
    h = L.Dense(units, use_bias=False)(inputs)
    h = L.BatchNormalization()(L.Activation("relu")(h))
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(h))


def no_normalization(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units, use_bias=False),
            L.Activation("relu"),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


def layer_norm_instead(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,))
    h = L.LayerNormalization()(L.Dense(units, use_bias=False)(inputs))
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(L.ReLU()(h)))


def pytorch_momentum_and_eps(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units, use_bias=False),
            L.BatchNormalization(momentum=0.1, epsilon=1e-5),
            L.Activation("relu"),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


def pytorch_eps_only(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,))
    h = L.BatchNormalization(epsilon=1e-5)(L.Dense(units, use_bias=False)(inputs))
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(L.ReLU()(h)))


WRONG = {
    "pytorch-bn-settings": [pytorch_momentum_and_eps, pytorch_eps_only],
    "bias-before-bn": [bias_kept_sequential, bias_kept_functional],
    "bn-after-activation": [activation_inside_dense, activation_layer_before_bn],
    "missing-batchnorm": [no_normalization, layer_norm_instead],
}


@pytest.mark.parametrize(
    "diagnosis, builder",
    [(diagnosis, builder) for diagnosis, builders in WRONG.items() for builder in builders],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_each_misconception_is_named(diagnosis, builder):
    result = check(EXERCISE, builder)
    assert not result.passed and result.status == "failed"
    assert result.score == 0
    assert result.diagnosis == diagnosis, str(result)
    assert DIAGNOSES[diagnosis].title in result.feedback
    assert "your model is:" in result.feedback  # the learner sees what they built


def test_model_specific_diagnoses_are_in_the_catalogue():
    assert set(WRONG) <= set(DIAGNOSES)


def test_two_misplacements_at_once_are_both_named():
    def both(input_dim, units, num_classes):
        return keras.Sequential(
            [
                keras.Input((input_dim,)),
                L.Dense(units, activation="relu"),
                L.BatchNormalization(),
                L.Dense(num_classes, activation="softmax"),
            ]
        )

    result = check(EXERCISE, both)
    assert set(result.diagnoses) == {"bn-after-activation", "bias-before-bn"}


def test_dense_bias_after_bn_is_not_blamed():
    # Only the layer feeding BN must drop its bias; the output layer keeps one.
    def explicit_output_bias(input_dim, units, num_classes):
        model = sequential(input_dim, units, num_classes)
        assert model.layers[-1].use_bias
        return model

    assert check(EXERCISE, explicit_output_bias).passed


# ---------------------------------------------------------------------------
# Departures from the contract that are not BN misconceptions: plain feedback.
# ---------------------------------------------------------------------------


def missing_softmax(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units, use_bias=False),
            L.BatchNormalization(),
            L.Activation("relu"),
            L.Dense(num_classes),
        ]
    )


def swapped_sizes(input_dim, units, num_classes):
    return sequential(input_dim, num_classes, units)


def extra_dropout(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,))
    h = L.Activation("relu")(L.BatchNormalization()(L.Dense(units, use_bias=False)(inputs)))
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(L.Dropout(0.5)(h)))


def without_input(input_dim, units, num_classes):
    return keras.Sequential(
        [
            L.Dense(units, use_bias=False),
            L.BatchNormalization(),
            L.Activation("relu"),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


def sigmoid_hidden(input_dim, units, num_classes):
    inputs = keras.Input((input_dim,))
    h = L.Activation("sigmoid")(L.BatchNormalization()(L.Dense(units, use_bias=False)(inputs)))
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(h))


def bn_without_center(input_dim, units, num_classes):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            L.Dense(units, use_bias=False),
            L.BatchNormalization(center=False),
            L.Activation("relu"),
            L.Dense(num_classes, activation="softmax"),
        ]
    )


@pytest.mark.parametrize(
    "builder, phrase",
    [
        (missing_softmax, "does not end in a softmax"),
        (swapped_sizes, "units=32 asks for 32"),
        (extra_dropout, "Leave out the layers the contract does not ask for: Dropout"),
        (without_input, "start it with keras.Input((input_dim,))"),
        (sigmoid_hidden, "The hidden activation is 'sigmoid'"),
        (bn_without_center, "center=True"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_contract_departures_get_plain_feedback(builder, phrase):
    result = check(EXERCISE, builder)
    assert not result.passed and result.status == "failed"
    assert result.diagnosis is None, str(result)
    assert phrase in result.feedback, str(result)
    assert "your model is: " in result.feedback  # the model as the check read it


# ---------------------------------------------------------------------------
# Builders that do not return a model at all.
# ---------------------------------------------------------------------------


def test_a_builder_that_raises_gets_the_error_named():
    def build_dense_bn_model(input_dim, units, num_classes):
        raise ValueError("units must be positive")

    result = check(EXERCISE, build_dense_bn_model)
    assert result.status == "error" and result.score == 0
    assert "raised ValueError: units must be positive" in result.feedback


def test_a_builder_that_returns_none_is_told_to_return_the_model():
    def build_dense_bn_model(input_dim, units, num_classes):
        sequential(input_dim, units, num_classes)  # builds it, forgets to return it

    result = check(EXERCISE, build_dense_bn_model)
    assert result.status == "error"
    assert "returned None. Is the return statement missing?" in result.feedback


@pytest.mark.parametrize(
    "returned, phrase",
    [
        (lambda: L.Dense(4), "returned a Dense layer, not a model"),
        (lambda: [L.Dense(4), L.BatchNormalization()], "returned a list, not a keras.Model"),
        (lambda: "model", "returned a str, not a keras.Model"),
    ],
)
def test_a_builder_that_returns_a_non_model_is_told_what_it_returned(returned, phrase):
    result = check(EXERCISE, lambda input_dim, units, num_classes: returned())
    assert result.status == "error" and not result.passed
    assert phrase in result.feedback


def test_the_untouched_stub_is_not_attempted():
    def build_dense_bn_model(input_dim, units, num_classes):
        raise NotImplementedError("Write build_dense_bn_model.")

    result = check(EXERCISE, build_dense_bn_model)
    assert result.status == "not-attempted" and result.score == 0


def test_a_builder_right_on_one_case_only_gets_partial_credit():
    def only_digits(input_dim, units, num_classes):
        return sequential(64, 32, 10)  # ignores its arguments

    result = check(EXERCISE, only_digits)
    assert result.status == "failed"
    assert result.score == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# The two halves: describing (learner's side) and judging (data only).
# ---------------------------------------------------------------------------


def test_description_lists_layers_in_order_with_their_settings():
    description = describe_model(sequential(5, 7, 3))
    assert description["kind"] == "model"
    assert description["input_shape"] == [None, 5]
    assert description["output_shape"] == [None, 3]
    assert [layer["class"] for layer in description["layers"]] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]
    hidden, _, act, output = description["layers"]
    assert (hidden["units"], hidden["use_bias"], hidden["activation"]) == (7, False, "linear")
    assert act["activation"] == "relu"
    assert (output["units"], output["activation"]) == (3, "softmax")
    assert model_text(description).startswith("Dense(7, use_bias=False) -> BatchNormalization()")


def test_nested_models_are_opened_up():
    description = describe_model(nested_sequential(5, 7, 3))
    assert [layer["class"] for layer in description["layers"]] == [
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]


def test_description_of_non_models():
    assert describe_model(None) == {"kind": "none"}
    assert describe_model(L.Dense(3)) == {"kind": "not-a-model", "type": "Dense", "is_layer": True}
    assert describe_model(3.5)["type"] == "float"


def test_description_survives_the_transport_and_json_returned_values():
    description = describe_model(functional(5, 7, 3))
    encoded = encode_description(description)
    assert encoded.dtype == np.uint8
    returned = Returned("array", array=encoded, dtype="uint8")
    assert decode_description(returned) == description
    assert decode_description(Returned("json", data=description)) == description
    assert decode_description(Returned("array", array=np.zeros(3), dtype="float64")) is None
    assert decode_description(None) is None


def test_the_judge_needs_only_descriptions():
    exercise = EXERCISES[EXERCISE]
    cases = exercise.cases()
    good = [
        Observation("ok", Returned("json", data=describe_model(sequential(**case.args))))
        for case in cases
    ]
    assert judge_model(exercise, cases, good).passed
    with_bias = [
        Observation("ok", Returned("json", data=describe_model(bias_kept_sequential(**c.args))))
        for c in cases
    ]
    assert judge_model(exercise, cases, with_bias).diagnosis == "bias-before-bn"


def test_exercise_is_registered_for_lesson_06():
    exercise = EXERCISES[EXERCISE]
    assert exercise.lesson == "06_batchnorm_in_keras"
    assert exercise.custom_judge is judge_model
    sizes = [tuple(case.args.values()) for case in exercise.cases()]
    assert len(sizes) >= 2 and all(len(set(size)) == 3 for size in sizes)


def test_importing_the_grader_does_not_import_keras():
    code = (
        "import sys, bncourse.grading\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'imported'\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
