"""Train the Emojify CNN on FER-2013 (Kaggle folder layout) and save model.h5.

    python train.py                          # data/train + data/test -> model.h5
    python train.py --data ../shared/fer2013 --epochs 80
    python train.py --resume                 # continue an interrupted run from its last epoch

Every epoch is checkpointed to --run-dir (model + optimizer state), so an interrupted run loses at most
one epoch. At the end: model.h5, the test accuracy, a training-curves PNG and a JSON record of the run.
"""
from emojify import preflight

preflight.require(training=True)  # first: a missing package, or Ctrl+C from here on, is one line

import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from emojify import atomic  # noqa: E402
from emojify.cli import interrupted, main_guard, make_parser  # noqa: E402
from emojify.config import WORK  # noqa: E402
from emojify.errors import AppError, DatasetError, ModelError, os_reason  # noqa: E402
from emojify.training.run import (RECIPE_EPOCHS, Settings, check_writable, epoch_recorder, final_test,  # noqa: E402
                                  resolve_run, save_trained_model)
from emojify.training.schedule import (compile_for_training, make_eval_dataset, make_train_dataset,  # noqa: E402
                                       seed_random_streams, soft_targets)

# --option: (lowest, highest, what it takes); lr and teacher_weight must also be above 0.
RANGES = {"lr": (0, 1, "a learning rate in (0, 1]"), "weight_decay": (0, 1, "a number in [0, 1]"),
          "label_smoothing": (0, 0.99, "a number in [0, 1)"),
          "mixup": (0, 10, "a Beta distribution's alpha in [0, 10] (0: off)"),
          "dropout": (0, 0.99, "a number in [0, 1)"),
          "teacher_weight": (0, 1, "a number in (0, 1]"), "val_split": (0, 0.49, "a number in [0, 0.5)"),
          "camera_share": (0, 1, "a share of the faces in (0, 1]"),
          "zoom": (0, 0.5, "a share of the face in [0, 0.5]")}
NOT_ZERO = ("lr", "teacher_weight", "camera_share")


def build_parser():
    p = make_parser(__doc__)
    p.add_argument("--data", type=Path,
                   help="folder holding train/ and test/ emotion subfolders, or the original fer2013.csv "
                        "(default: data; with --resume: the run's own, or the same images moved here)")
    p.add_argument("--out", type=Path, default=WORK / "model.h5", help="where to save the trained model")
    p.add_argument("--run-dir", type=Path, default=WORK / "runs" / "latest",
                   help="checkpoints, run JSON and curves PNG go here")
    p.add_argument("--epochs", type=int, default=RECIPE_EPOCHS)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the warm-up + cosine schedule")
    p.add_argument("--weight-decay", type=float, default=0.05, help="AdamW decoupled weight decay")
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="blend training images and their targets in pairs, weights from Beta(ALPHA, ALPHA) "
                        "(0: off)")
    p.add_argument("--camera-aug", action="store_true",
                   help="also augment with what other cameras do to a face: gamma, light gradients, blur, low "
                        "resolution, noise, JPEG")
    p.add_argument("--camera-share", type=float, default=0.25, metavar="SHARE",
                   help="with --camera-aug: the share of faces each of those effects is applied to")
    p.add_argument("--zoom", type=float, default=0.1,
                   help="the largest random zoom in or out of a training face (0.1: 10 %%), for other framings")
    p.add_argument("--normalize", action="store_true",
                   help="standardise each face's brightness and contrast inside the model (training and "
                        "inference alike); with --init-from, a model trained without it gains it in front")
    p.add_argument("--val-split", type=float, default=0.1,
                   help="fraction of train/ held out (per class) to watch generalisation; 0 disables")
    p.add_argument("--widths", default="32,64,128,256", help="conv widths per block, comma separated")
    p.add_argument("--convs", default=None,
                   help="conv layers per block, comma separated (default: 1 in the first two blocks, 2 in the "
                        "others)")
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--init-from", default=None, metavar="MODEL",
                   help="start from this trained model's weights (a second, fine-tuning schedule) instead of "
                        "random ones; its architecture replaces --widths/--convs/--dropout; FILE[i]: member i "
                        "of an ensemble")
    p.add_argument("--teacher", action="append", default=[], metavar="MODEL",
                   help="trained model whose predictions (4 views averaged) soften the training labels "
                        "(knowledge distillation); repeat for several; FILE[i]: member i of an ensemble")
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
    return p


def parse_args(argv):
    p = build_parser()
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1; received {getattr(args, name)}")
    for name, (low, high, what) in RANGES.items():
        value = getattr(args, name)
        if not (math.isfinite(value) and low <= value <= high) or (name in NOT_ZERO and value == 0):
            p.error(f"--{name.replace('_', '-')} takes {what}; received {value}")
    if args.camera_share != p.get_default("camera_share") and not args.camera_aug:
        p.error(f"--camera-share {args.camera_share:g} sets how often --camera-aug's effects apply: add --camera-aug")
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




def settings_from(args):
    """The frozen settings of a new run, from the command line."""
    if args.init_from:  # its architecture comes with it; --normalize puts the light normalisation in front
        architecture = dict(widths=None, convs=None, dropout=None, normalize=args.normalize or None)
    else:
        architecture = dict(widths=tuple(args.widths), convs=tuple(args.convs), dropout=args.dropout,
                            normalize=args.normalize)
    return Settings(
        data=str(args.data or WORK / "data"), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, label_smoothing=args.label_smoothing, val_split=args.val_split,
        seed=args.seed, split_seed=args.split_seed, limit=args.limit,
        init_from=str(args.init_from) if args.init_from else None, teacher=tuple(args.teacher),
        teacher_weight=args.teacher_weight, mixup=args.mixup, camera_aug=args.camera_aug,
        camera_share=args.camera_share, zoom=args.zoom, **architecture)


def load_data(settings):
    """(x, y) to train on, (x_val, y_val) held out of them or None, and (x_test, y_test) or None."""
    import numpy as np

    from emojify import dataset
    from emojify.emotions import EMOTIONS
    data = Path(settings.data)
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
    if settings.limit:
        keep = np.sort(np.random.default_rng(settings.seed).permutation(len(y))[: settings.limit])
        x, y = x[keep], y[keep]
    val = None
    if settings.val_split:
        # Runs recorded before --split-seed existed split with --seed.
        tr, va = dataset.stratified_split(y, settings.val_split, seed=settings.split_seed if settings.split_seed is not None else settings.seed)
        x, y, val = x[tr], y[tr], (x[va], y[va])
    counts = np.bincount(y, minlength=len(EMOTIONS))
    print(f"Training on {len(y)} images ({', '.join(f'{e} {n}' for e, n in zip(EMOTIONS, counts))}); "
          f"validation {len(val[1]) if val else 0}; test {len(test[1]) if test else 0}.")
    return (x, y), val, test


def training_targets(run, settings, x, y, resuming):
    """The labels, or with --teacher the soft targets: computed once and kept in the run folder."""
    import numpy as np

    from emojify.emotions import NUM_CLASSES
    if not settings.teacher:
        return y
    cached = np.load(run.targets, allow_pickle=False) if resuming and run.targets.is_file() else None
    if cached is not None and cached.shape == (len(y), NUM_CLASSES):
        print(f"Soft targets from {run.targets}, as computed when the run started.")
        return cached
    print(f"Soft targets from {len(settings.teacher)} teacher model(s), weight {settings.teacher_weight}.")
    try:
        targets = soft_targets(x, y, settings.teacher, settings.teacher_weight)
    except ModelError as e:
        raise ModelError(f"--teacher: {e}") from None
    with run.writing(run.targets):
        atomic.save_array(run.targets, targets)  # so that a resumed run need not ask the teachers again
    return targets


def build_or_restore(run, settings, steps_per_epoch, resuming):
    """The model to train: the checkpoint on --resume, else a new or --init-from model, compiled."""
    import keras

    from emojify.inference import load_member
    from emojify.model import build_model, has_light_norm, with_light_norm
    if resuming:
        try:
            return keras.models.load_model(run.checkpoint)
        except Exception as e:  # noqa: BLE001 - Keras raises many kinds for a damaged file
            raise AppError(f"the checkpoint {run.checkpoint} is unreadable ({type(e).__name__}); start over "
                           "with --fresh.") from None
    if settings.init_from:
        try:
            model = load_member(settings.init_from)
        except ModelError as e:
            raise ModelError(f"--init-from: {e}") from None
        if settings.normalize and not has_light_norm(model):
            model = with_light_norm(model)
    else:
        model = build_model(widths=settings.widths, convs_per_block=settings.convs,
                            dropout=settings.dropout, normalize=bool(settings.normalize),
                            fused_norm=True)
    run.start(settings)
    return compile_for_training(model, steps_per_epoch, settings.epochs, settings.lr, settings.weight_decay,
                                settings.label_smoothing)


@main_guard
def main(argv=None):
    args = parse_args(argv)
    check_writable(args.run_dir, "the run's checkpoints")
    check_writable(args.out.resolve().parent, "the model")
    run, settings = resolve_run(args.run_dir, settings_from(args), args.resume, args.fresh, args.data)

    # Data: the training images (or soft targets), the held-out validation split and the test set.
    (x, y), val, test = load_data(settings)
    from emojify.inference import import_tensorflow
    import_tensorflow()
    data_seed = seed_random_streams(settings.seed, run.epochs_done if args.resume else 0)
    targets = training_targets(run, settings, x, y, args.resume)
    train_ds = make_train_dataset(x, targets, settings.batch_size, data_seed, settings.mixup,
                                  settings.camera_share if settings.camera_aug else 0.0, settings.zoom)
    val_ds = make_eval_dataset(*val) if val else None

    # Model: a new one (or --init-from), or the last checkpoint on --resume.
    model = build_or_restore(run, settings, math.ceil(len(y) / settings.batch_size), args.resume)

    # Fit, every epoch checkpointed.
    recorder = epoch_recorder(run, len(y), settings.epochs)
    if not fit(model, train_ds, val_ds, run, settings, recorder):
        return 130

    # Test, then save.
    result = {"val_accuracy": run.history[-1].get("val_accuracy"), **final_test(model, test)}
    run.update(**result, finished=True, params=int(model.count_params()))
    if test is not None:
        print(f"Test accuracy: {result['test_accuracy_4_views']:.4f} as evaluate.py measures it (4 views per "
              f"face; {result['test_accuracy']:.4f} for one) on {result['test_n']} images.")
    with run.writing(f"the model {args.out}"):
        saved = save_trained_model(model, args.out, run, settings, test, args.replace)
    run.update(model_path=str(saved), model_bytes=saved.stat().st_size)
    from emojify.plots import plot_curves
    try:
        plot_curves(run.history, run.curves)
    except OSError as e:  # the model and its record are saved; the picture can be drawn again from run.json
        print(f"warning: cannot write {run.curves}: {os_reason(e)}")
    print(f"Saved {saved} ({run.record['model_bytes'] / 1e6:.1f} MB; its LiteRT export beside it) after {run.epochs_done} epochs, "
          f"{run.record['train_seconds'] / 60:.1f} min of training.")
    print(f"Run record: {run.record_path}; curves: {run.curves}")
    return 0


def fit(model, train_ds, val_ds, run, settings, recorder):
    """Train to the last epoch; False when Ctrl+C stopped it (after saying how to go on)."""
    verbose = 1 if sys.stdout.isatty() else 0  # a bar within the epoch on a terminal; our line per epoch always
    try:
        model.fit(train_ds, validation_data=val_ds, epochs=settings.epochs, initial_epoch=run.epochs_done,
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
        return False
    if recorder.diverged:
        raise AppError(f"training diverged: the loss became NaN in epoch {recorder.diverged}; lower --lr "
                       f"(now {settings.lr}). Nothing was saved from that epoch; {run.epochs_done} earlier "
                       "epoch(s) are kept in the run folder.")
    return True


if __name__ == "__main__":
    sys.exit(main())
