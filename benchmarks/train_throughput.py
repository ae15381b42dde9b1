"""Training speed in images/s for several model and precision settings, each against the previous default
(widths 32,64,128,384, Keras batch norm, float32, batch 64) measured in the same run.

    python -m benchmarks.train_throughput
    python -m benchmarks.train_throughput --rounds 3 --steps 60 --kernels

Each setting trains in its own process (a precision policy is global), rounds alternate the settings so that
a busy moment of the machine hits all of them alike, and the median step time is what counts. --kernels adds
oneDNN's own timing of the slowest kernels (ONEDNN_VERBOSE) for the first and the default setting.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter


WIDE, NARROW = "32,64,128,384:1,2,2,2", "32,64,128,256:1,1,2,2"
# name: (widths:convs, batch size, batch norm, precision)
SETTINGS = {
    "before (wide, Keras BN, float32)": (WIDE, 64, "keras", "float32"),
    "wide, Keras BN, mixed_bfloat16": (WIDE, 64, "keras", "mixed_bfloat16"),
    "wide, fused BN, float32": (WIDE, 64, "fused", "float32"),
    "default (narrow, fused BN, float32)": (NARROW, 64, "fused", "float32"),
    "narrow, fused BN, mixed_bfloat16": (NARROW, 64, "fused", "mixed_bfloat16"),
    "narrow, fused BN, float32, batch 128": (NARROW, 128, "fused", "float32"),
    "seed CNN (the project's first)": ("seed", 64, "keras", "float32"),
}
BASELINE, DEFAULT = "before (wide, Keras BN, float32)", "default (narrow, fused BN, float32)"


def measure(spec, batch_size, norm, precision, steps):
    """Median seconds per training step (augmentation included) of one setting, in this process."""
    import numpy as np

    from emojify.emotions import NUM_CLASSES
    from emojify.inference import import_tensorflow
    import_tensorflow()
    import keras

    from emojify.training.schedule import compile_for_training, make_train_dataset
    keras.mixed_precision.set_global_policy(precision)
    if spec == "seed":
        from benchmarks.seed import build_seed_model
        model = build_seed_model()
    else:
        from emojify.model import build_model
        widths, convs = ([int(v) for v in part.split(",")] for part in spec.split(":"))
        model = compile_for_training(build_model(widths=widths, convs_per_block=convs, fused_norm=norm == "fused"),
                                     steps_per_epoch=400, epochs=30, lr=2e-3)
    rng = np.random.default_rng(0)
    n = batch_size * 20
    data = make_train_dataset(rng.integers(0, 256, (n, 48, 48), dtype=np.uint8),
                              rng.integers(0, NUM_CLASSES, n).astype(np.int32), batch_size, seed=0).repeat()
    times = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.started)

    model.fit(data, steps_per_epoch=8, epochs=1, verbose=0)  # trace and warm up
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[StepTimer()])
    return statistics.median(times), model.count_params()


def run_setting(name, steps, kernels=False):
    env = dict(os.environ, ONEDNN_VERBOSE="1") if kernels else None
    out = subprocess.run([sys.executable, __file__, "--one", name, "--steps", str(steps)], env=env,
                         capture_output=True, text=True, check=True).stdout
    result = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    if kernels:
        result["kernels"] = kernel_table(out)
    return result


def kernel_table(verbose_output, top=6):
    """The kernels that took longest in oneDNN's own log: (share, ms per call, calls, kernel and shape)."""
    total, calls = Counter(), Counter()
    for line in verbose_output.splitlines():
        parts = line.split(",")
        if not line.startswith("onednn_verbose") or "exec" not in parts:
            continue
        try:
            ms = float(parts[-1])
        except ValueError:
            continue
        at = parts.index("exec")
        key = f"{parts[at + 2]} {parts[at + 3]} {parts[at + 4].split(':')[0]} {parts[-2]}"
        total[key] += ms
        calls[key] += 1
    whole = sum(total.values()) or 1
    return [(t / whole, t / calls[k], calls[k], k) for k, t in total.most_common(top)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--rounds", type=int, default=2, help="times each setting is measured, alternating")
    p.add_argument("--steps", type=int, default=40, help="timed training steps per measurement")
    p.add_argument("--kernels", action="store_true", help="also print oneDNN's slowest kernels")
    p.add_argument("--one", choices=sorted(SETTINGS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        spec, batch_size, norm, precision = SETTINGS[args.one]
        seconds, params = measure(spec, batch_size, norm, precision, args.steps)
        print(json.dumps({"seconds": seconds, "images_per_s": batch_size / seconds, "params": params}))
        return 0

    rates = {name: [] for name in SETTINGS}
    params = {}
    for r in range(args.rounds):
        for name in SETTINGS:
            result = run_setting(name, args.steps)
            rates[name].append(result["images_per_s"])
            params[name] = result["params"]
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    base = statistics.median(rates[BASELINE])
    print(f"\ntraining images/s (median of {args.rounds} rounds, {args.steps} steps each; ratio to '{BASELINE}')")
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"  {name:40s} {rate:6.0f} img/s  x{rate / base:.2f}  ({params[name]:,} params; "
              f"rounds: {', '.join(f'{v:.0f}' for v in values)})")
    if args.kernels:
        for name in (BASELINE, DEFAULT):
            print(f"\noneDNN's slowest kernels, {name} (share of oneDNN time, ms per call, calls):")
            for share, ms, n, kernel in run_setting(name, args.steps, kernels=True)["kernels"]:
                print(f"  {share:6.1%} {ms:7.2f} ms x{n:4d}  {kernel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
