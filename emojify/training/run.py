"""A training run and its folder: the frozen Settings it trains with, the Run folder (a checkpoint per epoch and
the JSON record that goes with it, resumable at any moment), the checks made before hours of work, the final
test and saving the model."""
import contextlib
import dataclasses
import json
import math
import os
import statistics
import time
from pathlib import Path

from emojify import atomic
from emojify.errors import AppError, ModelError, OutputError, os_reason

RECIPE_EPOCHS = 80  # with the other defaults: the recipe of the shipped model


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a run trains with, as recorded in its run.json (a resumed run reads them back)."""
    data: str
    epochs: int = RECIPE_EPOCHS
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    val_split: float = 0.1
    widths: tuple = (32, 64, 128, 256)  # None when init_from gives the architecture
    convs: tuple = (1, 1, 2, 2)
    dropout: float = 0.3
    seed: int = 1
    split_seed: int = None  # runs recorded before it existed split with seed
    limit: int = 0
    init_from: str = None
    teacher: tuple = ()
    teacher_weight: float = 0.5
    mixup: float = 0.0
    camera_aug: bool = False
    camera_share: float = 0.25  # runs recorded before it existed used this share
    normalize: bool = False
    zoom: float = 0.1  # runs recorded before it existed zoomed this much

    @classmethod
    def from_record(cls, record):
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in known}
        return cls(**values)

    def as_record(self):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @property
    def trial(self):
        """A quick trial (part of the data or a shorter schedule), not the recipe."""
        return bool(self.limit) or self.epochs < RECIPE_EPOCHS


class Run:
    """Where a run keeps its files: a checkpoint per epoch, the JSON record of settings and epochs, the curves.

    The record names the checkpoint it goes with, and is written after that checkpoint is complete: a run
    stopped at any moment resumes from a checkpoint and a record that agree. Only this class changes it.
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

    @property
    def history(self):
        return self.record["history"] if self.record else []

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

    def start(self, settings):
        """A new record for settings, written at once."""
        self.record = {"settings": settings.as_record(), "history": [], "finished": False, "train_seconds": 0.0}
        self.save_record()

    def update(self, **fields):
        """Record fields of the finished run (results, the saved model) and write the record."""
        self.record.update(fields)
        self.save_record()

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


def resolve_run(folder, settings, resume=False, fresh=False, data=None):
    """The Run in folder and the settings to train with: these, or the unfinished run's on resume (reading its
    images from data where they moved)."""
    run = Run(folder)
    run.remove_partial_files()
    if resume:
        if not run.unfinished:
            raise AppError(f"nothing to resume in {run.folder} (no unfinished run there); run without --resume.")
        recorded = Settings.from_record(run.record["settings"])
        print(f"Resuming run in {run.folder}: {run.epochs_done}/{recorded.epochs} epochs done.")
        if data is not None and str(data) != recorded.data:
            print(f"Reading the data from {data} (the run started with {recorded.data}).")
            recorded = dataclasses.replace(recorded, data=str(data))
            run.record["settings"]["data"] = recorded.data
        return run, recorded
    if run.unfinished and not fresh:
        raise AppError(f"{run.folder} holds an unfinished run ({run.epochs_done}/"
                       f"{run.record['settings']['epochs']} epochs); continue it with --resume or discard it "
                       "with --fresh.")
    if fresh:
        run.clear()
    from emojify.inference import member_spec
    for flag, spec in [("--init-from", settings.init_from)] + [("--teacher", t) for t in settings.teacher]:
        path = member_spec(spec)[0] if spec else None
        if path and not path.is_file():
            raise AppError(f"{flag}: model file {path} not found.")
    return run, settings


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
                print(progress_line(run.history, images, epochs), flush=True)

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


def final_test(model, test, what="the new model"):
    """Test accuracy with 1 view and with 4 views per face, as evaluate.py classifies; {} without a test set."""
    import numpy as np

    from emojify.cli import progress_bar
    from emojify.inference import EmotionClassifier, predict_probs
    if test is None:
        return {}
    x_test, y_test = test
    print(f"Testing {what} on {len(y_test)} images (1 and 4 views per face)...", flush=True)
    bar = progress_bar(2 * len(y_test), "face")
    step = bar.add if bar is not None else None
    plain = predict_probs(EmotionClassifier(model, views=1), x_test, progress=step)
    tta = predict_probs(EmotionClassifier(model, views=4), x_test, progress=step)
    return {"test_accuracy": float(np.mean(plain.argmax(1) == y_test)),
            "test_accuracy_4_views": float(np.mean(tta.argmax(1) == y_test)), "test_n": int(len(y_test))}


def save_trained_model(model, out, run, settings, test, replace):
    """Save the model at out, unless it would replace a model there after a trial run or with a lower test
    accuracy: then the one there stays and the new one goes to the run folder. A replaced model is kept as
    NAME.backup.h5. Each saved model gets its LiteRT export beside it (NAME.tflite). Returns the path written."""
    from emojify.export import back_up, save_with_export
    from emojify.inference import load_model
    from emojify.model import plain_model
    model = plain_model(model)
    if out.exists():
        why = None
        if settings.trial:
            trial = f"--limit {settings.limit}" if settings.limit else \
                f"{settings.epochs} epochs of the recipe's {RECIPE_EPOCHS}"
            why = f"comes from a trial run ({trial})"
        old = None
        if why is None and test is not None:  # a trial run never replaces it: no need to test the old one
            try:
                old = final_test(load_model(out), test, f"the model in {out}")["test_accuracy_4_views"]
            except ModelError:
                pass  # an unreadable model there is replaced, and kept as a backup
        new = run.record.get("test_accuracy_4_views")
        if old is not None and new is not None and new < old:
            why = f"tests worse ({new:.1%} against {old:.1%})"
        if why and not replace:
            kept = run.folder / out.name
            save_with_export(model, kept, include_optimizer=False)
            print(f"Kept {out}: the new model {why}. It is saved as {kept}; pass --replace to overwrite "
                  f"{out.name} with it.")
            return kept
        backup = back_up(out)
        print(f"Replacing {out}" + (f" ({old:.1%} on the test set)" if old is not None else "")
              + f"; the previous model is kept as {backup}.")
    save_with_export(model, out, include_optimizer=False)
    return out
