"""Every ensemble of the given members scored (4 views): how the shipped ensemble is chosen.

By default on validation, the split train.py holds out of train/ (never test/); with --crossdomain on the sets
of benchmarks/crossdomain.py, ranked by the cross-domain score (the mean accuracy over sfew, lfw and webcam).
An ensemble file counts as its members.

    python -m benchmarks.ensembles ../shared/fer2013 --members model.h5 runs/member8/model.h5
    python -m benchmarks.ensembles ../shared/fer2013 --members runs/member*/model.h5 --max-mb 25 --top 20
    python -m benchmarks.ensembles ../shared/fer2013 --crossdomain --members model.h5 emojify/models/live.h5
    python -m benchmarks.ensembles ../shared/fer2013 --crossdomain --cache ../runs/probs --min-validation 72.7 \\
        --members model.h5 emojify/models/live.h5 ../runs/ft1cam/model.h5
    python -m benchmarks.ensembles ../shared/fer2013 --crossdomain --cache ../runs/probs --min-validation 72.7 \\
        --gate 160 --members model.h5 emojify/models/live.h5 ../runs/ft1cam/model.h5

--gate LEVEL ranks pairs of ensembles instead: one for sharp faces (the sharpness of FER-2013's), one for the
softer faces other cameras give, each face read by one of them according to its sharpness (below).
"""
import argparse
import hashlib
import itertools
import sys
from pathlib import Path

import numpy as np

from benchmarks.validation import make_parser, validation_faces  # noqa: E402
from emojify import dataset  # noqa: E402
from emojify.detect import sharpness  # noqa: E402


def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def member_probs(paths, faces, cache=None):
    """[(name, float32 weights in MB, {set: 4-view probabilities})] for every member of the given model files;
    faces: {set: faces}. cache: a folder keeping each member's probabilities, keyed by its weights and the faces,
    so that a member is scored once over many runs."""
    from emojify import atomic
    from emojify.inference import EmotionClassifier, indexed_members, load_model, member_name, predict_probs
    found = []
    faces_key = digest(*faces.values())
    for path in paths:
        for i, member in indexed_members(load_model(path)):
            name = member_name(path, i)
            kept = Path(cache) / f"{digest(*member.get_weights())}-{faces_key}.npz" if cache else None
            reused = kept is not None and kept.is_file()
            if reused:
                with np.load(kept, allow_pickle=False) as saved:
                    probs = {key: saved[key] for key in faces}
            else:
                classifier = EmotionClassifier(member, views=4)
                probs = {key: predict_probs(classifier, x) for key, x in faces.items()}
                if kept is not None:
                    with atomic.atomic_path(kept) as tmp, open(tmp, "wb") as f:
                        np.savez(f, **probs)
            found.append((name, member.count_params() * 4 / 1e6, probs))
            print(f"scored {name}" + (" (kept from an earlier run)" if reused else ""),
                  file=sys.stderr, flush=True)
    return found


def ensembles(members, max_mb, smallest=2):
    """(MB, member indices) of every ensemble of smallest or more members within max_mb."""
    for size in range(smallest, len(members) + 1):
        for group in itertools.combinations(range(len(members)), size):
            mb = sum(members[i][1] for i in group)
            if mb <= max_mb:
                yield mb, group


def accuracies(members, group, labels):
    """{set: accuracy} of the members' averaged probabilities."""
    return {key: float(np.mean(np.mean([members[i][2][key] for i in group], axis=0).argmax(1) == y))
            for key, y in labels.items()}


def gated_pairs(members, labels, sharp, max_mb, scored, min_validation=0.0, top=15):
    """The top pairs of ensembles (single members included) within max_mb together, the faces where sharp is
    True read by the first, the others by the second, as [(score, {set: accuracy}, MB, sharp group, soft
    group)]; scored: the sets whose mean accuracy is the score. Pairs below min_validation (a fraction on
    "validation") are left out; a group paired with itself is the plain ensemble."""
    groups = [g for _, g in ensembles(members, max_mb, smallest=1)]
    right = {key: np.array([np.mean([members[i][2][key] for i in g], axis=0).argmax(1) == y for g in groups])
             for key, y in labels.items()}
    on_sharp = {key: (right[key] & sharp[key]).sum(1) / len(y) for key, y in labels.items()}
    on_soft = {key: (right[key] & ~sharp[key]).sum(1) / len(y) for key, y in labels.items()}
    masks = np.array([sum(1 << i for i in g) for g in groups])
    weights = np.array([m[1] for m in members])
    best = []  # (score, mb, a, b)
    for a in range(len(groups)):
        mb = (((masks[a] | masks)[:, None] >> np.arange(len(members))) & 1) @ weights
        score = np.mean([on_sharp[key][a] + on_soft[key] for key in scored], axis=0)
        keep = np.flatnonzero((mb <= max_mb) & (on_sharp["validation"][a] + on_soft["validation"] >= min_validation))
        best += [(-score[b], mb[b], a, b) for b in keep[np.argsort(-score[keep])[:top]]]
        best = sorted(best)[:top]
    return [(-s, {key: float(on_sharp[key][a] + on_soft[key][b]) for key in labels}, float(mb), groups[a],
             groups[b]) for s, mb, a, b in best]


def rank_validation(args):
    x, y = validation_faces(args)
    members = member_probs(args.members, {"validation": x}, args.cache)
    labels = {"validation": y}
    print(f"validation faces: {len(y)}; one standard error at 72 %: "
          f"{100 * np.sqrt(0.72 * 0.28 / len(y)):.1f} points")
    for i, (name, mb, _) in enumerate(members):
        print(f"member {i}: {accuracies(members, [i], labels)['validation']:.2%}  {mb:4.1f} MB  {name}")
    scored = [(accuracies(members, group, labels)["validation"], mb, group)
              for mb, group in ensembles(members, args.max_mb)]
    scored.sort(key=lambda s: (-s[0], s[1]))
    print(f"{len(scored)} ensembles within {args.max_mb:g} MB; the best:")
    for accuracy, mb, group in scored[:args.top]:
        print(f"{accuracy:.2%}  {mb:4.1f} MB  members {' + '.join(map(str, group))}")


def rank_crossdomain(args):
    from benchmarks.crossdomain import SCORED, load_sets
    sets = load_sets(argparse.Namespace(fer=args.data, sfew=args.sfew, lfw=args.lfw))
    sets.pop("lfw-photo")  # not in the score; the detected photos are
    members = member_probs(args.members, {key: s[0] for key, s in sets.items()}, args.cache)
    labels = {key: s[1] for key, s in sets.items()}

    def score(row):
        return float(np.mean([row[key] for key in SCORED]))

    def line(row, mb, what):
        return f"{score(row):.2%}  " + "  ".join(f"{row[key]:.1%}" for key in labels) + f"  {mb:4.1f} MB  {what}"

    header = "score   " + "  ".join(f"{key:>5s}" for key in labels)
    print(f"faces: {', '.join(f'{key} {len(y)}' for key, y in labels.items())}\n{header}")
    for i, (name, mb, _) in enumerate(members):
        print(line(accuracies(members, [i], labels), mb, f"member {i}: {name}"))
    floor = f" and {args.min_validation:g} % validation" if args.min_validation else ""
    if args.gate is not None:
        sharp = {key: sharpness(s[0]) >= args.gate for key, s in sets.items()}
        print("sharp faces (read by the first ensemble of a pair): " + ", ".join(
            f"{key} {int(sharp[key].sum())} of {len(sharp[key])}" for key in labels))
        pairs = gated_pairs(members, labels, sharp, args.max_mb, SCORED, args.min_validation / 100, args.top)
        print(f"the best pairs within {args.max_mb:g} MB together{floor}, by cross-domain score:\n{header}")
        for _, row, mb, hard, soft in pairs:
            print(line(row, mb, f"sharp: members {' + '.join(map(str, hard))}; "
                                f"softer: members {' + '.join(map(str, soft))}"))
        return
    scored = [(accuracies(members, group, labels), mb, group) for mb, group in ensembles(members, args.max_mb)]
    scored = [s for s in scored if s[0]["validation"] >= args.min_validation / 100]
    scored.sort(key=lambda s: (-score(s[0]), s[1]))
    print(f"{len(scored)} ensembles within {args.max_mb:g} MB{floor}; the best by cross-domain score:\n{header}")
    for row, mb, group in scored[:args.top]:
        print(line(row, mb, f"members {' + '.join(map(str, group))}"))


def main(argv=None):
    from benchmarks.crossdomain import SHARED
    p = make_parser(__doc__, model=False)
    p.add_argument("--members", type=Path, nargs="+", required=True, help="model files (members or ensembles)")
    p.add_argument("--max-mb", type=float, default=25.0, help="largest ensemble listed (float32 weights)")
    p.add_argument("--top", type=int, default=15, help="how many of the best ensembles to list")
    p.add_argument("--crossdomain", action="store_true", help="rank by the cross-domain score (validation, "
                   "sfew, lfw and webcam as benchmarks/crossdomain.py builds them; --val-split and --split-seed "
                   "are train.py's defaults there)")
    p.add_argument("--min-validation", type=float, default=0.0, metavar="PERCENT",
                   help="with --crossdomain: only ensembles at least this accurate on validation (the shipped "
                        "one's, less the half point it may lose)")
    p.add_argument("--gate", type=float, metavar="LEVEL", help="with --crossdomain: rank pairs of ensembles, "
                   "faces at least this sharp (mean gradient, gray levels per pixel) read by the first, the "
                   "others by the second; 160 is about the 1st percentile of FER-2013's training faces")
    p.add_argument("--cache", type=Path, help="folder keeping each member's probabilities (scored once, read "
                   "back when its weights and the faces are the same)")
    p.add_argument("--sfew", type=Path, default=SHARED / "crossdomain" / "sfew")
    p.add_argument("--lfw", type=Path, default=SHARED / "crossdomain" / "lfw")
    args = p.parse_args(argv)
    if args.gate is not None and not args.crossdomain:
        p.error("--gate ranks by the cross-domain score: add --crossdomain")
    (rank_crossdomain if args.crossdomain else rank_validation)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
