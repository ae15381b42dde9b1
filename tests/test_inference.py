"""The classifier every front-end uses: a real Keras model, folded batch norms, views, model-file errors."""
import numpy as np
import pytest

from emojify.emotions import EMOTIONS
from emojify.errors import ModelError
from emojify.inference import EmotionClassifier, folded_inference, load_model


@pytest.fixture(scope="module")
def classifier(tiny_model_path):
    return EmotionClassifier(load_model(tiny_model_path))


def test_one_batched_call_equals_faces_one_by_one(classifier, fer_faces):
    faces = np.stack(fer_faces)
    together = classifier(faces)
    alone = np.concatenate([classifier(f[None]) for f in faces])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)


def test_views_average_the_face_its_mirror_and_half_pixel_shifts(classifier, fer_faces):
    faces = np.stack(fer_faces)
    x = faces[..., None].astype(np.float32)
    padded = np.pad(x, ((0, 0), (1, 0), (1, 0), (0, 0)), mode="edge")
    shifted = (padded[:, :-1, :-1] + padded[:, 1:, :-1] + padded[:, :-1, 1:] + padded[:, 1:, 1:]) / 4
    model = classifier.model
    face, mirror = np.asarray(model(x)), np.asarray(model(x[:, :, ::-1]))
    shifted, shifted_mirror = np.asarray(model(shifted)), np.asarray(model(shifted[:, :, ::-1]))
    assert classifier.views == 4
    np.testing.assert_allclose(classifier(faces), (face + mirror + shifted + shifted_mirror) / 4, atol=1e-5)
    np.testing.assert_allclose(EmotionClassifier(model, views=2)(faces), (face + mirror) / 2, atol=1e-5)
    with pytest.raises(ValueError, match="received 3"):
        EmotionClassifier(model, views=3)


def test_folded_batch_norm_matches_the_keras_model():
    import keras

    from emojify.model import build_model
    keras.utils.set_random_seed(3)
    model = build_model(widths=(8, 16, 16), convs_per_block=(1, 2, 1))
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):  # trained-looking statistics, not 0 and 1
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.1, 3, n)])
    faces = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    x = faces[..., None].astype(np.float32)
    folded = folded_inference(model)
    assert folded is not None
    np.testing.assert_allclose(np.asarray(folded(x)), np.asarray(model(x, training=False)), atol=1e-5)
    np.testing.assert_allclose(EmotionClassifier(model, views=1)(faces), np.asarray(model(x)), atol=1e-5)


def test_classifier_calls_other_models_as_they_are():
    import keras
    from keras import layers
    model = keras.Sequential([keras.Input((48, 48, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(len(EMOTIONS), activation="softmax")])
    assert folded_inference(model) is None
    faces = np.random.default_rng(0).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    expected = np.asarray(model(faces[..., None].astype(np.float32)))
    np.testing.assert_allclose(EmotionClassifier(model, views=1)(faces), expected, atol=1e-6)


def test_model_file_errors_are_one_actionable_line(tmp_path, tiny_model_path):
    with pytest.raises(ModelError, match="python train.py"):
        load_model(tmp_path / "absent.h5")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an hdf5 file")
    with pytest.raises(ModelError, match="cannot read model file"):
        load_model(broken)
    from emojify.model import build_model
    wrong = tmp_path / "five.h5"
    build_model(widths=(4,), convs_per_block=1, num_classes=5).save(wrong)
    with pytest.raises(ModelError, match="predicts 5 classes but emotions.py has 7"):
        load_model(wrong)


def test_a_model_with_non_finite_weights_is_refused(tmp_path):
    import numpy as np
    import pytest

    from emojify.errors import ModelError
    from emojify.inference import import_tensorflow, load_model
    import_tensorflow()
    from emojify.model import build_model
    model = build_model(widths=(8,), convs_per_block=1)
    weights = model.get_weights()
    weights[0][0, 0, 0, 0] = np.nan
    model.set_weights(weights)
    model.save(tmp_path / "nan.h5")
    with pytest.raises(ModelError, match="holds NaN or infinite weights"):
        load_model(tmp_path / "nan.h5")
