"""Training-time augmentation of uint8 face batches, as tf.data map functions."""
import math

import tensorflow as tf


def random_affine(images, max_degrees=10.0, max_shift=0.1, max_zoom=0.1, flip=True):
    """One projective warp per image: rotation, zoom, shift and horizontal flip combined.

    A single resampling instead of one per transform keeps faces sharp and the step cheap.
    images: float32 [B, H, W, 1].
    """
    shape = tf.shape(images)
    b, h, w = shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    theta = tf.random.uniform([b], -1.0, 1.0) * (max_degrees * math.pi / 180.0)
    scale = 1.0 + tf.random.uniform([b], -max_zoom, max_zoom)
    tx = tf.random.uniform([b], -max_shift, max_shift) * w
    ty = tf.random.uniform([b], -max_shift, max_shift) * h
    mirror = tf.where(tf.random.uniform([b]) < 0.5, -1.0, 1.0) if flip else tf.ones([b])
    # Output pixel p samples input at A (p - c - t) + c, A = rotate(-theta) * flip / scale.
    cos, sin = tf.cos(theta) / scale, tf.sin(theta) / scale
    a00, a01, a10, a11 = cos * mirror, sin, -sin * mirror, cos
    cx, cy = (w - 1.0) / 2.0, (h - 1.0) / 2.0
    a02 = cx - a00 * (cx + tx) - a01 * (cy + ty)
    a12 = cy - a10 * (cx + tx) - a11 * (cy + ty)
    zeros = tf.zeros([b])
    transforms = tf.stack([a00, a01, a02, a10, a11, a12, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=shape[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="REFLECT")


def random_light(images, contrast=0.2, brightness=20.0):
    """Per-image contrast and brightness jitter, clipped to 0-255."""
    b = tf.shape(images)[0]
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    c = 1.0 + tf.random.uniform([b, 1, 1, 1], -contrast, contrast)
    d = tf.random.uniform([b, 1, 1, 1], -brightness, brightness)
    return tf.clip_by_value((images - mean) * c + mean + d, 0.0, 255.0)


def random_erase(images, p=0.5, min_area=0.02, max_area=0.15):
    """Blank a random rectangle (random gray level) in a fraction p of the images."""
    shape = tf.shape(images)
    b, h, w = shape[0], shape[1], shape[2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    area = tf.random.uniform([b], min_area, max_area) * hf * wf
    aspect = tf.exp(tf.random.uniform([b], math.log(0.5), math.log(2.0)))
    eh = tf.minimum(tf.sqrt(area * aspect), hf)
    ew = tf.minimum(tf.sqrt(area / aspect), wf)
    y0 = tf.random.uniform([b]) * (hf - eh)
    x0 = tf.random.uniform([b]) * (wf - ew)
    ys = tf.cast(tf.range(h), tf.float32)[None, :, None]
    xs = tf.cast(tf.range(w), tf.float32)[None, None, :]
    inside = ((ys >= y0[:, None, None]) & (ys < (y0 + eh)[:, None, None])
              & (xs >= x0[:, None, None]) & (xs < (x0 + ew)[:, None, None]))
    inside &= (tf.random.uniform([b]) < p)[:, None, None]
    fill = tf.random.uniform([b, 1, 1], 0.0, 255.0)
    return tf.where(inside[..., None], fill[..., None], images)


def augment_batch(images):
    """uint8 or float [B, H, W, 1] -> augmented float32 in 0-255."""
    images = tf.cast(images, tf.float32)
    return random_erase(random_light(random_affine(images)))


def mix(images, targets, alpha):
    """Mixup: image i becomes w * image i + (1 - w) * image j of the same batch (j a shuffle of i), and so does
    its target row; one w ~ Beta(alpha, alpha) per image, taken >= 0.5 so that image i stays the main one."""
    b = tf.shape(images)[0]
    g1, g2 = tf.random.gamma([b], alpha), tf.random.gamma([b], alpha)
    w = tf.maximum(g1, g2) / tf.maximum(g1 + g2, 1e-12)
    other = tf.random.shuffle(tf.range(b))
    mixed = w[:, None, None, None] * images + (1 - w[:, None, None, None]) * tf.gather(images, other)
    return mixed, w[:, None] * targets + (1 - w[:, None]) * tf.gather(targets, other)
