"""The validation faces train.py holds out of train/: what benchmarks that choose a setting measure on (never
test/)."""
from pathlib import Path


def add_split_options(parser):
    """--data's positional argument and the split options, with train.py's defaults."""
    parser.add_argument("data", type=Path, help="folder holding train/ (the FER-2013 Kaggle layout)")
    parser.add_argument("--val-split", type=float, default=0.1, help="as train.py")
    parser.add_argument("--split-seed", type=int, default=1, help="as train.py")


def validation_faces(args):
    """(faces, labels) of the validation split that args (from add_split_options) name."""
    import dataset
    return dataset.validation_faces(args.data / "train", args.val_split, args.split_seed)
