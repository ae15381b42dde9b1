"""The Emojify CNN: a VGG-style Keras Sequential model for 48x48 grayscale faces."""
import keras
from keras import layers

from config import FACE_SIZE
from emotions import NUM_CLASSES

INPUT_SHAPE = (FACE_SIZE, FACE_SIZE, 1)


def build_model(
    input_shape=INPUT_SHAPE,
    num_classes=NUM_CLASSES,
    widths=(32, 64, 128, 384),
    convs_per_block=(1, 2, 2, 2),
    dropout=0.3,
    name="emojify_cnn",
):
    """Build the classifier. Input: raw 0-255 grayscale pixels; output: softmax over emotions.

    Each block is `convs` 3x3 conv + batch norm + ReLU layers followed by 2x2 max pooling;
    global average pooling feeds a single softmax layer, which keeps the model small.
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
    for b, (width, convs) in enumerate(zip(widths, convs_per_block), start=1):
        for c in range(1, convs + 1):
            model.add(layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{b}_conv{c}"))
            model.add(layers.BatchNormalization(name=f"block{b}_bn{c}"))
            model.add(layers.ReLU(name=f"block{b}_relu{c}"))
        model.add(layers.MaxPooling2D(name=f"block{b}_pool"))
    model.add(layers.GlobalAveragePooling2D(name="avg_pool"))
    if dropout:
        model.add(layers.Dropout(dropout, name="dropout"))
    model.add(layers.Dense(num_classes, activation="softmax", name="predictions"))
    return model
