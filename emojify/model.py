"""The Emojify CNN: a VGG-style Keras Sequential model for 48x48 grayscale faces."""
import math

import keras
from keras import layers

from emojify.config import FACE_SIZE, SHARP_LEVEL
from emojify.emotions import NUM_CLASSES

__all__ = ["INPUT_SHAPE", "FusedBatchNorm", "build_model", "with_light_norm", "plain_model", "build_ensemble",
           "build_gated"]

INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


@keras.saving.register_keras_serializable(package="emojify")
class FusedBatchNorm(layers.BatchNormalization):
    """BatchNormalization computed by TensorFlow's fused kernel: the same arithmetic in one op.

    Keras 3 composes batch norm from several element-wise ops, a sixth of our training step on the CPU; the
    fused kernel makes training 1.2x faster. Trained models are saved with the plain layer (`plain_model`).
    """

    def call(self, inputs, training=False, mask=None):
        import tensorflow as tf
        if not (training and self.trainable):
            return tf.compat.v1.nn.fused_batch_norm(
                inputs, self.gamma, self.beta, self.moving_mean, self.moving_variance,
                epsilon=self.epsilon, is_training=False)[0]
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, is_training=True)[:3]
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1 - self.momentum))
        return outputs


def build_model(
    input_shape=INPUT_SHAPE,
    num_classes=NUM_CLASSES,
    widths=(32, 64, 128, 256),
    convs_per_block=(1, 1, 2, 2),
    dropout=0.3,
    normalize=False,
    fused_norm=False,
    name="emojify_cnn",
):
    """Build the classifier. Input: raw 0-255 grayscale pixels; output: softmax over emotions.

    Each block is `convs` 3x3 conv + batch norm + ReLU layers followed by 2x2 max pooling;
    global average pooling feeds a single softmax layer, which keeps the model small. fused_norm: batch norm
    by TensorFlow's fused kernel (faster training; `plain_model` turns it back into the standard layer).
    normalize: each face standardised to zero mean and unit variance first, so a face in dim or flat light
    reaches the convolutions as one in good light does.
    """
    if len(input_shape) != 3 or input_shape[-1] != 1:
        raise ValueError(f"input_shape must be (height, width, 1) for grayscale faces; received {input_shape!r}.")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2; received {num_classes!r}.")
    if isinstance(convs_per_block, int):
        convs_per_block = (convs_per_block,) * len(widths)
    if len(convs_per_block) != len(widths):
        raise ValueError(
            f"convs_per_block needs one entry per block ({len(widths)}); received {convs_per_block!r}.")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1); received {dropout!r}.")

    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=input_shape, name="pixels"))
    # Rescaling lives in the model so that training and inference always agree.
    model.add(layers.Rescaling(1.0 / 255, name="rescale"))
    if normalize:
        for layer in light_norm_layers(input_shape):
            model.add(layer)
    for b, (width, convs) in enumerate(zip(widths, convs_per_block), start=1):
        for c in range(1, convs + 1):
            model.add(layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{b}_conv{c}"))
            norm = FusedBatchNorm if fused_norm else layers.BatchNormalization
            model.add(norm(name=f"block{b}_bn{c}"))
            model.add(layers.ReLU(name=f"block{b}_relu{c}"))
        model.add(layers.MaxPooling2D(name=f"block{b}_pool"))
    model.add(layers.GlobalAveragePooling2D(name="avg_pool"))
    if dropout:
        model.add(layers.Dropout(dropout, name="dropout"))
    model.add(layers.Dense(num_classes, activation="softmax", name="predictions"))
    return model


def light_norm_layers(input_shape=INPUT_SHAPE):
    """Each face standardised to zero mean and unit variance, over a flattened copy: a LayerNormalization over
    all three axes comes back from an .h5 file normalising the single channel alone (axis=-1), which zeroes
    the face."""
    return [layers.Reshape((math.prod(input_shape),), name="light_norm_flat"),
            layers.LayerNormalization(axis=-1, center=False, scale=False, epsilon=1e-3, name="light_norm"),
            layers.Reshape(input_shape, name="light_norm_face")]


def has_light_norm(model):
    """Whether model standardises each face's light (build_model's normalize, or with_light_norm)."""
    return any(layer.name == "light_norm" for layer in model.layers)


# The brightness and contrast (in 0-255 levels) a face is brought to in front of a model trained without the
# light normalisation: about a FER-2013 face's, so the trained convolutions see what they learned from; other
# cameras' faces are darker and flatter (film crops: mean 64, contrast 31).
LIGHT_MEAN, LIGHT_STD = 128.0, 60.0


def with_light_norm(model, mean=LIGHT_MEAN, std=LIGHT_STD):
    """A copy of a trained Sequential model (weights shared) that first brings each face to one brightness
    and contrast (mean and std in 0-255 levels), then runs the model's own layers after its rescaling."""
    if has_light_norm(model):
        raise ValueError(f"{model.name} already normalises each face's light.")
    stack = list(model.layers)
    if not stack or not isinstance(stack[0], layers.Rescaling):
        raise ValueError(f"{model.name} does not start with a Rescaling layer; received {stack[:1]}.")
    if not std > 0:
        raise ValueError(f"std must be above 0; received {std!r}.")
    shape = tuple(model.input_shape[1:])
    return keras.Sequential([keras.Input(shape=shape, name="pixels"), *light_norm_layers(shape),
                             layers.Rescaling(std / 255.0, offset=mean / 255.0, name="light_level"), *stack[1:]],
                            name=model.name)


def plain_model(model, name=None):
    """The same Sequential model, weights included, with standard Keras layers only: what we save and ship,
    so that it loads anywhere with Keras' safe defaults. name: the copy's name (default: the model's)."""
    config = model.get_config()
    config["name"] = name or config["name"]
    for layer in config["layers"]:
        if layer["class_name"] == FusedBatchNorm.__name__:
            layer.update(module="keras.layers", class_name="BatchNormalization", registered_name=None)
    plain = keras.Sequential.from_config(config)
    plain.set_weights(model.get_weights())
    return plain


def build_ensemble(members, name="emojify_ensemble"):
    """One model that averages the softmax outputs of trained members (plain copies, named member1, ...).

    Saved as one .h5 file it loads with keras.models.load_model and Keras' safe defaults, like a single model.
    """
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least 2 members; received {len(members)}.")
    shapes = {(tuple(m.input_shape[1:]), tuple(m.output_shape[1:])) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"every member must take and give the same shapes; received {sorted(shapes)}.")
    pixels = keras.Input(shape=members[0].input_shape[1:], name="pixels")
    outputs = []
    for i, member in enumerate(members, start=1):
        outputs.append(plain_model(member, name=f"member{i}")(pixels))
    return keras.Model(pixels, layers.Average(name="mean")(outputs), name=name)


GATE_STEEPNESS = 1000.0  # the gate goes from the softer side to the sharp one within 1/1000 of a gray level


def _same_weights(a, b):
    if a is b:
        return True
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(x.shape == y.shape and (x == y).all() for x, y in zip(wa, wb))


def _side(models, role, pixels, made):
    """The average reading of a role's models (plain copies named ROLE1, ROLE2, ...; one model: its reading).

    made: [(model, reading)] of the copies made so far; a model already there (the same weights) is not copied
    again, so a member on both sides is stored and run once.
    """
    outputs = []
    for i, m in enumerate(models, start=1):
        reading = next((out for src, out in made if _same_weights(src, m)), None)
        if reading is None:
            reading = plain_model(m, name=f"{role}{i}")(pixels)
            made.append((m, reading))
        outputs.append(reading)
    return outputs[0] if len(outputs) == 1 else layers.Average(name=f"{role}_mean")(outputs)


def build_gated(sharp, soft, level=SHARP_LEVEL, name="emojify_gated"):
    """One model that reads each face with one of two models (or ensembles, given as lists) by its sharpness:
    `sharp` where the face is at least `level` sharp, `soft` where it is softer (other cameras, film, photos).

    The sharpness is detect.sharpness's, taken inside the model on the face it is handed: a Sobel filter's
    |x| + |y| averaged over the face less a 4-pixel border. Standard layers only, so the file loads with Keras'
    safe defaults and converts to LiteRT like any other model. A model on both sides is kept once.
    """
    import numpy as np
    sharp, soft = list(sharp), list(soft)
    if not sharp or not soft:
        raise ValueError(f"both sides need at least one model; received {len(sharp)} sharp and {len(soft)} soft.")
    if not level > 0:
        raise ValueError(f"level must be above 0; received {level!r}.")
    shapes = {(tuple(m.input_shape[1:]), tuple(m.output_shape[1:])) for m in sharp + soft}
    if len(shapes) != 1:
        raise ValueError(f"every model must take and give the same shapes; received {sorted(shapes)}.")
    (shape_in, (classes,)), = shapes
    pixels = keras.Input(shape=shape_in, name="pixels")
    made = []
    sharp_p, soft_p = _side(sharp, "sharp", pixels, made), _side(soft, "soft", pixels, made)

    sobel = layers.Conv2D(4, 3, use_bias=False, trainable=False, name="sharpness_sobel")
    gradient = layers.ReLU(name="sharpness_abs")(sobel(pixels))  # channels +x, -x, +y, -y: |x| + |y| in sum
    inner = layers.Cropping2D(3, name="sharpness_inner")(gradient)  # valid conv already lost 1 pixel a side
    mean = layers.GlobalAveragePooling2D(name="sharpness_mean")(inner)
    gate = layers.Dense(classes, trainable=False, name="gate")
    step = layers.ReLU(max_value=1.0, name="gate_step")(gate(mean))  # 1: sharp, 0: softer, the same in each class
    x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    sobel.set_weights([np.stack([x, -x, x.T, -x.T], axis=-1)[:, :, None, :]])
    gate.set_weights([np.full((4, classes), GATE_STEEPNESS, np.float32),
                      np.full(classes, -GATE_STEEPNESS * level, np.float32)])

    difference = layers.Subtract(name="sharp_minus_soft")([sharp_p, soft_p])
    picked = layers.Multiply(name="sharp_share")([step, difference])
    return keras.Model(pixels, layers.Add(name="read")([soft_p, picked]), name=name)
