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


def _blur(images):
    """A 5x5 Gaussian blur (sigma 1) of float32 [B, H, W, 1]."""
    g = tf.constant([0.054, 0.244, 0.403, 0.244, 0.054])
    kernel = (g[:, None] * g[None, :])[:, :, None, None]
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], "SYMMETRIC")
    return tf.nn.conv2d(padded, kernel, 1, "VALID")


def _some(b, p):
    """A [B, 1, 1, 1] mask choosing a fraction p of the batch."""
    return tf.cast(tf.random.uniform([b, 1, 1, 1]) < p, tf.float32)


def random_camera(images, p=0.25):
    """What other cameras do to a face, each with probability p per image: gamma, a light gradient across the
    face, blur, a low-resolution crop, sensor noise and JPEG compression. images: float32 [B, H, W, 1], 0-255."""
    shape = tf.shape(images)
    b, h, w = shape[0], shape[1], shape[2]
    gamma = tf.exp(tf.random.uniform([b, 1, 1, 1], -0.6, 0.6))
    x = images + _some(b, p) * (255.0 * tf.pow(images / 255.0 + 1e-6, gamma) - images)
    ys = tf.linspace(-0.5, 0.5, h)[None, :, None, None]
    xs = tf.linspace(-0.5, 0.5, w)[None, None, :, None]
    slope = tf.random.uniform([b, 2, 1, 1, 1], -60.0, 60.0)
    x = x + _some(b, p) * (slope[:, 0] * xs + slope[:, 1] * ys)
    x = tf.clip_by_value(x, 0.0, 255.0)
    x = x + _some(b, p) * tf.random.uniform([b, 1, 1, 1]) * (_blur(x) - x)
    side = tf.random.uniform([], 20, 44, tf.int32)  # one size per batch: faces seen at this many pixels
    low = tf.image.resize(tf.image.resize(x, [side, side], "area"), [h, w], "bilinear")
    x = x + _some(b, p) * (low - x)
    x = x + _some(b, p) * tf.random.normal(shape, 0.0, 1.0) * tf.random.uniform([b, 1, 1, 1], 0.0, 8.0)
    x = tf.clip_by_value(x, 0.0, 255.0)
    quality = tf.random.uniform([b], 30, 90, tf.int32)
    jpeg = tf.map_fn(lambda a: tf.cast(tf.image.adjust_jpeg_quality(tf.cast(a[0], tf.uint8), a[1]), tf.float32),
                     (tf.round(x), quality), fn_output_signature=tf.float32)
    jpeg = tf.ensure_shape(jpeg, images.shape)
    return x + _some(b, p) * (jpeg - x)


def augment_batch(images, camera=0.0, zoom=0.1):
    """uint8 or float [B, H, W, 1] -> augmented float32 in 0-255; camera > 0: also random_camera, each effect
    on this share of the images; zoom: the largest zoom in or out (0.1: 10 %)."""
    images = random_affine(tf.cast(images, tf.float32), max_zoom=zoom)
    if camera:
        images = random_camera(images, p=float(camera))
    return random_erase(random_light(images))


def mix(images, targets, alpha):
    """Mixup: image i becomes w * image i + (1 - w) * image j of the same batch (j a shuffle of i), and so does
    its target row; one w ~ Beta(alpha, alpha) per image, taken >= 0.5 so that image i stays the main one."""
    b = tf.shape(images)[0]
    g1, g2 = tf.random.gamma([b], alpha), tf.random.gamma([b], alpha)
    w = tf.maximum(g1, g2) / tf.maximum(g1 + g2, 1e-12)
    other = tf.random.shuffle(tf.range(b))
    mixed = w[:, None, None, None] * images + (1 - w[:, None, None, None]) * tf.gather(images, other)
    return mixed, w[:, None] * targets + (1 - w[:, None]) * tf.gather(targets, other)
