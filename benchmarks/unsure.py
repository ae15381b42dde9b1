"""How the "not sure" rule (faces.UNSURE_BELOW, faces.UNSURE_MARGIN) splits faces, on the validation split held
out of train/ (never on test/): for each pair of thresholds, the share of faces called "not sure" and the
accuracy on those and on the rest.

    python benchmarks/unsure.py ../shared/fer2013
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("data", type=Path, help="folder holding train/ (the FER-2013 Kaggle layout)")
    p.add_argument("--model", type=Path, default=ROOT / "model.h5")
    p.add_argument("--val-split", type=float, default=0.1, help="as train.py")
    p.add_argument("--split-seed", type=int, default=1, help="as train.py")
    args = p.parse_args(argv)
    import dataset
    from faces import UNSURE_BELOW, UNSURE_MARGIN
    from inference import EmotionClassifier, load_model
    x, y, _, _ = dataset.load_folder(args.data / "train")
    _, val = dataset.stratified_split(y, args.val_split, seed=args.split_seed)
    classify = EmotionClassifier(load_model(args.model), views=1)  # as the live window classifies
    probs = np.concatenate([classify(x[val][i:i + 256]) for i in range(0, len(val), 256)])
    ordered = np.sort(probs, axis=1)
    top, second = ordered[:, -1], ordered[:, -2]
    right = probs.argmax(axis=1) == y[val]
    print(f"validation faces: {len(val)}, accuracy {right.mean():.1%}")
    for below in (0.3, 0.35, 0.4, 0.45, 0.5):
        for margin in (0.05, 0.1, 0.15):
            unsure = (top < below) | (top - second < margin)
            mark = "  <- faces.py" if (below, margin) == (UNSURE_BELOW, UNSURE_MARGIN) else ""
            print(f"below={below:.2f} margin={margin:.2f}: not sure {unsure.mean():5.1%}, accuracy when sure "
                  f"{right[~unsure].mean():5.1%}, when not sure {right[unsure].mean():5.1%}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
