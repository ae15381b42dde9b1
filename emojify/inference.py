"""Faces in, emotion probabilities out: the TensorFlow import, model loading and the classifier every
front-end and script uses. An ensemble (model.build_ensemble) is one model file like any other."""
import logging
import os
import re
import sys
from pathlib import Path

import numpy as np

from emojify.config import FACE_SIZE, MODEL_PATH, TF_LOG_LEVEL, VIEWS
from emojify.emotions import EMOTIONS, NUM_CLASSES
from emojify.errors import AppError, ModelError
from emojify.quiet import quiet_stderr


def import_tensorflow():
    """Import TensorFlow with its start-up chatter (CUDA probing, oneDNN notices) kept off stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_LOG_LEVEL)
    with quiet_stderr():
        import tensorflow as tf
        tf.constant(0) + 0  # the first op probes devices: let it log here, not on the user's terminal
    # Keras warns through absl on every .h5 save (the format we ship, for its safe loading); not for users.
    logging.getLogger("absl").setLevel(logging.ERROR)
    return tf


def load_model(path=MODEL_PATH):
    """Load a trained model with Keras' safe defaults and check it fits the emotions and the face size."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} not found: train one with `python train.py` "
                         "(see README, 'Training') or pass --model PATH.")
    import_tensorflow()
    import keras
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # h5py/keras raise many types for a damaged file
        raise ModelError(f"cannot read model file {path} ({type(e).__name__}: {str(e)[:120]}); "
                         "re-train it with `python train.py` or pass another --model.") from None
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        raise ModelError(f"{path} holds NaN or infinite weights (its training diverged); "
                         "re-train it with a lower --lr or pass another --model.")
    shape_in, shape_out = tuple(model.input_shape), tuple(model.output_shape)
    if shape_out[-1] != NUM_CLASSES:
        raise ModelError(f"{path} predicts {shape_out[-1]} classes but emotions.py has {NUM_CLASSES} "
                         f"({', '.join(EMOTIONS)}); use a model trained by this train.py.")
    if shape_in[1:] != (FACE_SIZE, FACE_SIZE, 1):
        raise ModelError(f"{path} expects input {shape_in[1:]}, not {FACE_SIZE}x{FACE_SIZE} grayscale faces; "
                         "use a model trained by this train.py.")
    return model


def ensemble_members(model):
    """The member models of an ensemble that model.build_ensemble made, or None for any other model."""
    import keras
    layers = list(model.layers)
    if (isinstance(model, keras.Sequential) or len(layers) < 4 or not isinstance(layers[0], keras.layers.InputLayer)
            or not isinstance(layers[-1], keras.layers.Average)
            or not all(isinstance(m, keras.Sequential) for m in layers[1:-1])):
        return None
    return layers[1:-1]


def gated_sides(model):
    """([sharp members], [soft members], level) of a model read by sharpness (model.build_gated), else None."""
    import keras
    names = {layer.name for layer in model.layers}
    if not {"gate", "sharpness_sobel"} <= names:
        return None
    # Each side is read from the graph, not from the names: a member on both sides is one layer, named once.
    made_by = {id(layer.output): layer for layer in model.layers}
    sides = []
    for reading in model.get_layer("sharp_minus_soft").input:
        layer = made_by[id(reading)]
        parts = [made_by[id(x)] for x in layer.input] if isinstance(layer, keras.layers.Average) else [layer]
        sides.append([m for m in parts if isinstance(m, keras.Model)])
    kernel, bias = model.get_layer("gate").get_weights()
    return sides[0], sides[1], float(-bias[0] / kernel[0, 0])


def indexed_members(model):
    """[(i, member)] for an ensemble's members (a model read by sharpness: its sharp side's, then its soft
    side's not already listed), [(None, model)] for a single model."""
    gated = gated_sides(model)
    parts = ensemble_members(model) if gated is None else list({id(m): m for m in gated[0] + gated[1]}.values())
    return [(None, model)] if parts is None else list(enumerate(parts))


def member_name(path, index=None):
    """How a member is named on the command line: FILE, or FILE[i] for member i of an ensemble file."""
    return str(path) if index is None else f"{path}[{index}]"


def member_spec(text):
    """(path, member index or None) from 'FILE' or 'FILE[i]'; a file whose name ends in [i] is itself."""
    found = re.fullmatch(r"(.+)\[(\d+)\]", str(text))
    if found and not Path(text).exists():
        return Path(found[1]), int(found[2])
    return Path(text), None


def pick_member(model, path, index):
    """The model itself (index None), or its ensemble's member index; AppError when there is none such."""
    if index is None:
        return model
    parts = [m for i, m in indexed_members(model) if i is not None] or None
    if parts is None or index >= len(parts):
        has = "is not an ensemble" if parts is None else f"has members 0-{len(parts) - 1}"
        raise AppError(f"{member_name(path, index)}: {path} {has}; pass FILE for a single model, FILE[i] for an "
                       "ensemble's member i.")
    return parts[index]


def load_member(text):
    """The model 'FILE' names, or member i of the ensemble 'FILE[i]' names (as assemble.py takes them)."""
    path, index = member_spec(text)
    return pick_member(load_model(path), path, index)


def folded_inference(model):
    """The model's inference pass with every batch norm folded into the conv before it, or None.

    An ensemble is folded member by member and their outputs averaged.

    Conv -> batch norm -> ReLU at inference is one conv with adjusted weights and a bias, so each block
    costs one fused op instead of several passes over its activations. Works for the plain stacks that
    model.py builds (rescaling, conv/bn/relu, max pooling, global average pooling, dropout, dense);
    for anything else it returns None and the Keras model is called as it is.
    """
    tf = import_tensorflow()
    gated = gated_sides(model)
    if gated is not None:
        return _folded_gated(model, gated, tf)
    members = ensemble_members(model)
    if members is not None:
        runs = [folded_inference(m) for m in members]
        if any(run is None for run in runs):
            return None
        return lambda x: tf.add_n([run(x) for run in runs]) / len(runs)
    steps = _folded_steps(model, tf)
    return None if steps is None else (lambda x: _run_steps(steps, x, tf))


def _folded_gated(model, gated, tf):
    """folded_inference of a model read by sharpness: each side's members folded, the gate's own layers."""
    runs = {id(m): folded_inference(m) for m in gated[0] + gated[1]}
    if any(run is None for run in runs.values()):
        return None
    gate = [model.get_layer(name) for name in
            ("sharpness_sobel", "sharpness_abs", "sharpness_inner", "sharpness_mean", "gate", "gate_step")]

    def run(x):
        read = {key: r(x) for key, r in runs.items()}  # a member on both sides runs once
        sharp, soft = (tf.add_n([read[id(m)] for m in side]) / len(side) for side in gated[:2])
        step = x
        for layer in gate:
            step = layer(step)
        return soft + step * (sharp - soft)
    return run


def _folded_steps(model, tf):
    """The model's layers as a list of folded steps, or None where a layer is not one folded_inference knows."""
    import keras
    from keras import layers as L

    stack, steps, i = list(model.layers), [], 0
    while i < len(stack):
        layer = stack[i]
        if isinstance(layer, L.Rescaling):
            steps.append(("affine", float(layer.scale), float(layer.offset)))
        elif isinstance(layer, L.Dropout):
            pass
        elif (isinstance(layer, L.LayerNormalization) and not layer.center and not layer.scale
              and sorted(a % 4 for a in layer.axis) == [1, 2, 3]):  # as model.py built it before light_norm_flat
            steps.append(("standardize", float(layer.epsilon)))
        elif isinstance(layer, L.Reshape) and _flat_standardize(stack[i:i + 3]):
            steps.append(("standardize", float(stack[i + 1].epsilon)))  # flatten -> layer norm -> back
            i += 3
            continue
        elif isinstance(layer, L.Conv2D):
            bn = stack[i + 1] if i + 1 < len(stack) else None
            act = stack[i + 2] if i + 2 < len(stack) else None
            if (type(layer) is not L.Conv2D or layer.activation is not keras.activations.linear
                    or layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1)
                    or layer.groups != 1 or not isinstance(bn, L.BatchNormalization) or bn.axis not in (-1, 3)
                    or not isinstance(act, L.ReLU) or act.max_value is not None or act.negative_slope
                    or act.threshold):
                return None
            kernel = layer.kernel.numpy()
            mean, var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
            gamma = bn.gamma.numpy() if bn.scale else np.ones_like(mean)
            beta = bn.beta.numpy() if bn.center else np.zeros_like(mean)
            scale = gamma / np.sqrt(var + bn.epsilon)
            bias = beta - mean * scale + (layer.bias.numpy() * scale if layer.use_bias else 0)
            steps.append(("conv", tf.constant(kernel * scale, tf.float32), tf.constant(bias, tf.float32),
                          list(layer.strides), layer.padding.upper()))
            i += 3
            continue
        elif isinstance(layer, L.MaxPooling2D):
            if layer.data_format != "channels_last":
                return None
            steps.append(("pool", list(layer.pool_size), list(layer.strides), layer.padding.upper()))
        elif isinstance(layer, L.GlobalAveragePooling2D) and layer.data_format == "channels_last":
            steps.append(("mean",))
        elif isinstance(layer, L.Dense) and layer.activation is keras.activations.softmax and i == len(stack) - 1:
            steps.append(("dense", tf.constant(layer.kernel.numpy(), tf.float32),
                          tf.constant(layer.bias.numpy(), tf.float32)))
        else:
            return None
        i += 1
    if not steps or steps[-1][0] != "dense":
        return None
    return steps


def _flat_standardize(layers):
    """Whether layers are model.py's light normalisation: flatten, a plain LayerNormalization, reshape back."""
    from keras import layers as L
    if len(layers) != 3:
        return False
    flat, norm, back = layers
    return (isinstance(norm, L.LayerNormalization) and not norm.center and not norm.scale
            and list(norm.axis) in ([-1], [1]) and isinstance(back, L.Reshape)
            and tuple(back.target_shape) == tuple(flat.input.shape[1:]) and len(flat.target_shape) == 1)


def _run_steps(steps, x, tf):
    for step in steps:
        kind = step[0]
        if kind == "affine":
            x = x * step[1] + step[2]
        elif kind == "standardize":
            mean, var = tf.nn.moments(x, axes=[1, 2, 3], keepdims=True)
            x = (x - mean) * tf.math.rsqrt(var + step[1])
        elif kind == "conv":
            x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, step[1], step[3], step[4]), step[2]))
        elif kind == "pool":
            x = tf.nn.max_pool2d(x, step[1], step[2], step[3])
        elif kind == "mean":
            x = tf.reduce_mean(x, axis=[1, 2])
        else:
            x = tf.nn.softmax(tf.matmul(x, step[1]) + step[2])
    return x


class EmotionClassifier:
    """All faces of a frame in one call of a compiled function (never model.predict per face).

    views=1 classifies each face once. views=2 also classifies its mirror image in the same batch and
    averages the two; views=4 adds both shifted by half a pixel (each pixel the mean of a 2x2 block).
    Every training image was resampled by the augmentation's warp, so the shifted pair is a different
    view of the kind the model learned from; averaging four views gains 1-2 points of accuracy on
    held-out FER-2013 faces. The weights are read once, when the classifier is made (batch norms folded
    into the convs, see folded_inference).
    """

    backend = "Keras"

    def __init__(self, model, views=4):
        if views not in VIEWS:
            raise ValueError(f"views must be one of {VIEWS}; received {views!r}.")
        tf = import_tensorflow()
        self.model = model if not isinstance(model, (str, Path)) else load_model(model)
        self.views = views
        self.num_classes = int(self.model.output_shape[-1])
        forward = folded_inference(self.model) or (lambda x: self.model(x, training=False))

        @tf.function(input_signature=[tf.TensorSpec([None, FACE_SIZE, FACE_SIZE], tf.uint8)],
                     reduce_retracing=True)
        def run(faces):
            x = tf.cast(faces[..., None], tf.float32)
            if views == 1:
                return forward(x)
            batch = [x, x[:, :, ::-1]]
            if views == 4:
                shifted = tf.nn.avg_pool2d(tf.pad(x, [[0, 0], [1, 0], [1, 0], [0, 0]], "SYMMETRIC"), 2, 1, "VALID")
                batch += [shifted, shifted[:, :, ::-1]]
            p = forward(tf.concat(batch, axis=0))
            return tf.reduce_mean(tf.reshape(p, [len(batch), tf.shape(x)[0], -1]), axis=0)

        self._run = run
        self(np.zeros((1, FACE_SIZE, FACE_SIZE), np.uint8))  # trace now, not on the first live frame

    def __call__(self, faces):
        if len(faces) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        return self._run(np.ascontiguousarray(faces, np.uint8)).numpy()


def predict_probs(classifier, faces, batch_size=256, progress=None):
    """Probability rows for many uint8 faces [N, 48, 48], classified batch_size at a time;
    progress(n) is called after each batch with the number of faces done in it."""
    faces = np.asarray(faces, np.uint8)
    if not len(faces):
        return np.zeros((0, classifier.num_classes), np.float32)
    rows = []
    for i in range(0, len(faces), batch_size):
        rows.append(classifier(faces[i:i + batch_size]))
        if progress is not None:
            progress(len(rows[-1]))
    return np.concatenate(rows)
