"""The pieces of training that train.py and the benchmarks share: tf.data input with augmentation, the
optimizer schedule, seeding and distillation targets."""


def make_train_dataset(x, y, batch_size, seed, mixup=0.0, camera=0.0, zoom=0.1):
    """uint8 faces [N, 48, 48] + labels (or [N, classes] target rows) -> shuffled, augmented batches (tf.data).

    mixup > 0: each image is blended with another of its batch, and its target the same way, by a weight
    drawn from Beta(mixup, mixup). camera > 0: also what other cameras do to a face (augment.random_camera),
    each effect on this share of the faces. zoom: the largest zoom in or out of a face (0.1: 10 %)."""
    import tensorflow as tf

    from emojify.training import augment
    from emojify.emotions import NUM_CLASSES
    soft = y.ndim == 2

    def augment_and_encode(images, labels):
        images = augment.augment_batch(images, camera=camera, zoom=zoom)
        targets = labels if soft else tf.one_hot(labels, NUM_CLASSES)
        if mixup > 0:
            images, targets = augment.mix(images, targets, mixup)
        return images, targets

    return (tf.data.Dataset.from_tensor_slices((x[..., None], y))
            .shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(augment_and_encode, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(2))


def seed_random_streams(seed, epochs_done):
    """Seed shuffling, augmentation and dropout; returns the shuffle seed.

    A run resumed after epochs_done epochs gets new streams: with the first seed again it would replay the
    first epochs' batches, augmentations included, exactly.
    """
    import keras
    keras.utils.set_random_seed(seed + epochs_done)
    return seed + epochs_done


def soft_targets(x, y, teachers, weight):
    """Label rows mixed with the teachers' mean predictions (4 views each): weight * teachers + rest * label."""
    import numpy as np

    from emojify.emotions import NUM_CLASSES
    from emojify.inference import EmotionClassifier, load_member, predict_probs
    taught = np.mean([predict_probs(EmotionClassifier(load_member(t), views=4), x) for t in teachers], axis=0)
    print(f"The teachers agree with the labels on {np.mean(taught.argmax(1) == y):.1%} of the training images.")
    return (weight * taught + (1 - weight) * np.eye(NUM_CLASSES)[y]).astype(np.float32)


def make_eval_dataset(x, y, batch_size=256):
    import tensorflow as tf

    from emojify.emotions import NUM_CLASSES
    return tf.data.Dataset.from_tensor_slices((x[..., None], y)).batch(batch_size).map(
        lambda i, l: (i, tf.one_hot(l, NUM_CLASSES)))


def compile_for_training(model, steps_per_epoch, epochs, lr, weight_decay=0.05, label_smoothing=0.1):
    """AdamW with a one-epoch warm-up to lr then cosine decay over the epochs, label-smoothed cross-entropy."""
    import keras
    total = steps_per_epoch * epochs
    warmup = min(steps_per_epoch, total // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 20, decay_steps=total - warmup, alpha=0.01, warmup_target=lr,
        warmup_steps=warmup)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"])
    return model
