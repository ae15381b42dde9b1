import numpy as np
import pytest

from emojify.model import build_model


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


def _trained_looking(model, seed):
    """Batch norm statistics away from 0 and 1, as after training."""
    import keras
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.1, 3, n)])
    return model


def test_the_fused_batch_norm_trains_and_infers_exactly_as_the_keras_layer():
    import keras

    from emojify.model import FusedBatchNorm
    keras.utils.set_random_seed(1)
    fused = _trained_looking(build_model(widths=(8, 16), convs_per_block=(1, 2), dropout=0, fused_norm=True), 1)
    plain = build_model(widths=(8, 16), convs_per_block=(1, 2), dropout=0)
    plain.set_weights(fused.get_weights())
    assert sum(isinstance(layer, FusedBatchNorm) for layer in fused.layers) == 3
    x = np.random.default_rng(2).integers(0, 256, (16, 48, 48, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(fused(x)), np.asarray(plain(x)), atol=1e-5)
    for _ in range(2):  # batch statistics in the output, moving averages updated alike
        np.testing.assert_allclose(np.asarray(fused(x, training=True)), np.asarray(plain(x, training=True)),
                                   atol=1e-5)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_plain_model_is_the_same_model_with_standard_layers_only(tmp_path):
    import keras

    from emojify.model import plain_model
    fused = _trained_looking(build_model(widths=(8, 16), convs_per_block=1, fused_norm=True), 4)
    plain = plain_model(fused)
    assert {type(layer).__module__.split(".")[0] for layer in plain.layers} == {"keras"}
    assert [layer.name for layer in plain.layers] == [layer.name for layer in fused.layers]
    plain.save(tmp_path / "plain.h5")
    loaded = keras.models.load_model(tmp_path / "plain.h5", compile=False)  # safe mode: nothing custom
    x = np.random.default_rng(5).integers(0, 256, (3, 48, 48, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(fused(x)), atol=1e-5)


def test_an_ensemble_averages_its_members_and_loads_from_one_h5_file(tmp_path):
    import keras

    from emojify.inference import EmotionClassifier, ensemble_members, folded_inference, load_model
    from emojify.model import build_ensemble
    keras.utils.set_random_seed(6)
    members = [_trained_looking(build_model(widths=(8, 16), convs_per_block=1), 6),
               _trained_looking(build_model(widths=(8, 16, 16), convs_per_block=(1, 1, 2), fused_norm=True), 7)]
    path = tmp_path / "ensemble.h5"
    build_ensemble(members).save(path)
    ensemble = load_model(path)
    assert [m.name for m in ensemble_members(ensemble)] == ["member1", "member2"]
    faces = np.random.default_rng(8).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    x = faces[..., None].astype("float32")
    mean = (np.asarray(members[0](x)) + np.asarray(members[1](x))) / 2
    np.testing.assert_allclose(np.asarray(ensemble(x)), mean, atol=1e-5)
    assert folded_inference(ensemble) is not None  # each member folded, as a single model is
    np.testing.assert_allclose(EmotionClassifier(ensemble, views=1)(faces), mean, atol=1e-5)
    assert ensemble_members(members[0]) is None


@pytest.mark.parametrize("members, message", [(1, "received 1"), ("shapes", "same shapes")])
def test_ensemble_arguments_say_what_was_received(members, message):
    from emojify.model import build_ensemble
    if members == "shapes":
        members = [build_model(), build_model(num_classes=5)]
    else:
        members = [build_model(widths=(8,), convs_per_block=1)]
    with pytest.raises(ValueError, match=message):
        build_ensemble(members)


def test_a_normalising_model_comes_back_from_h5_the_same_and_ignores_light(tmp_path):
    """--normalize: each face standardised inside the model; an .h5 round trip keeps it (a LayerNormalization
    over three axes came back over the channel alone and zeroed every face), and so do folded inference and
    the LiteRT export."""
    import keras

    from emojify.export import export_model
    from emojify.inference import EmotionClassifier, load_model
    from emojify.lite import LiteClassifier
    from emojify.model import plain_model
    keras.utils.set_random_seed(3)
    model = build_model(widths=(8, 16), convs_per_block=1, normalize=True, fused_norm=True)
    _trained_looking(model, 3)
    path = tmp_path / "normalising.h5"
    plain_model(model).save(path)
    faces = np.random.default_rng(4).integers(40, 200, (6, 48, 48), dtype=np.uint8)
    expected = np.asarray(model(faces[..., None].astype("float32"), training=False))
    loaded = load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(faces[..., None].astype("float32"))), expected, atol=1e-5)
    np.testing.assert_allclose(EmotionClassifier(loaded, views=1)(faces), expected, atol=1e-5)
    np.testing.assert_allclose(LiteClassifier(export_model(path, loaded), views=1)(faces), expected, atol=1e-5)
    dim = (faces.astype(np.float32) * 0.5 + 10).astype(np.uint8)  # the same faces in flat, dim light
    np.testing.assert_allclose(EmotionClassifier(loaded, views=1)(dim), expected, atol=0.05)
    assert not np.allclose(expected, expected[:1])  # different faces, different answers


def test_a_trained_model_gains_the_light_normalisation_in_front(tmp_path):
    """with_light_norm (train.py --init-from MODEL --normalize): a face already at LIGHT_MEAN / LIGHT_STD reads as
    before, a dim flat copy of it reads the same, and the .h5 file, folded inference and LiteRT agree."""
    import keras

    from emojify.export import export_model
    from emojify.inference import EmotionClassifier, load_model
    from emojify.lite import LiteClassifier
    from emojify.model import LIGHT_MEAN, LIGHT_STD, has_light_norm, plain_model, with_light_norm
    keras.utils.set_random_seed(5)
    model = build_model(widths=(8, 16), convs_per_block=1)
    _trained_looking(model, 5)
    normed = with_light_norm(model)
    assert has_light_norm(normed) and not has_light_norm(model)
    raw = np.random.default_rng(6).normal(0, 1, (6, 48, 48))
    raw = (raw - raw.mean(axis=(1, 2), keepdims=True)) / raw.std(axis=(1, 2), keepdims=True)
    faces = (raw * LIGHT_STD + LIGHT_MEAN)[..., None].astype("float32")  # already at the level it brings faces to
    before = np.asarray(model(faces, training=False))
    np.testing.assert_allclose(np.asarray(normed(faces, training=False)), before, atol=1e-4)
    dim = faces * 0.4 + 20  # the same faces, darker and flatter
    np.testing.assert_allclose(np.asarray(normed(dim, training=False)), before, atol=1e-4)
    assert not np.allclose(np.asarray(model(dim, training=False)), before, atol=1e-3)  # the plain model is fooled
    path = tmp_path / "normed.h5"
    plain_model(normed).save(path)
    loaded = load_model(path)
    u8 = np.clip(dim[..., 0], 0, 255).astype(np.uint8)
    expected = np.asarray(normed(u8[..., None].astype("float32"), training=False))
    np.testing.assert_allclose(EmotionClassifier(loaded, views=1)(u8), expected, atol=1e-5)
    np.testing.assert_allclose(LiteClassifier(export_model(path, loaded), views=1)(u8), expected, atol=1e-5)
    with pytest.raises(ValueError, match="already normalises"):
        with_light_norm(normed)


def _faces_sharp_and_soft(seed):
    """Faces as sharp as FER-2013's (fine detail, full contrast) and the same faces blurred and flattened."""
    import cv2
    rng = np.random.default_rng(seed)
    sharp = [cv2.resize(rng.integers(0, 256, (24, 24)).astype(np.uint8), (48, 48), interpolation=cv2.INTER_NEAREST)
             for _ in range(3)]
    soft = [(cv2.GaussianBlur(f, (0, 0), 2.0) * 0.5 + 60).astype(np.uint8) for f in sharp]
    return np.stack(sharp + soft)


def test_a_gated_model_reads_sharp_faces_with_one_side_and_soft_ones_with_the_other(tmp_path):
    import keras

    from emojify.config import SHARP_LEVEL
    from emojify.detect import sharpness
    from emojify.inference import EmotionClassifier, folded_inference, indexed_members, load_model
    from emojify.model import build_gated
    keras.utils.set_random_seed(9)
    sharp = [_trained_looking(build_model(widths=(8, 16), convs_per_block=1), 9),
             _trained_looking(build_model(widths=(8, 16, 16), convs_per_block=1), 10)]
    soft = [_trained_looking(build_model(widths=(8, 16), convs_per_block=1, normalize=True), 11)]
    path = tmp_path / "gated.h5"
    build_gated(sharp, soft).save(path)
    gated = load_model(path)
    assert [(i, m.name) for i, m in indexed_members(gated)] == [(0, "sharp1"), (1, "sharp2"), (2, "soft1")]

    faces = _faces_sharp_and_soft(12)
    level = sharpness(faces)
    assert (level[:3] >= SHARP_LEVEL).all() and (level[3:] < SHARP_LEVEL).all()
    x = faces[..., None].astype("float32")
    by_side = [np.mean([np.asarray(m(x)) for m in side], axis=0) for side in (sharp, soft)]
    expected = np.where((level >= SHARP_LEVEL)[:, None], *by_side)
    np.testing.assert_allclose(np.asarray(gated(x)), expected, atol=1e-5)
    assert folded_inference(gated) is not None
    np.testing.assert_allclose(EmotionClassifier(gated, views=1)(faces), expected, atol=1e-5)
    measured = keras.Model(gated.input, gated.get_layer("sharpness_mean").output)(x)
    np.testing.assert_allclose(np.sum(measured, axis=1), level, rtol=1e-5)  # the model's measure is the dataset's


@pytest.mark.parametrize("sides, level, message", [(("one", ""), 160, "received 1 sharp and 0 soft"),
                                                    (("one", "one"), 0, "received 0"),
                                                    (("one", "five"), 160, "same shapes")])
def test_gated_arguments_say_what_was_received(sides, level, message):
    from emojify.model import build_gated
    made = {"": [], "one": [build_model(widths=(8,), convs_per_block=1)],
            "five": [build_model(widths=(8,), convs_per_block=1, num_classes=5)]}
    with pytest.raises(ValueError, match=message):
        build_gated(made[sides[0]], made[sides[1]], level)
