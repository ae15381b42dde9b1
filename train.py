"""Train the Emojify CNN on FER-2013 (Kaggle folder layout) and save model.h5.

    python train.py                          # data/train + data/test -> model.h5
    python train.py --data ../shared/fer2013 --epochs 80
    python train.py --resume                 # continue an interrupted run from its last epoch

Every epoch is checkpointed to --run-dir (model + optimizer state), so an interrupted run loses at most
one epoch. At the end: model.h5, the test accuracy, a training-curves PNG and a JSON record of the run.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import atomic

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=HERE / "data",
                   help="folder holding train/ and test/ emotion subfolders (default: data/)")
    p.add_argument("--out", type=Path, default=HERE / "model.h5", help="where to save the trained model")
    p.add_argument("--run-dir", type=Path, default=HERE / "runs" / "latest",
                   help="checkpoint, run JSON and curves PNG go here (default: runs/latest)")
    p.add_argument("--epochs", type=int, default=80)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the warm-up + cosine schedule")
    p.add_argument("--weight-decay", type=float, default=0.05, help="AdamW decoupled weight decay")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--val-split", type=float, default=0.1,
                   help="fraction of train/ held out (per class) to watch generalisation; 0 disables")
    p.add_argument("--widths", default="32,64,128,384", help="conv widths per block, comma separated")
    p.add_argument("--convs", default="1,2,2,2", help="conv layers per block, comma separated")
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--init-from", type=Path, default=None, metavar="MODEL",
                   help="start from this trained model's weights (a second, fine-tuning schedule) instead of "
                        "random ones; its architecture replaces --widths/--convs/--dropout")
    p.add_argument("--teacher", action="append", default=[], metavar="MODEL",
                   help="trained model whose predictions (4 views averaged) soften the training labels "
                        "(knowledge distillation); repeat for several")
    p.add_argument("--teacher-weight", type=float, default=0.5,
                   help="share of the teachers' predictions in each training target (the rest: the label)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="use only N random training images (quick trials)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue the unfinished run in --run-dir")
    group.add_argument("--fresh", action="store_true", help="discard an unfinished run in --run-dir and start over")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1; received {getattr(args, name)}")
    if not 0 < args.teacher_weight <= 1:
        p.error(f"--teacher-weight must be in (0, 1]; received {args.teacher_weight}")
    if not 0 <= args.val_split < 0.5:
        p.error(f"--val-split must be in [0, 0.5); received {args.val_split}")
    try:
        args.widths = [int(w) for w in args.widths.split(",")]
        args.convs = [int(c) for c in args.convs.split(",")]
    except ValueError:
        p.error("--widths and --convs take comma-separated integers, e.g. --widths 32,64,128,256")
    return args


SETTINGS = ("epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "val_split", "widths", "convs",
            "dropout", "seed", "limit", "init_from", "teacher", "teacher_weight")


def make_train_dataset(x, y, batch_size, seed):
    """uint8 faces [N, 48, 48] + labels (or [N, 7] target rows) -> shuffled, augmented batches (tf.data)."""
    import tensorflow as tf

    import augment
    from emotions import EMOTIONS
    soft = y.ndim == 2

    def augment_and_encode(images, labels):
        return augment.augment_batch(images), labels if soft else tf.one_hot(labels, len(EMOTIONS))

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

    from emotions import EMOTIONS
    from evaluate import predict_probs
    from pipeline import EmotionClassifier
    taught = np.mean([predict_probs(EmotionClassifier(t, views=4), x) for t in teachers], axis=0)
    print(f"The teachers agree with the labels on {np.mean(taught.argmax(1) == y):.1%} of the training images.")
    return (weight * taught + (1 - weight) * np.eye(len(EMOTIONS))[y]).astype(np.float32)


def make_eval_dataset(x, y, batch_size=256):
    import tensorflow as tf

    from emotions import EMOTIONS
    return tf.data.Dataset.from_tensor_slices((x[..., None], y)).batch(batch_size).map(
        lambda i, l: (i, tf.one_hot(l, len(EMOTIONS))))


def compile_for_training(model, settings, steps_per_epoch):
    """AdamW with a one-epoch warm-up then cosine decay, label-smoothed cross-entropy."""
    import keras
    total = steps_per_epoch * settings["epochs"]
    warmup = min(steps_per_epoch, total // 10)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=settings["lr"] / 20, decay_steps=total - warmup, alpha=0.01,
        warmup_target=settings["lr"], warmup_steps=warmup)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=schedule, weight_decay=settings["weight_decay"]),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings["label_smoothing"]),
        metrics=["accuracy"])
    return model


def main(argv=None):
    args = parse_args(argv)
    import numpy as np

    import dataset

    run_dir, state_path = args.run_dir, args.run_dir / "run.json"
    ckpt_path = run_dir / "checkpoint.keras"
    settings = {k: getattr(args, k) for k in SETTINGS}
    settings["data"] = str(args.data)
    if args.init_from is not None:
        settings.update(init_from=str(args.init_from), widths=None, convs=None, dropout=None)
    state = json.loads(state_path.read_text()) if state_path.is_file() else None
    unfinished = state is not None and not state.get("finished") and ckpt_path.is_file()
    if args.resume:
        if not unfinished:
            sys.exit(f"error: nothing to resume in {run_dir} (no unfinished run there); run without --resume.")
        settings = state["settings"]
        print(f"Resuming run in {run_dir}: {len(state['history'])}/{settings['epochs']} epochs done.")
    elif unfinished and not args.fresh:
        sys.exit(f"error: {run_dir} holds an unfinished run ({len(state['history'])}/"
                 f"{state['settings']['epochs']} epochs); continue it with --resume or discard it with --fresh.")

    if not args.resume:
        for flag, path in [("--init-from", settings["init_from"])] + [("--teacher", t) for t in settings["teacher"]]:
            if path and not Path(path).is_file():
                sys.exit(f"error: {flag}: model file {path} not found.")
    data_dir = Path(settings["data"])
    try:
        x, y, _, skipped = dataset.load_folder(data_dir / "train")
        test = dataset.load_folder(data_dir / "test") if (data_dir / "test").is_dir() else None
    except dataset.DatasetError as e:
        sys.exit(f"error: {e} (get FER-2013 as described in data/README.md, or pass --data DIR)")
    if test is not None:
        skipped += test[3]
    for path, why in skipped[:10]:
        print(f"skipped {path}: {why}")
    if skipped:
        print(f"Skipped {len(skipped)} unreadable file(s); training goes on without them.")
    if settings["limit"]:
        keep = np.sort(np.random.default_rng(settings["seed"]).permutation(len(y))[: settings["limit"]])
        x, y = x[keep], y[keep]

    from pipeline import import_tensorflow
    import_tensorflow()
    import keras

    from emotions import EMOTIONS
    from model import build_model

    data_seed = seed_random_streams(settings["seed"], len(state["history"]) if args.resume else 0)
    if settings["val_split"]:
        tr, va = dataset.stratified_split(y, settings["val_split"], seed=settings["seed"])
        x_val, y_val = x[va], y[va]
        x, y = x[tr], y[tr]
    counts = np.bincount(y, minlength=len(EMOTIONS))
    print(f"Training on {len(y)} images ({', '.join(f'{e} {n}' for e, n in zip(EMOTIONS, counts))}); "
          f"validation {len(y_val) if settings['val_split'] else 0}; test {len(test[1]) if test else 0}.")

    steps_per_epoch = int(np.ceil(len(y) / settings["batch_size"]))
    targets, targets_path = y, run_dir / "soft_targets.npy"
    if settings.get("teacher"):
        from pipeline import ModelError
        cached = np.load(targets_path, allow_pickle=False) if args.resume and targets_path.is_file() else None
        if cached is not None and cached.shape == (len(y), len(EMOTIONS)):
            targets = cached
            print(f"Soft targets from {targets_path}, as computed when the run started.")
        else:
            print(f"Soft targets from {len(settings['teacher'])} teacher model(s), "
                  f"weight {settings['teacher_weight']}.")
            try:
                targets = soft_targets(x, y, settings["teacher"], settings["teacher_weight"])
            except ModelError as e:
                sys.exit(f"error: --teacher: {e}")
            atomic.save_array(targets_path, targets)  # so that a resumed run need not ask the teachers again
    train_ds = make_train_dataset(x, targets, settings["batch_size"], data_seed)
    val_ds = make_eval_dataset(x_val, y_val) if settings["val_split"] else None

    if args.resume:
        model = keras.models.load_model(ckpt_path)
        history = state["history"]
    else:
        if settings.get("init_from"):
            from pipeline import ModelError, load_model
            try:
                model = load_model(settings["init_from"])
            except ModelError as e:
                sys.exit(f"error: --init-from: {e}")
        else:
            model = build_model(widths=settings["widths"], convs_per_block=settings["convs"],
                                dropout=settings["dropout"])
        compile_for_training(model, settings, steps_per_epoch)
        history = []
        state = {"settings": settings, "history": history, "finished": False, "train_seconds": 0.0}
    run_dir.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        atomic.write_text(state_path, json.dumps(state, indent=1))

    class Checkpoint(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.time() - self.started
            history.append({"epoch": epoch + 1, "seconds": round(seconds, 1),
                            **{k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}})
            state["train_seconds"] += seconds
            atomic.save_model(self.model, ckpt_path)
            atomic.write_text(state_path, json.dumps(state, indent=1))

    verbose = 1 if sys.stdout.isatty() else 2
    try:
        model.fit(train_ds, validation_data=val_ds, epochs=settings["epochs"], initial_epoch=len(history),
                  callbacks=[Checkpoint()], verbose=verbose, shuffle=False)
    except KeyboardInterrupt:
        print(f"\nInterrupted after {len(history)} complete epoch(s); continue with: "
              f"python train.py --resume --run-dir {run_dir}")
        return 130

    from evaluate import predict_probs
    from pipeline import EmotionClassifier
    result = {"val_accuracy": history[-1].get("val_accuracy")}
    if test is not None:
        x_test, y_test = test[0], test[1]
        plain = predict_probs(EmotionClassifier(model, views=1), x_test)
        tta = predict_probs(EmotionClassifier(model, views=4), x_test)  # as evaluate.py classifies
        result["test_accuracy"] = float(np.mean(plain.argmax(1) == y_test))
        result["test_accuracy_4_views"] = float(np.mean(tta.argmax(1) == y_test))
        result["test_n"] = int(len(y_test))
    state.update(result, finished=True, params=int(model.count_params()))
    atomic.save_model(model, args.out, include_optimizer=False)
    state["model_bytes"] = args.out.stat().st_size
    atomic.write_text(state_path, json.dumps(state, indent=1))

    from plots import plot_curves
    plot_curves(history, run_dir / "curves.png")
    minutes = state["train_seconds"] / 60
    print(f"Saved {args.out} ({state['model_bytes'] / 1e6:.1f} MB) after {len(history)} epochs, "
          f"{minutes:.1f} min of training.")
    if test is not None:
        print(f"Test accuracy: {result['test_accuracy_4_views']:.4f} as evaluate.py measures it (4 views per "
              f"face; {result['test_accuracy']:.4f} for one) on {result['test_n']} images.")
    print(f"Run record: {state_path}; curves: {run_dir / 'curves.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
