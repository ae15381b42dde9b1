"""Train the Emojify CNN on FER-2013 (Kaggle folder layout) and save model.h5.

    python train.py                          # data/train + data/test -> model.h5
    python train.py --data ../shared/fer2013 --epochs 80
    python train.py --resume                 # continue an interrupted run from its last epoch

Every epoch is checkpointed to --run-dir (model + optimizer state), so an interrupted run loses at most
one epoch. At the end: model.h5, the test accuracy, a training-curves PNG and a JSON record of the run.
"""
import contextlib
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import preflight

preflight.require()

import atomic
from cli import interrupted, main_guard, make_parser
from config import MODEL_PATH, ROOT
from errors import AppError, DatasetError, ModelError, OutputError, os_reason
from training import (compile_for_training, make_eval_dataset, make_train_dataset, seed_random_streams,
                      soft_targets)


RECIPE_EPOCHS = 80  # with the other defaults: the recipe of the shipped model


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("--data", type=Path,
                   help="folder holding train/ and test/ emotion subfolders, or the original fer2013.csv "
                        "(default: data; with --resume: the run's own, or the same images moved here)")
    p.add_argument("--out", type=Path, default=MODEL_PATH, help="where to save the trained model")
    p.add_argument("--run-dir", type=Path, default=ROOT / "runs" / "latest",
                   help="checkpoints, run JSON and curves PNG go here")
    p.add_argument("--epochs", type=int, default=RECIPE_EPOCHS)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the warm-up + cosine schedule")
    p.add_argument("--weight-decay", type=float, default=0.05, help="AdamW decoupled weight decay")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="blend training images and their targets in pairs, weights from Beta(ALPHA, ALPHA) "
                        "(0: off)")
    p.add_argument("--val-split", type=float, default=0.1,
                   help="fraction of train/ held out (per class) to watch generalisation; 0 disables")
    p.add_argument("--widths", default="32,64,128,256", help="conv widths per block, comma separated")
    p.add_argument("--convs", default=None,
                   help="conv layers per block, comma separated (default: 1 in the first two blocks, 2 in the "
                        "others)")
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--init-from", type=Path, default=None, metavar="MODEL",
                   help="start from this trained model's weights (a second, fine-tuning schedule) instead of "
                        "random ones; its architecture replaces --widths/--convs/--dropout")
    p.add_argument("--teacher", action="append", default=[], metavar="MODEL",
                   help="trained model whose predictions (4 views averaged) soften the training labels "
                        "(knowledge distillation); repeat for several")
    p.add_argument("--teacher-weight", type=float, default=0.5,
                   help="share of the teachers' predictions in each training target (the rest: the label)")
    p.add_argument("--seed", type=int, default=1, help="seeds initial weights, shuffling and augmentation")
    p.add_argument("--split-seed", type=int, default=1,
                   help="seeds which images are held out for validation: keep it when training ensemble members, "
                        "so that all of them hold out the same images")
    p.add_argument("--limit", type=int, default=0, help="use only N random training images (quick trials)")
    p.add_argument("--replace", action="store_true",
                   help="overwrite --out even after a trial run (--limit, fewer epochs than the recipe's) or when "
                        "the new model tests worse than the one there (which is kept as NAME.backup.h5)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue the unfinished run in --run-dir")
    group.add_argument("--fresh", action="store_true", help="discard an unfinished run in --run-dir and start over")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1; received {getattr(args, name)}")
    ranges = {"lr": (0, 1, "a learning rate in (0, 1]"), "weight_decay": (0, 1, "a number in [0, 1]"),
              "label_smoothing": (0, 0.99, "a number in [0, 1)"),
              "mixup": (0, 10, "a Beta distribution's alpha in [0, 10] (0: off)"),
              "dropout": (0, 0.99, "a number in [0, 1)"),
              "teacher_weight": (0, 1, "a number in (0, 1]"), "val_split": (0, 0.49, "a number in [0, 0.5)")}
    for name, (low, high, what) in ranges.items():
        value = getattr(args, name)
        if not (math.isfinite(value) and low <= value <= high) or (name in ("lr", "teacher_weight") and value == 0):
            p.error(f"--{name.replace('_', '-')} takes {what}; received {value}")
    if args.limit < 0:
        p.error(f"--limit takes a number of images (0: all of them); received {args.limit}")
    try:
        args.widths = [int(w) for w in args.widths.split(",")]
        args.convs = [1 if b < 2 else 2 for b in range(len(args.widths))] if args.convs is None else \
            [int(c) for c in args.convs.split(",")]
    except ValueError:
        p.error(f"--widths and --convs take comma-separated integers, e.g. --widths 32,64,128,256; "
                f"received --widths {args.widths!r} --convs {args.convs!r}")
    if min(args.widths) < 1 or min(args.convs) < 1:
        p.error(f"--widths and --convs must be at least 1; received {args.widths} and {args.convs}")
    if len(args.convs) != len(args.widths):
        p.error(f"--convs needs one entry per block of --widths ({len(args.widths)}); received {args.convs}")
    if args.out.suffix not in (".h5", ".keras"):
        p.error(f"--out must end in .h5 or .keras; received {str(args.out)!r}")
    return args


SETTINGS = ("epochs", "batch_size", "lr", "weight_decay", "label_smoothing", "val_split", "widths", "convs",
            "dropout", "seed", "split_seed", "limit", "init_from", "teacher", "teacher_weight", "mixup")


class Run:
    """Where a run keeps its files: a checkpoint per epoch, the JSON record of settings and epochs, the curves.

    The record names the checkpoint it goes with, and is written after that checkpoint is complete: a run
    stopped at any moment resumes from a checkpoint and a record that agree.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.record_path = self.folder / "run.json"
        self.targets = self.folder / "soft_targets.npy"
        self.curves = self.folder / "curves.png"
        try:
            self.record = json.loads(self.record_path.read_text()) if self.record_path.is_file() else None
        except (OSError, ValueError) as e:
            raise AppError(f"{self.record_path} is unreadable ({e}); start over with --fresh.") from None

    def remove_partial_files(self):
        """Files a killed save left half-written (atomic.partial_path names): never read, so removed."""
        for path in self.folder.glob(".*.partial*"):
            path.unlink(missing_ok=True)

    @property
    def checkpoint(self):
        name = (self.record or {}).get("checkpoint", "checkpoint.keras")  # runs before 1.1: one fixed name
        return self.folder / name

    @property
    def unfinished(self):
        return self.record is not None and not self.record.get("finished") and self.checkpoint.is_file()

    @property
    def epochs_done(self):
        return len(self.record["history"]) if self.record else 0

    @contextlib.contextmanager
    def writing(self, what):
        """A failed write (a full disk, say) becomes one line that says what is kept and how to go on."""
        try:
            yield
        except OSError as e:
            kept = (f"the run is kept at epoch {self.epochs_done}; free some space and continue with: "
                    f"python train.py --resume --run-dir {self.folder}") if self.epochs_done else \
                "nothing was kept; free some space and run the same command again"
            raise OutputError(f"cannot write {what}: {os_reason(e)}; {kept}") from None

    def save_record(self):
        with self.writing(self.record_path):
            atomic.write_text(self.record_path, json.dumps(self.record, indent=1))

    def save_epoch(self, model, entry):
        """Checkpoint the model after an epoch, then record the epoch with it, then drop older checkpoints."""
        name = f"checkpoint-{entry['epoch']:03d}.keras"
        with self.writing(self.folder / name):
            atomic.save_model(model, self.folder / name)
        previous = dict(self.record)
        self.record["history"] = [*self.record["history"], entry]
        self.record["train_seconds"] += entry["seconds"]
        self.record["checkpoint"] = name
        try:
            atomic.write_text(self.record_path, json.dumps(self.record, indent=1))
        except OSError:
            self.record = previous  # the record on disk still names the previous checkpoint
            (self.folder / name).unlink(missing_ok=True)
            with self.writing(self.record_path):
                raise
        for old in self.folder.glob("checkpoint*.keras"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def clear(self):
        """--fresh: nothing of an earlier run in this folder may leak into the new one."""
        for path in [self.record_path, self.targets, *self.folder.glob("checkpoint*.keras")]:
            path.unlink(missing_ok=True)
        self.record = None


def check_writable(folder, what):
    """Fail now, not after hours of training, if folder cannot be created or written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise AppError(f"cannot write {what} in {folder}: {os_reason(e)}; pass another folder.") from None


def resolve_run(args):
    """The run folder and the settings to train with: the command line's, or the unfinished run's on --resume."""
    run = Run(args.run_dir)
    run.remove_partial_files()
    settings = {k: getattr(args, k) for k in SETTINGS}
    settings["data"] = str(args.data or ROOT / "data")
    if args.init_from is not None:
        settings.update(init_from=str(args.init_from), widths=None, convs=None, dropout=None)
    if args.resume:
        if not run.unfinished:
            raise AppError(f"nothing to resume in {run.folder} (no unfinished run there); run without --resume.")
        print(f"Resuming run in {run.folder}: {run.epochs_done}/{run.record['settings']['epochs']} epochs done.")
        if args.data is not None and str(args.data) != run.record["settings"]["data"]:
            print(f"Reading the data from {args.data} (the run started with {run.record['settings']['data']}).")
            run.record["settings"]["data"] = str(args.data)
        return run, run.record["settings"]
    if run.unfinished and not args.fresh:
        raise AppError(f"{run.folder} holds an unfinished run ({run.epochs_done}/"
                       f"{run.record['settings']['epochs']} epochs); continue it with --resume or discard it "
                       "with --fresh.")
    if args.fresh:
        run.clear()
    for flag, path in [("--init-from", settings["init_from"])] + [("--teacher", t) for t in settings["teacher"]]:
        if path and not Path(path).is_file():
            raise AppError(f"{flag}: model file {path} not found.")
    return run, settings


def load_data(settings):
    """(x, y) to train on, (x_val, y_val) held out of them or None, and (x_test, y_test) or None."""
    import numpy as np

    import dataset
    from emotions import EMOTIONS
    data = Path(settings["data"])
    try:
        if data.suffix.lower() == ".csv":  # the original fer2013.csv: its Training rows, PublicTest to test
            x, y, _, skipped = dataset.load_csv(data, usage="Training")
            try:
                test = dataset.load_csv(data, usage="PublicTest")
            except DatasetError:
                test = None
        else:
            x, y, _, skipped = dataset.load_folder(data / "train")
            test = dataset.load_folder(data / "test") if (data / "test").is_dir() else None
    except DatasetError as e:
        raise DatasetError(f"{e} (get FER-2013 as described in data/README.md, or pass --data DIR)") from None
    if test is not None:
        skipped += test[3]
        test = test[:2]
    for path, why in skipped[:10]:
        print(f"skipped {path}: {why}")
    if skipped:
        print(f"Skipped {len(skipped)} unreadable file(s); training goes on without them.")
    if settings["limit"]:
        keep = np.sort(np.random.default_rng(settings["seed"]).permutation(len(y))[: settings["limit"]])
        x, y = x[keep], y[keep]
    val = None
    if settings["val_split"]:
        # Runs recorded before --split-seed existed split with --seed.
        tr, va = dataset.stratified_split(y, settings["val_split"], seed=settings.get("split_seed", settings["seed"]))
        x, y, val = x[tr], y[tr], (x[va], y[va])
    counts = np.bincount(y, minlength=len(EMOTIONS))
    print(f"Training on {len(y)} images ({', '.join(f'{e} {n}' for e, n in zip(EMOTIONS, counts))}); "
          f"validation {len(val[1]) if val else 0}; test {len(test[1]) if test else 0}.")
    return (x, y), val, test


def training_targets(run, settings, x, y, resuming):
    """The labels, or with --teacher the soft targets: computed once and kept in the run folder."""
    import numpy as np

    from emotions import NUM_CLASSES
    if not settings.get("teacher"):
        return y
    cached = np.load(run.targets, allow_pickle=False) if resuming and run.targets.is_file() else None
    if cached is not None and cached.shape == (len(y), NUM_CLASSES):
        print(f"Soft targets from {run.targets}, as computed when the run started.")
        return cached
    print(f"Soft targets from {len(settings['teacher'])} teacher model(s), weight {settings['teacher_weight']}.")
    try:
        targets = soft_targets(x, y, settings["teacher"], settings["teacher_weight"])
    except ModelError as e:
        raise ModelError(f"--teacher: {e}") from None
    with run.writing(run.targets):
        atomic.save_array(run.targets, targets)  # so that a resumed run need not ask the teachers again
    return targets


def build_or_restore(run, settings, steps_per_epoch, resuming):
    """The model to train: the checkpoint on --resume, else a new or --init-from model, compiled."""
    import keras

    from inference import load_model
    from model import build_model
    if resuming:
        try:
            return keras.models.load_model(run.checkpoint)
        except Exception as e:  # noqa: BLE001 - Keras raises many kinds for a damaged file
            raise AppError(f"the checkpoint {run.checkpoint} is unreadable ({type(e).__name__}); start over "
                           "with --fresh.") from None
    if settings.get("init_from"):
        try:
            model = load_model(settings["init_from"])
        except ModelError as e:
            raise ModelError(f"--init-from: {e}") from None
    else:
        model = build_model(widths=settings["widths"], convs_per_block=settings["convs"],
                            dropout=settings["dropout"], fused_norm=True)
    run.record = {"settings": settings, "history": [], "finished": False, "train_seconds": 0.0}
    return compile_for_training(model, settings, steps_per_epoch)


def epoch_recorder(run, images=0, epochs=0):
    """A Keras callback that checkpoints each epoch with its record, prints one progress line per epoch, and
    stops training if the loss diverges."""
    import keras

    class RecordEpochs(keras.callbacks.Callback):
        diverged = None  # the epoch whose loss became NaN or infinite

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.time()

        def on_train_batch_end(self, batch, logs=None):
            if logs and not math.isfinite(float(logs.get("loss", 0.0))):
                self.diverged = self.diverged or run.epochs_done + 1
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self.diverged:
                return  # never checkpoint a model with NaN weights
            run.save_epoch(self.model, {"epoch": epoch + 1, "seconds": round(time.time() - self.started, 1),
                                        **{k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"}})
            if epochs:
                print(progress_line(run.record["history"], images, epochs), flush=True)

    return RecordEpochs()


def progress_line(history, images, epochs):
    """'epoch 5/80: 172 s, 150 images/s, accuracy 55.1 %, validation 54.7 % (best 54.7 % at 5), 3 h 35 min left'"""
    last = history[-1]
    # the median: an epoch the machine slept through does not stretch the estimate
    left = statistics.median(h["seconds"] for h in history[-5:]) * (epochs - last["epoch"])
    parts = [f"epoch {last['epoch']}/{epochs}: {last['seconds']:.0f} s", f"{images / last['seconds']:.0f} images/s",
             f"loss {last['loss']:.3f}", f"accuracy {last['accuracy']:.1%}"]
    if "val_accuracy" in last:
        best = max(history, key=lambda h: h.get("val_accuracy", 0))
        parts.append(f"validation {last['val_accuracy']:.1%} (best {best['val_accuracy']:.1%} at {best['epoch']})")
    if left:
        parts.append(f"{int(left // 3600)} h {int(left % 3600 // 60)} min left" if left >= 3600
                     else f"{int(left // 60)} min {int(left % 60)} s left")
    return ", ".join(parts)


def final_test(model, test):
    """Test accuracy with 1 view and with 4 views per face, as evaluate.py classifies."""
    import numpy as np

    from inference import EmotionClassifier, predict_probs
    if test is None:
        return {}
    x_test, y_test = test
    plain = predict_probs(EmotionClassifier(model, views=1), x_test)
    tta = predict_probs(EmotionClassifier(model, views=4), x_test)
    return {"test_accuracy": float(np.mean(plain.argmax(1) == y_test)),
            "test_accuracy_4_views": float(np.mean(tta.argmax(1) == y_test)), "test_n": int(len(y_test))}


@main_guard
def main(argv=None):
    args = parse_args(argv)
    check_writable(args.run_dir, "the run's checkpoints")
    check_writable(args.out.resolve().parent, "the model")
    run, settings = resolve_run(args)
    (x, y), val, test = load_data(settings)

    import numpy as np

    from inference import import_tensorflow
    import_tensorflow()

    data_seed = seed_random_streams(settings["seed"], run.epochs_done if args.resume else 0)
    targets = training_targets(run, settings, x, y, args.resume)
    train_ds = make_train_dataset(x, targets, settings["batch_size"], data_seed, settings.get("mixup", 0.0))
    val_ds = make_eval_dataset(*val) if val else None
    model = build_or_restore(run, settings, int(np.ceil(len(y) / settings["batch_size"])), args.resume)
    if not args.resume:
        run.save_record()

    verbose = 1 if sys.stdout.isatty() else 0  # a bar within the epoch on a terminal; our line per epoch always
    recorder = epoch_recorder(run, len(y), settings["epochs"])
    try:
        model.fit(train_ds, validation_data=val_ds, epochs=settings["epochs"], initial_epoch=run.epochs_done,
                  callbacks=[recorder], verbose=verbose, shuffle=False)
    except (KeyboardInterrupt, Exception) as e:
        if not interrupted(e):
            raise
        if run.epochs_done:
            print(f"\nInterrupted after {run.epochs_done} complete epoch(s); continue with: "
                  f"python train.py --resume --run-dir {run.folder}")
        else:
            print("\nInterrupted during the first epoch: nothing to resume; run the same command again "
                  "(with --fresh) to start over.")
        return 130
    if recorder.diverged:
        raise AppError(f"training diverged: the loss became NaN in epoch {recorder.diverged}; lower --lr "
                       f"(now {settings['lr']}). Nothing was saved from that epoch; {run.epochs_done} earlier "
                       "epoch(s) are kept in the run folder.")

    history = run.record["history"]
    result = {"val_accuracy": history[-1].get("val_accuracy"), **final_test(model, test)}
    run.record.update(result, finished=True, params=int(model.count_params()))
    if test is not None:
        print(f"Test accuracy: {result['test_accuracy_4_views']:.4f} as evaluate.py measures it (4 views per "
              f"face; {result['test_accuracy']:.4f} for one) on {result['test_n']} images.")
    with run.writing(f"the model {args.out}"):
        saved = save_trained_model(model, args.out, run, settings, test, args.replace)
    run.record.update(model_path=str(saved), model_bytes=saved.stat().st_size)
    run.save_record()

    from plots import plot_curves
    try:
        plot_curves(history, run.curves)
    except OSError as e:  # the model and its record are saved; the picture can be drawn again from run.json
        print(f"warning: cannot write {run.curves}: {os_reason(e)}")
    print(f"Saved {saved} ({run.record['model_bytes'] / 1e6:.1f} MB) after {len(history)} epochs, "
          f"{run.record['train_seconds'] / 60:.1f} min of training.")
    print(f"Run record: {run.record_path}; curves: {run.curves}")
    return 0


def save_trained_model(model, out, run, settings, test, replace):
    """Save the model at out, unless it would replace a model there after a trial run or with a lower test
    accuracy: then the one there stays and the new one goes to the run folder. A replaced model is kept as
    NAME.backup.h5. Returns the path written."""
    import shutil

    from inference import load_model
    from model import plain_model
    model = plain_model(model)
    if out.exists():
        old = None
        if test is not None:
            try:
                old = final_test(load_model(out), test)["test_accuracy_4_views"]
            except ModelError:
                pass  # an unreadable model there is replaced, and kept as a backup
        new = run.record.get("test_accuracy_4_views")
        why = None
        if old is not None and new is not None and new < old:
            why = f"tests worse ({new:.1%} against {old:.1%})"
        elif settings["limit"] or settings["epochs"] < RECIPE_EPOCHS:
            why = "comes from a trial run (" + (f"--limit {settings['limit']}" if settings["limit"] else
                                               f"{settings['epochs']} epochs of the recipe's {RECIPE_EPOCHS}") + ")"
        if why and not replace:
            kept = run.folder / out.name
            atomic.save_model(model, kept, include_optimizer=False)
            print(f"Kept {out}: the new model {why}. It is saved as {kept}; pass --replace to overwrite "
                  f"{out.name} with it.")
            return kept
        backup = out.with_name(f"{out.stem}.backup{out.suffix}")
        with atomic.atomic_path(backup) as tmp:
            shutil.copy2(out, tmp)
        print(f"Replacing {out}" + (f" ({old:.1%} on the test set)" if old is not None else "")
              + f"; the previous model is kept as {backup}.")
    atomic.save_model(model, out, include_optimizer=False)
    return out

if __name__ == "__main__":
    sys.exit(main())
