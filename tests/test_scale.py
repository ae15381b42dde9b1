"""predict.py --engine ray on a real local Ray: the same records as a local run, in its order, none lost or
written twice when a worker dies."""
import json
import shutil

import cv2
import pytest

from conftest import ROOT, run_script

ray = pytest.importorskip("ray", reason="the scale-out's packages: pip install -r requirements-scale.txt")


@pytest.fixture(scope="module")
def inputs(face_video, three_face_video, fer_faces, tmp_path_factory):
    """Two videos and a folder of photos between them, as a user would pass them."""
    folder = tmp_path_factory.mktemp("photos")
    for i, face in enumerate(fer_faces):
        cv2.imwrite(str(folder / f"{i}.png"), cv2.resize(face, (192, 192)))
    shutil.copy(face_video, folder / "clip.mp4")
    return [str(three_face_video), str(folder)]


@pytest.fixture(scope="module")
def local_records(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "local.jsonl"
    result = run_script("predict.py", *inputs, "--every", "3", "--json", out)
    assert result.returncode == 0, result.stderr
    return out.read_text()


def test_ray_writes_exactly_the_records_of_a_local_run(inputs, local_records, tmp_path):
    out, table = tmp_path / "ray.jsonl", tmp_path / "ray.csv"
    result = run_script("predict.py", *inputs, "--every", "3", "--engine", "ray", "--workers", "2",
                        "--json", out, "--csv", table)
    assert result.returncode == 0, result.stderr
    assert "Engine: a local Ray, 2 worker(s) on 2 CPU(s)" in result.stdout
    assert out.read_text() == local_records
    assert len(table.read_text().splitlines()) == len(local_records.splitlines()) + 1  # and a header
    assert len(local_records.splitlines()) > 20  # faces were found: the comparison means something


def test_a_worker_that_dies_is_retried_and_no_record_is_lost_or_doubled(inputs, local_records, tmp_path):
    from emojify.commands.predict import expand_inputs
    from emojify.config import MODEL_PATH
    from emojify.outputs import Outputs
    from emojify.scale import RayEngine
    items, errors, _ = expand_inputs(inputs)
    assert errors == []
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        said = []  # more workers than the cluster's CPUs would wait forever for a CPU: as many as there are
        engine = RayEngine(MODEL_PATH, 4, "auto", 3, True, workers=3, say=said.append)
        assert said == ["warning: --workers 3, but the cluster has 2 CPU(s): 2 worker(s)",
                        "Engine: a local Ray, 2 worker(s) on 2 CPU(s)"] and len(engine.actors) == 2
        outputs = Outputs(tmp_path / "ray.jsonl", None, None)
        results = []
        for path, result in engine.run(items, outputs):
            if not results:  # a worker killed as if its machine went away, while it has work
                ray.kill(engine.actors[0], no_restart=False)
            results.append((path, result))
        outputs.close()
        engine.close()
    finally:
        ray.shutdown()
    assert [str(path) for path, _ in results] == [str(path) for path, _ in items]
    assert all(not isinstance(result, str) for _, result in results), results
    assert (tmp_path / "ray.jsonl").read_text() == local_records


def test_a_running_cluster_is_joined(inputs, local_records, tmp_path):
    """`ray start --head` as a user starts a cluster, then predict.py --address auto on that machine."""
    import socket
    import subprocess
    import sys
    from pathlib import Path
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray_cli = str(Path(sys.executable).with_name("ray"))
    started = subprocess.run([ray_cli, "start", "--head", "--num-cpus", "2", "--port", str(port),
                              "--include-dashboard", "false", "--node-ip-address", "127.0.0.1"],
                             capture_output=True, text=True, timeout=180)
    assert started.returncode == 0, started.stderr
    try:
        out = tmp_path / "joined.jsonl"
        result = run_script("predict.py", *inputs, "--every", "3", "--engine", "ray", "--address", "auto",
                            "--json", out)
    finally:
        subprocess.run([ray_cli, "stop"], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Engine: the running Ray cluster (auto), 2 worker(s) on 2 CPU(s)" in result.stdout
    assert out.read_text() == local_records


def test_ray_options_are_checked_in_one_line(inputs, tmp_path):
    result = run_script("predict.py", *inputs, "--workers", "2")
    assert result.returncode == 2 and "--address and --workers go with --engine ray" in result.stderr
    result = run_script("predict.py", *inputs, "--engine", "ray", "--annotate", tmp_path / "ann")
    assert result.returncode == 2 and "--annotate runs with the local engine only" in result.stderr
    result = run_script("predict.py", *inputs, "--engine", "ray", "--address", "127.0.0.1:1")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: --address 127.0.0.1:1: no Ray cluster there (nothing answers); "
                                          "start one with `ray start --head`, or leave --address out for a "
                                          "local one."]


def test_without_ray_the_engine_says_what_to_install(inputs, tmp_path_factory):
    from conftest import installed_without
    site = installed_without(tmp_path_factory.mktemp("noray"), "ray")
    result = run_script("predict.py", *inputs, "--engine", "ray", site=site)
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["error: ray not installed; --engine ray needs it: "
                                          "`pip install -r requirements-scale.txt`."]
