"""Training speed in images/s: our model and input pipeline against the seed CNN, in the same run.

    python benchmarks/train_throughput.py --steps 200
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def images_per_second(model, dataset, steps, batch_size):
    """Time `steps` training steps after a warm-up of 10."""
    it = iter(dataset.repeat())
    for _ in range(10):
        model.train_on_batch(*next(it))
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*next(it))
    return steps * batch_size / (time.perf_counter() - started)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)

    import numpy as np

    from emotions import NUM_CLASSES
    from inference import import_tensorflow
    import_tensorflow()
    from benchmarks.seed import build_seed_model
    from model import build_model
    from training import compile_for_training, make_train_dataset

    rng = np.random.default_rng(0)
    n = args.batch_size * 50
    x = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    y = rng.integers(0, NUM_CLASSES, n).astype(np.int32)
    data = make_train_dataset(x, y, args.batch_size, seed=0)
    settings = {"epochs": 30, "lr": 2e-3, "weight_decay": 0.05, "label_smoothing": 0.1}
    ours = compile_for_training(build_model(), settings, steps_per_epoch=400)
    ours_ips = images_per_second(ours, data, args.steps, args.batch_size)
    seed_ips = images_per_second(build_seed_model(), data, args.steps, args.batch_size)
    print(f"train images/s: ours={ours_ips:.0f} ({ours.count_params():,} params, with augmentation) "
          f"seed={seed_ips:.0f} ({build_seed_model().count_params():,} params) ratio={ours_ips / seed_ips:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
