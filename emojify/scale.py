"""predict.py --engine ray: the inputs spread over a Ray cluster, one task per video and per batch of images,
each worker loading the model once; the driver writes the records in the order of a local run.

Without an address a local Ray is started for the run (one worker per core, or --workers); `--address auto` or
HOST:PORT joins a running cluster (`ray start --head`). Every node needs Emojify installed and the inputs and
model at the same paths.
"""
import os
from collections import Counter

from emojify.analysis import Analyser, analyse_each
from emojify.backends import check_model_file
from emojify.config import INSTALLED, ROOT
from emojify.errors import AppError

IMAGES_PER_TASK = 16  # a task long enough that scheduling costs little, short enough to spread a folder
RETRIES = 3  # a worker that dies is restarted and its task run again, this many times


class Collected:
    """A worker's outputs: the records kept for the driver, which alone writes."""

    annotate_dir = None

    def __init__(self):
        self.records = []

    def write(self, record):
        self.records.append(record)


class Worker:
    """One Ray actor: the model loaded once, inputs analysed as predict.py analyses them here."""

    def __init__(self, model, views, backend, every, detect):
        from emojify.backends import open_classifier
        classifier = open_classifier(model, views=views, backend=backend, threads=1, say=lambda line: None)
        self.outputs = Collected()
        self.analyser = Analyser(classifier, self.outputs, every=every, detect=detect, progress=False)

    def analyse(self, batch):
        """([(path, (faces, line) or an error line, records)], the totals this batch added) for (path, kind)s."""
        a, done = self.analyser, []
        frames, counts, faceless = a.frames, Counter(a.counts), len(a.faceless_images)
        for path, result in analyse_each(a, batch):
            done.append((path, result, self.outputs.records))
            self.outputs.records = []
        return done, {"frames": a.frames - frames, "counts": a.counts - counts,
                      "faceless": a.faceless_images[faceless:]}


def first_line(error):
    """Ray's errors run to pages: their first line, or the error's kind."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def reachable(address, timeout=5):
    """Whether something answers at HOST:PORT (ray:// included): Ray itself waits minutes for an address that
    is wrong."""
    import socket
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
        return True
    except (OSError, ValueError):
        return False


def tasks(items):
    """The run's tasks in input order: each video alone, consecutive images together."""
    batches = []
    for item in items:
        joins = item[1] != "video" and batches and batches[-1][-1][1] != "video"
        if joins and len(batches[-1]) < IMAGES_PER_TASK:
            batches[-1].append(item)
        else:
            batches.append([item])
    return batches


class RayEngine:
    """The cluster for one run: run(items, outputs) yields (path, result) as a local run does, in its order."""

    def __init__(self, model, views, backend, every, detect, address=None, workers=None, say=print):
        check_model_file(model)
        import ray
        self.ray, self.started = ray, not ray.is_initialized()
        env = {} if INSTALLED else {"env_vars": {"PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}}  # workers import this clone
        if self.started:
            if address not in (None, "auto") and not reachable(address):
                raise AppError(f"--address {address}: no Ray cluster there (nothing answers); start one with "
                               "`ray start --head`, or leave --address out for a local one.")
            try:
                ray.init(address=address, num_cpus=workers if address is None else None, runtime_env=env,
                         include_dashboard=False, logging_level="ERROR", configure_logging=True)
            except (ConnectionError, RuntimeError) as e:
                if address is None:
                    raise AppError(f"could not start a local Ray: {first_line(e)}") from None
                raise AppError(f"--address {address}: no Ray cluster there ({first_line(e)}); start one with "
                               "`ray start --head`, or leave --address out for a local one.") from None
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        n = min(workers or cpus, cpus)  # a worker holds a CPU: more than the cluster has would wait forever
        if workers and workers > cpus:
            say(f"warning: --workers {workers}, but the cluster has {cpus} CPU(s): {n} worker(s)")
        remote = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(Worker)
        self.actors = [remote.remote(str(model), views, backend, every, detect) for _ in range(n)]
        self.frames, self.counts, self.faceless_images = 0, Counter(), []
        self.totals = self  # frames, counts and faceless_images over the workers, as a local run's Analyser
        where = ("a local Ray" if address is None else "the running Ray cluster (auto)" if address == "auto"
                 else f"the Ray cluster at {address}")
        say(f"Engine: {where}, {n} worker(s) on {cpus} CPU(s)")

    def run(self, items, outputs):
        ray, batches = self.ray, tasks(items)
        queue, idle, pending, done, ready_at = list(enumerate(batches))[::-1], list(self.actors), {}, {}, 0
        while queue or pending:
            while queue and idle:
                i, batch = queue.pop()
                actor = idle.pop()
                pending[actor.analyse.remote(batch)] = (i, actor)
            finished, _ = ray.wait(list(pending), num_returns=1)
            for ref in finished:
                i, actor = pending.pop(ref)
                idle.append(actor)
                done[i] = self._result(ref, batches[i])
            while ready_at in done:  # in input order, as soon as the inputs before are written
                for path, result, records in done.pop(ready_at):
                    for record in records:
                        outputs.write(record)
                    yield path, result
                ready_at += 1

    def _result(self, ref, batch):
        try:
            results, added = self.ray.get(ref)
        except self.ray.exceptions.RayError as e:  # the worker died more often than it was restarted
            return [(path, f"{path}: the Ray worker failed {RETRIES + 1} times: {first_line(e)}", [])
                    for path, _ in batch]
        self.frames += added["frames"]
        self.counts.update(added["counts"])
        self.faceless_images += added["faceless"]
        return results

    def close(self):
        for actor in self.actors:
            self.ray.kill(actor)
        if self.started:
            self.ray.shutdown()
