"""LiteRT against Keras, in the same run: predict.py on one photo, the window's start and memory, XNNPACK
threads, and FER-2013 test accuracy of the two back-ends.

    python -m benchmarks.backends ../shared/fer2013
    python -m benchmarks.backends ../shared/fer2013 --parts photo,window --rounds 5

Each figure is the median of --rounds runs, the back-ends alternating; ratios are Keras / LiteRT (time) and
LiteRT / Keras (memory). The window part needs Xvfb.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emojify.config import MODEL_PATH, ROOT

BACKENDS = ("litert", "keras")


def photo_part(photo, rounds, model):
    times = {b: [] for b in BACKENDS}
    peaks = {b: [] for b in BACKENDS}
    for _ in range(rounds):
        for backend in BACKENDS:
            wall, peak = timed_process(["predict.py", photo, "--model", model, "--backend", backend])
            times[backend].append(wall)
            peaks[backend].append(peak)
    t = {b: statistics.median(v) for b, v in times.items()}
    m = {b: statistics.median(v) for b, v in peaks.items()}
    print(f"photo: litert_s={t['litert']:.2f} keras_s={t['keras']:.2f} speedup={t['keras'] / t['litert']:.1f}x "
          f"litert_mb={m['litert']:.0f} keras_mb={m['keras']:.0f} memory_ratio={m['litert'] / m['keras']:.2f}",
          flush=True)


def timed_process(args, env=None):
    """(wall seconds, peak resident MB) of one process run to its end; its stdout in timed_process.out."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    while True:  # os.wait4: the kernel's peak resident size of this one child
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, args))} failed: {err.strip()[-300:]}")
    timed_process.out = out
    return wall, usage.ru_maxrss / 1024


def window_part(video, rounds, model):
    from tests.conftest import start_xvfb  # the tests' private screen
    xvfb, display = start_xvfb()
    try:
        env = {**os.environ, "DISPLAY": display}
        first = {b: [] for b in BACKENDS}
        peaks = {b: [] for b in BACKENDS}
        for _ in range(rounds):
            for backend in BACKENDS:
                _, peak = timed_process(["gui.py", "--source", video, "--exit-at-end", "--model", model,
                                         "--backend", backend], env=env)
                found = re.search(r"first after ([\d.]+) s", timed_process.out)
                if not found:
                    sys.exit(f"error: the window showed no frame: {timed_process.out.strip()[-200:]}")
                first[backend].append(float(found.group(1)))
                peaks[backend].append(peak)
    finally:
        xvfb.terminate()
    f = {b: statistics.median(v) for b, v in first.items()}
    m = {b: statistics.median(v) for b, v in peaks.items()}
    print(f"window: litert_first_s={f['litert']:.2f} keras_first_s={f['keras']:.2f} "
          f"ratio={f['litert'] / f['keras']:.2f} litert_mb={m['litert']:.0f} keras_mb={m['keras']:.0f} "
          f"memory_ratio={m['litert'] / m['keras']:.2f}", flush=True)


def threads_part(model, rounds):
    import numpy as np

    from emojify.lite import LiteClassifier, export_path
    faces = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    for views, batch in ((1, 1), (1, 3), (4, 64)):
        line = []
        for threads in (1, 2):
            classify = LiteClassifier(export_path(model), views=views, threads=threads)
            classify(faces[:batch])
            times, cpu = [], time.process_time()
            for _ in range(rounds * 10):
                started = time.perf_counter()
                classify(faces[:batch])
                times.append(time.perf_counter() - started)
            cpu_ms = (time.process_time() - cpu) * 1000 / len(times)  # what the call costs the machine
            line.append(f"threads{threads}_ms={statistics.median(times) * 1000:.2f} cpu_ms={cpu_ms:.2f}")
        print(f"threads: faces={batch} views={views} {' '.join(line)}", flush=True)


def accuracy_part(data, model):
    import numpy as np

    from emojify import dataset
    from emojify.backends import open_classifier
    from emojify.inference import predict_probs
    faces, labels, _, _ = dataset.load_folder(Path(data) / "test")
    scores = {}
    for backend in BACKENDS:
        classifier = open_classifier(model, views=4, backend=backend, say=lambda line: None)
        scores[backend] = float(np.mean(predict_probs(classifier, faces).argmax(1) == labels))
    print(f"accuracy: n={len(labels)} litert={scores['litert']:.2%} keras={scores['keras']:.2%} "
          f"difference_points={(scores['litert'] - scores['keras']) * 100:+.2f}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", type=Path, help="FER-2013 folder (train/ and test/): test faces for the photo, the "
                                           "video and the accuracy")
    p.add_argument("--model", type=Path, default=MODEL_PATH, help="model with its export beside it")
    p.add_argument("--rounds", type=int, default=3, help="runs of each back-end, alternating (default 3)")
    p.add_argument("--parts", default="photo,window,threads,accuracy", help="what to measure (default: all)")
    args = p.parse_args(argv)

    import cv2

    from benchmarks.videos import DEFAULT_FACES, background_frame, face_frame, load_faces, write_video
    from emojify.lite import export_problem
    problem = export_problem(args.model)
    if problem:
        sys.exit(f"error: {problem}; run `python export.py {args.model}` first")
    faces = load_faces(args.data / "test", list(DEFAULT_FACES))
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "three.png"
        cv2.imwrite(str(photo), face_frame(faces, background=background_frame()))
        if "photo" in parts:
            photo_part(photo, args.rounds, args.model)
        if "window" in parts:
            video = write_video(Path(tmp) / "one_face.mp4", faces[:1], frames=150)
            window_part(video, args.rounds, args.model)
    if "threads" in parts:
        threads_part(args.model, args.rounds)
    if "accuracy" in parts:
        accuracy_part(args.data, args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
