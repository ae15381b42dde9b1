"""predict.py's engines on the same videos, in the same run: local, and Ray with 1 and 2 workers (or more).

    python -m benchmarks.scale ../shared/fer2013
    python -m benchmarks.scale ../shared/fer2013 --videos 8 --workers 1,2,4 --address auto   # a cluster

Videos of FER-2013 test faces (three per frame, moving) are analysed frame by frame with the shipped ensemble;
throughput is frames per second of analysis (start-up, i.e. starting Ray and loading the model on every worker,
printed apart), and each Ray figure's ratio is against the local run's. The records of every run are compared
with the local run's.
"""
import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.videos import DEFAULT_FACES, load_faces, write_video
from emojify.config import MODEL_PATH

def timed(engine, items):
    from emojify.scale import Collected
    records = Collected()  # the records in memory, for the comparison
    started = time.perf_counter()
    results = list(engine.run(items, records))
    wall = time.perf_counter() - started
    assert all(not isinstance(r, str) for _, r in results), results
    return wall, engine.totals.frames, records.records


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="\n".join(__doc__.splitlines()[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("fer2013", type=Path, help="FER-2013 folder (its test/ gives the faces)")
    p.add_argument("--videos", type=int, default=4)
    p.add_argument("--frames", type=int, default=150, help="frames per video (30 fps)")
    p.add_argument("--workers", default="1,2", help="Ray worker counts to measure, comma separated")
    p.add_argument("--address", help="a running Ray cluster (default: a local Ray per measurement)")
    p.add_argument("--model", type=Path, default=MODEL_PATH)
    p.add_argument("--views", type=int, default=4)
    args = p.parse_args(argv)

    import ray

    from emojify.backends import open_classifier
    from emojify.commands.predict import LocalEngine
    from emojify.scale import RayEngine
    faces = load_faces(args.fer2013 / "test", list(DEFAULT_FACES))
    with tempfile.TemporaryDirectory() as tmp:
        items = [(write_video(Path(tmp) / f"v{i}.mp4", faces[i % 3:] + faces[:i % 3], frames=args.frames), "video")
                 for i in range(args.videos)]
        started = time.perf_counter()
        local = LocalEngine(open_classifier(args.model, views=args.views, say=lambda line: None), 1, True)
        start_s = time.perf_counter() - started
        wall, frames, reference = timed(local, items)
        base = frames / wall
        print(f"local: start_s={start_s:.1f} frames={frames} wall_s={wall:.1f} fps={base:.1f}", flush=True)
        for n in map(int, args.workers.split(",")):
            started = time.perf_counter()
            engine = RayEngine(args.model, args.views, "auto", 1, True, address=args.address, workers=n,
                               say=lambda line: None)
            ray.get([actor.analyse.remote([]) for actor in engine.actors])  # every model loaded
            start_s = time.perf_counter() - started
            wall, frames, records = timed(engine, items)
            engine.close()
            ray.shutdown()
            print(f"ray_{n}_workers: start_s={start_s:.1f} frames={frames} wall_s={wall:.1f} fps={frames / wall:.1f} "
                  f"ratio_to_local={frames / wall / base:.2f} same_records={records == reference}", flush=True)


if __name__ == "__main__":
    main()
