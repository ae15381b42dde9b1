"""Whether more test-time views would pay: accuracy on the validation split held out of train/ (never test/) of
the model (each member of an ensemble, and their average) with the 4 views inference.EmotionClassifier uses and
with sets that add small rotations, zooms and 1-pixel shifts, each also mirrored.

    python -m benchmarks.views ../shared/fer2013
"""
import sys

import cv2
import numpy as np


from benchmarks.validation import make_parser, validation_faces  # noqa: E402

WARPS = {"rotate +5": dict(angle=5), "rotate -5": dict(angle=-5), "zoom in 5%": dict(scale=1.05),
         "zoom out 5%": dict(scale=0.95), "shift x+1": dict(dx=1), "shift x-1": dict(dx=-1),
         "shift y+1": dict(dy=1), "shift y-1": dict(dy=-1)}
APP = ["face", "half-pixel shift"]  # EmotionClassifier(views=4): these two and their mirror images
SETS = {
    "the app's 4 views": APP,
    "+ rotations (8)": APP + ["rotate +5", "rotate -5"],
    "+ zooms (8)": APP + ["zoom in 5%", "zoom out 5%"],
    "+ rotations and zooms (12)": APP + ["rotate +5", "rotate -5", "zoom in 5%", "zoom out 5%"],
    "+ 1-pixel shifts (12)": APP + ["shift x+1", "shift x-1", "shift y+1", "shift y-1"],
    "all (20)": APP + list(WARPS),
}


def view(faces, name):
    """float32 faces [N, 48, 48] seen another way."""
    if name == "face":
        return faces
    if name == "half-pixel shift":  # as EmotionClassifier: each pixel the mean of a 2x2 block
        p = np.pad(faces, ((0, 0), (1, 0), (1, 0)), mode="symmetric")
        return (p[:, :-1, :-1] + p[:, 1:, :-1] + p[:, :-1, 1:] + p[:, 1:, 1:]) / 4
    w = WARPS[name]
    h, wd = faces.shape[1:]
    m = cv2.getRotationMatrix2D(((wd - 1) / 2, (h - 1) / 2), w.get("angle", 0), w.get("scale", 1))
    m[:, 2] += (w.get("dx", 0), w.get("dy", 0))
    return np.stack([cv2.warpAffine(f, m, (wd, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                     for f in faces])


def main(argv=None):
    p = make_parser(__doc__)
    args = p.parse_args(argv)
    from emojify.inference import ensemble_members, folded_inference, import_tensorflow, load_model
    tf = import_tensorflow()
    x, y = validation_faces(args)
    x = x.astype(np.float32)
    model = load_model(args.model)
    members = ensemble_members(model) or [model]
    names = APP + list(WARPS)
    probs = np.zeros((len(members), len(names) * 2, len(y), int(model.output_shape[-1])), np.float32)
    for m, member in enumerate(members):
        forward = tf.function(folded_inference(member) or (lambda t, member=member: member(t, training=False)))
        for v, name in enumerate(names):
            seen = view(x, name)
            for k, faces in enumerate((seen, seen[:, :, ::-1])):
                probs[m, 2 * v + k] = np.concatenate([forward(tf.constant(faces[i:i + 512, ..., None])).numpy()
                                                      for i in range(0, len(y), 512)])
    print(f"validation faces: {len(y)}, model {args.model.name} ({len(members)} member(s)), 4 views = "
          "face and half-pixel shift, each also mirrored")
    for label, chosen in SETS.items():
        rows = [2 * names.index(n) + k for n in chosen for k in (0, 1)]
        each = [(probs[m, rows].mean(axis=0).argmax(axis=1) == y).mean() for m in range(len(members))]
        together = (probs[:, rows].mean(axis=(0, 1)).argmax(axis=1) == y).mean()
        print(f"{label:28s} {together:6.2%}" + ("  members " + " ".join(f"{a:6.2%}" for a in each)
                                                  if len(members) > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
