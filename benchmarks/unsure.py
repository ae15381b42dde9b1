"""How the "not sure" rule (faces.UNSURE_BELOW, faces.UNSURE_MARGIN) splits faces, on the validation split held
out of train/ (never on test/): for each pair of thresholds, the share of faces called "not sure" and the
accuracy on those and on the rest.

    python -m benchmarks.unsure ../shared/fer2013
"""
import sys

import numpy as np


from benchmarks.validation import make_parser, validation_faces  # noqa: E402


def main(argv=None):
    p = make_parser(__doc__)
    args = p.parse_args(argv)
    from emojify.faces import UNSURE_BELOW, UNSURE_MARGIN
    from emojify.inference import EmotionClassifier, load_model
    x, y = validation_faces(args)
    classify = EmotionClassifier(load_model(args.model), views=1)  # as the live window classifies
    probs = np.concatenate([classify(x[i:i + 256]) for i in range(0, len(x), 256)])
    ordered = np.sort(probs, axis=1)
    top, second = ordered[:, -1], ordered[:, -2]
    right = probs.argmax(axis=1) == y
    print(f"validation faces: {len(y)}, accuracy {right.mean():.1%}")
    for below in (0.3, 0.35, 0.4, 0.45, 0.5):
        for margin in (0.05, 0.1, 0.15):
            unsure = (top < below) | (top - second < margin)
            mark = "  <- emojify/faces.py" if (below, margin) == (UNSURE_BELOW, UNSURE_MARGIN) else ""
            print(f"below={below:.2f} margin={margin:.2f}: not sure {unsure.mean():5.1%}, accuracy when sure "
                  f"{right[~unsure].mean():5.1%}, when not sure {right[unsure].mean():5.1%}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
