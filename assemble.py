"""Average trained models into one ensemble model file, used by evaluate.py, predict.py and the web page.

    python assemble.py runs/member1/model.h5 runs/member2/model.h5 runs/member3/model.h5 --out model.h5
    python assemble.py runs/*/model.h5 --data ../shared/fer2013 --out model.h5   # also score each on validation
    python assemble.py "model.h5[0]" "model.h5[2]" runs/member8/model.h5 --out runs/new.h5
    python assemble.py "model.h5[0]" "model.h5[1]" --soft emojify/models/live.h5 runs/ft1/model.h5 --out runs/new.h5

The members come from train.py runs with different --seed and the same --split-seed. An ensemble file counts as
all its members, FILE[i] as its member i (from 0, as benchmarks/ensembles.py lists them). With --data, each
member and the ensemble are scored (4 views) on the validation images train.py held out, never on test/.

With --soft, the file reads each face by its sharpness (model.build_gated): faces at least --gate sharp, as
FER-2013's are, by the MODELs' average, softer faces (other cameras, film, photos of people) by the --soft ones'.
"""
from emojify import preflight

preflight.require(training=True)  # first: a missing package, or Ctrl+C from here on, is one line

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from emojify.cli import main_guard, make_parser
from emojify.config import MODEL_PATH, SHARP_LEVEL
from emojify.errors import AppError, ModelError, os_reason
from emojify.inference import member_spec


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("members", nargs="+", type=member_spec, metavar="MODEL",
                   help="trained model files, ensembles, or FILE[i] for member i of an ensemble")
    p.add_argument("--soft", nargs="+", type=member_spec, default=[], metavar="MODEL",
                   help="models for the faces softer than --gate (the MODELs read the sharp ones)")
    p.add_argument("--gate", type=float, metavar="LEVEL",
                   help="with --soft: the sharpness (mean Sobel gradient, detect.sharpness) from which a face "
                        f"is read by the MODELs (default: {SHARP_LEVEL:g}, about FER-2013's 1st percentile)")
    p.add_argument("--out", type=Path, default=MODEL_PATH, help="where to save the ensemble (.h5)")
    p.add_argument("--data", type=Path, help="FER-2013 folder whose train/ validation split scores the models")
    p.add_argument("--val-split", type=float, default=0.1, help="as train.py")
    p.add_argument("--split-seed", type=int, default=1, help="as train.py")
    args = p.parse_args(argv)
    if args.out.suffix != ".h5":
        p.error(f"--out must end in .h5; received {str(args.out)!r}")
    if args.gate is not None and not args.soft:
        p.error("--gate is the sharpness that splits the MODELs from the --soft ones: add --soft MODEL")
    args.gate = SHARP_LEVEL if args.gate is None else args.gate
    if not args.gate > 0:
        p.error(f"--gate must be above 0; received {args.gate:g}")
    if args.out.resolve() in {path.resolve() for path, _ in args.members + args.soft}:
        p.error(f"--out {args.out} is one of the members; write the ensemble to another file")
    return args


def load_members(specs, least=2):
    """[(name, model)]: each spec's model, an ensemble's members, or the one member a spec picks."""
    from emojify.inference import indexed_members, load_model, member_name, pick_member
    found, files, keys = [], {}, []
    for path, index in specs:
        if path not in files:
            try:
                files[path] = load_model(path)
            except ModelError as e:
                raise ModelError(f"member {path}: {e}") from None
        picked = indexed_members(files[path]) if index is None else [(index, pick_member(files[path], path, index))]
        for i, member in picked:
            keys.append((path.resolve(), i))
            found.append((member_name(path, i), member))
    if len(set(keys)) != len(keys):
        raise AppError("a member is named twice (an ensemble counts as all its members); pass each model once.")
    if len(found) < least:
        raise AppError(f"an ensemble needs two or more member models; received {len(found)}.")
    return found


def validation_scores(models, built, args):
    """Validation accuracy (4 views) of each model, and of the model built of them: (list, built's, faces)."""
    import numpy as np

    from emojify import dataset
    from emojify.inference import EmotionClassifier, predict_probs
    x, y = dataset.validation_faces(args.data / "train", args.val_split, args.split_seed)

    def accuracy(model):
        return float(np.mean(predict_probs(EmotionClassifier(model, views=4), x).argmax(1) == y))
    return [accuracy(m) for m in models], accuracy(built), len(y)


@main_guard
def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    from emojify.inference import import_tensorflow
    import_tensorflow()
    from emojify.model import build_ensemble, build_gated
    sharp = load_members(args.members, least=1 if args.soft else 2)
    soft = load_members(args.soft, least=1) if args.soft else []
    names, models = zip(*(sharp + soft))
    if soft:
        from emojify.inference import indexed_members
        ensemble = build_gated([m for _, m in sharp], [m for _, m in soft], args.gate)
        stored = len(indexed_members(ensemble))
        both = len(sharp) + len(soft) - stored
        what = (f"faces at least {args.gate:g} sharp read by {len(sharp)}, softer ones by {len(soft)} of them"
                + (f"; {both} on both sides" if both else ""))
    else:
        ensemble, what, stored = build_ensemble(models), "averaged", len(models)
    if args.data:
        singles, together, n = validation_scores(models, ensemble, args)
        for name, score in zip(names, singles):
            print(f"validation accuracy {score:.2%}  {name}")
        print(f"validation accuracy {together:.2%}  the ensemble ({n} held-out images, 4 views)")
    from emojify.export import back_up, save_with_export
    replacing = args.out.exists()
    try:
        backup = back_up(args.out) if replacing else None  # the model there is kept, as train.py keeps one
        save_with_export(ensemble, args.out, include_optimizer=False)
    except OSError as e:
        raise AppError(f"cannot write {args.out}: {os_reason(e)}; it is unchanged.") from None
    if replacing:
        print(f"The previous {args.out.name} is kept as {backup}.")
    size = args.out.stat().st_size / 1e6
    params = ensemble.count_params()
    print(f"Saved {args.out} and its LiteRT export: {stored} members ({what}), {params:,} parameters, {size:.1f} MB, "
          f"in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
