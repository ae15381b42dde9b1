import numpy as np
import pytest

from model import build_model


@pytest.fixture(scope="module")
def model():
    return build_model(widths=(8, 16, 32), convs_per_block=(1, 2, 1))


def test_output_is_a_softmax_over_seven_emotions(model):
    x = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1)).astype("float32")
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (5, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert (probs >= 0).all()


def test_rescaling_is_inside_the_model(model):
    assert model.layers[0].name == "rescale"
    assert model.input_shape == (None, 48, 48, 1)


def test_default_model_is_small_and_named():
    m = build_model()
    assert m.count_params() < 3_000_000
    names = [layer.name for layer in m.layers]
    assert names[-1] == "predictions" and "block1_conv1" in names and len(set(names)) == len(names)


def test_h5_round_trip_with_safe_loading(model, tmp_path):
    import keras
    path = tmp_path / "m.h5"
    model.save(path)
    loaded = keras.models.load_model(path, compile=False)
    x = np.full((2, 48, 48, 1), 128, np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_shape": (48, 48, 3)}, r"received \(48, 48, 3\)"),
    ({"num_classes": 1}, "received 1"),
    ({"widths": (8, 16), "convs_per_block": (1, 1, 1)}, r"received \(1, 1, 1\)"),
    ({"dropout": 1.5}, "received 1.5"),
])
def test_bad_arguments_say_what_was_received(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_model(**kwargs)
