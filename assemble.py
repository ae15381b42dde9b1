"""Average trained models into one ensemble model file, used by evaluate.py, predict.py and the web page.

    python assemble.py runs/member1/model.h5 runs/member2/model.h5 runs/member3/model.h5 --out model.h5
    python assemble.py runs/*/model.h5 --data ../shared/fer2013 --out model.h5   # also score each on validation

The members come from train.py runs with different --seed and the same --split-seed. With --data, each member
and the ensemble are scored (4 views) on the validation images train.py held out, never on test/.
"""
import shutil
import sys
import time
from pathlib import Path

import preflight

preflight.require()

import atomic
from cli import main_guard, make_parser
from config import MODEL_PATH
from errors import AppError, ModelError, os_reason


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("members", nargs="+", type=Path, metavar="MODEL", help="trained model files (two or more)")
    p.add_argument("--out", type=Path, default=MODEL_PATH, help="where to save the ensemble (.h5)")
    p.add_argument("--data", type=Path, help="FER-2013 folder whose train/ validation split scores the models")
    p.add_argument("--val-split", type=float, default=0.1, help="as train.py")
    p.add_argument("--split-seed", type=int, default=1, help="as train.py")
    args = p.parse_args(argv)
    if len(args.members) < 2:
        p.error(f"an ensemble needs two or more member models; received {len(args.members)}")
    if args.out.suffix != ".h5":
        p.error(f"--out must end in .h5; received {str(args.out)!r}")
    inputs = {m.resolve() for m in args.members}
    if len(inputs) != len(args.members):
        p.error("a member is named twice; pass each model once")
    if args.out.resolve() in inputs:
        p.error(f"--out {args.out} is one of the members; write the ensemble to another file")
    return args


def validation_scores(models, args):
    """Validation accuracy (4 views) of each model, and of their average: (list, ensemble)."""
    import numpy as np

    import dataset
    from inference import EmotionClassifier, predict_probs
    x, y = dataset.validation_faces(args.data / "train", args.val_split, args.split_seed)
    probs = [predict_probs(EmotionClassifier(m, views=4), x) for m in models]
    singles = [float(np.mean(p.argmax(1) == y)) for p in probs]
    return singles, float(np.mean(np.mean(probs, axis=0).argmax(1) == y)), len(y)


@main_guard
def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    from inference import ensemble_members, import_tensorflow, load_model
    import_tensorflow()
    from model import build_ensemble
    models = []
    for path in args.members:
        try:
            model = load_model(path)
        except ModelError as e:
            raise ModelError(f"member {path}: {e}") from None
        if ensemble_members(model) is not None:
            raise AppError(f"member {path} is an ensemble already; pass the members' own model files.")
        models.append(model)
    ensemble = build_ensemble(models)
    if args.data:
        singles, together, n = validation_scores(models, args)
        for path, score in zip(args.members, singles):
            print(f"validation accuracy {score:.2%}  {path}")
        print(f"validation accuracy {together:.2%}  the ensemble ({n} held-out images, 4 views)")
    backup = args.out.with_name(f"{args.out.stem}.backup{args.out.suffix}")
    replacing = args.out.exists()
    try:
        if replacing:  # the model there is kept, as train.py keeps one it replaces
            with atomic.atomic_path(backup) as tmp:
                shutil.copy2(args.out, tmp)
        atomic.save_model(ensemble, args.out, include_optimizer=False)
    except OSError as e:
        raise AppError(f"cannot write {args.out}: {os_reason(e)}; it is unchanged.") from None
    if replacing:
        print(f"The previous {args.out.name} is kept as {backup}.")
    size = args.out.stat().st_size / 1e6
    params = ensemble.count_params()
    print(f"Saved {args.out}: {len(models)} members, {params:,} parameters, {size:.1f} MB, "
          f"in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
