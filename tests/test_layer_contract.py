"""The layer contract over every public layer of `layerkit.layers` (issue 14, STYLE.md
"Tests"): output shapes eager vs symbolic, weight counts against Keras 3, config round
trip, one training step, save -> load in both formats, numbers against the oracle.

The cases live in tests/layer_cases.py, the checks in tests/layer_harness.py.
"""

import pytest

import layer_harness as harness
from layer_cases import CASES, EXCLUDED, NOT_LAYERS

IDS = [case.id for case in CASES]
SAVEABLE = [case for case in CASES if case.unsaveable is None]
TWINS = [case for case in CASES if case.keras is not None]
BUILT_IN_TWINS = [case for case in TWINS if case.custom_objects is None]


def test_every_public_layer_has_a_case():
    """A public layer added without a case (or an exclusion with a reason) fails here."""
    public, others = harness.public_layers()
    assert sorted(others) == sorted(NOT_LAYERS), \
        f"capitalised public names that make no layer: {others}; add them to NOT_LAYERS"
    covered = {harness.covered_name(case) for case in CASES}
    missing = sorted(set(public) - covered - set(EXCLUDED))
    assert not missing, f"public layers without a case in tests/layer_cases.py: {missing}"
    assert not covered - set(public), f"cases for non-public layers: {covered - set(public)}"
    assert all(reason for reason in EXCLUDED.values())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_output_shape_eager_equals_symbolic(case):
    harness.check_output_shapes(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_weight_counts_equal_keras(case):
    harness.check_weight_counts(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip(case):
    if case.unsaveable is not None:
        harness.unsaveable_config(case)
    else:
        harness.check_config_round_trip(case)


@pytest.mark.parametrize("case", TWINS, ids=[case.id for case in TWINS])
def test_config_has_keras_arguments(case):
    harness.check_keras_config_keys(case)


# Keras 3 warns reading tf.keras's names (LeakyReLU's alpha, Embedding's input_length)
@pytest.mark.filterwarnings("ignore:Argument `:UserWarning")
@pytest.mark.parametrize("case", BUILT_IN_TWINS, ids=[case.id for case in BUILT_IN_TWINS])
def test_keras_reads_our_config(case):
    harness.check_keras_reads_config(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_one_training_step_changes_weights(case):
    harness.check_training_step(case)


@pytest.mark.parametrize("ext", ["keras", "h5"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_save_load_same_outputs(case, ext, tmp_path):
    if case.unsaveable is not None:
        harness.unsaveable_save(case, tmp_path / f"model.{ext}")
    else:
        harness.check_save_load(case, tmp_path / f"model.{ext}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_numbers_match_oracle(case):
    harness.check_matches_oracle(case)
