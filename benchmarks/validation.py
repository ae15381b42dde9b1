"""The validation faces train.py holds out of train/: what benchmarks that choose a setting measure on (never
test/)."""
import argparse
from pathlib import Path


def make_parser(doc, model=True):
    """A parser with --data's positional argument, the split options (train.py's defaults) and --model
    (unless model=False)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("data", type=Path, help="folder holding train/ (the FER-2013 Kaggle layout)")
    parser.add_argument("--val-split", type=float, default=0.1, help="as train.py")
    parser.add_argument("--split-seed", type=int, default=1, help="as train.py")
    if model:
        parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "model.h5")
    return parser


def validation_faces(args):
    """(faces, labels) of the validation split that args (from make_parser) name."""
    from emojify import dataset
    return dataset.validation_faces(args.data / "train", args.val_split, args.split_seed)
