"""Export trained models to LiteRT: NAME.tflite beside each NAME.h5, what the app runs without TensorFlow.

    python export.py                                # model.h5 -> model.tflite
    python export.py runs/member9/model.h5 other.h5

train.py and assemble.py export every model they save; this is for models made before, or elsewhere.
Each export is checked against its model on random faces before the command says it is done.
"""
from emojify import preflight

preflight.require(training=True)  # first: a missing package, or Ctrl+C from here on, is one line

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from emojify.cli import main_guard, make_parser  # noqa: E402
from emojify.config import MODEL_PATH  # noqa: E402
from emojify.errors import AppError, ModelError, os_reason  # noqa: E402

AGREE = 1e-4  # largest difference in any probability between a model and its export


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("models", nargs="*", type=Path, default=[MODEL_PATH], metavar="MODEL",
                   help="Keras model files (.h5 or .keras) to export (default: model.h5)")
    args = p.parse_args(argv)
    for path in args.models:
        if path.suffix not in (".h5", ".keras"):
            p.error(f"MODEL must be a Keras model file ending in .h5 or .keras; received {str(path)!r}")
    return args


def largest_difference(model, exported):
    """How far the export's answers are from the model's on 64 random faces (4 views each)."""
    import numpy as np

    from emojify.inference import EmotionClassifier
    from emojify.lite import LiteClassifier
    faces = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    return float(np.abs(LiteClassifier(exported, views=4)(faces) - EmotionClassifier(model, views=4)(faces)).max())


@main_guard
def main(argv=None):
    args = parse_args(argv)
    from emojify import lite
    from emojify.export import export_model
    from emojify.inference import load_model
    failed = 0
    for path in args.models:
        try:
            model = load_model(path)
            out = export_model(path, model)
        except ModelError as e:
            failed += 1
            print(f"error: {e}", file=sys.stderr)
            continue
        except OSError as e:
            raise AppError(f"cannot write {lite.export_path(path)}: {os_reason(e)}") from None
        size = f"{out.stat().st_size / 1e6:.1f} MB"
        if not lite.available():
            print(f"Exported {path} -> {out} ({size}); not checked: ai-edge-litert is not installed here.")
            continue
        difference = largest_difference(model, out)
        if difference > AGREE:
            out.unlink()
            failed += 1
            print(f"error: the export of {path} answers up to {difference:.1e} away from the model (more than "
                  f"{AGREE:.0e}); it was removed. Is the model one that train.py made?", file=sys.stderr)
            continue
        print(f"Exported {path} -> {out} ({size}; answers within {difference:.0e} of the model's).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
