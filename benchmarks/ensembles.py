"""Every ensemble of the given members scored on validation (4 views): how the shipped ensemble is chosen.

The validation split is the one train.py holds out of train/ (never test/). An ensemble file counts as its
members.

    python -m benchmarks.ensembles ../shared/fer2013 --members model.h5 runs/member8/model.h5
    python -m benchmarks.ensembles ../shared/fer2013 --members runs/member*/model.h5 --max-mb 25 --top 20
"""
import itertools
import sys
from pathlib import Path

import numpy as np


from benchmarks.validation import make_parser, validation_faces  # noqa: E402


def member_probs(paths, faces):
    """[(name, float32 weights in MB, 4-view probabilities)] for every member of the given model files."""
    from emojify.inference import EmotionClassifier, indexed_members, load_model, member_name, predict_probs
    found = []
    for path in paths:
        for i, member in indexed_members(load_model(path)):
            name = member_name(path, i)
            probs = predict_probs(EmotionClassifier(member, views=4), faces)
            found.append((name, member.count_params() * 4 / 1e6, probs))
            print(f"scored {name}", file=sys.stderr, flush=True)
    return found


def main(argv=None):
    p = make_parser(__doc__, model=False)
    p.add_argument("--members", type=Path, nargs="+", required=True, help="model files (members or ensembles)")
    p.add_argument("--max-mb", type=float, default=25.0, help="largest ensemble listed (float32 weights)")
    p.add_argument("--top", type=int, default=15, help="how many of the best ensembles to list")
    args = p.parse_args(argv)
    x, y = validation_faces(args)
    members = member_probs(args.members, x)
    print(f"validation faces: {len(y)}; one standard error at 72 %: "
          f"{100 * np.sqrt(0.72 * 0.28 / len(y)):.1f} points")
    for i, (name, mb, probs) in enumerate(members):
        print(f"member {i}: {np.mean(probs.argmax(1) == y):.2%}  {mb:4.1f} MB  {name}")
    scored = []
    for size in range(2, len(members) + 1):
        for group in itertools.combinations(range(len(members)), size):
            mb = sum(members[i][1] for i in group)
            if mb <= args.max_mb:
                mean = np.mean([members[i][2] for i in group], axis=0)
                scored.append((float(np.mean(mean.argmax(1) == y)), mb, group))
    scored.sort(key=lambda s: (-s[0], s[1]))
    print(f"{len(scored)} ensembles within {args.max_mb:g} MB; the best:")
    for accuracy, mb, group in scored[:args.top]:
        print(f"{accuracy:.2%}  {mb:4.1f} MB  members {' + '.join(map(str, group))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
