"""Fault injection: processes killed while they save, disks that fill up mid-run. Whatever happens, what is on
disk stays true and the user gets one line that says how to go on."""
import json
import random
import signal
import subprocess
import sys
import time

import cv2
import pytest

from conftest import ROOT, default_sigint, fill_disk, run_script
from test_train import SMALL, make_dataset


def check_run_folder(run):
    """The invariants a run folder keeps at every moment: a whole run.json naming a checkpoint of its last
    epoch that loads and holds finite weights. Returns the number of epochs recorded."""
    import numpy as np

    record = json.loads((run / "run.json").read_text())  # never torn: a ValueError here fails the test
    done = len(record["history"])
    assert [h["epoch"] for h in record["history"]] == list(range(1, done + 1))
    if done:
        assert record["checkpoint"] == f"checkpoint-{done:03d}.keras"
        import keras
        model = keras.models.load_model(run / record["checkpoint"])
        assert all(np.isfinite(w).all() for w in model.get_weights())
    return done


def test_kills_at_random_moments_of_saving_always_leave_a_run_that_resumes(tmp_path):
    data = make_dataset(tmp_path / "data")
    run, out = tmp_path / "run", tmp_path / "m.h5"
    args = ["--data", data, "--epochs", "40", "--out", out, "--run-dir", run, *SMALL, "--val-split", "0.2"]
    rng = random.Random(19)
    done, during_save = 0, 0
    for attempt in range(8):
        resume = ["--resume"] if done else []
        proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *map(str, args), *resume], cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline, wait_until = time.time() + 120, None
        # Even attempts: SIGKILL as soon as a checkpoint is being written, plus 0-20 ms. Odd ones: at a random
        # moment within the first second or so of training, saves included.
        while proc.poll() is None and time.time() < deadline:
            if attempt % 2 == 0 and any(run.glob(".checkpoint-*.partial.keras")):
                time.sleep(rng.uniform(0, 0.02))
                during_save += 1
                break
            if attempt % 2 == 1 and wait_until is None and any(run.glob("checkpoint-*.keras")) and \
                    json.loads((run / "run.json").read_text())["history"][done:]:
                wait_until = time.time() + rng.uniform(0, 1.5)
            if wait_until is not None and time.time() >= wait_until:
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL, "training ended before it was killed"
        done = check_run_folder(run)
    assert during_save >= 3, "the kills never caught a save in progress"

    final = run_script("train.py", *args, "--resume")
    assert final.returncode == 0, final.stderr
    record = json.loads((run / "run.json").read_text())
    assert record["finished"] and [h["epoch"] for h in record["history"]] == list(range(1, 41))
    assert not list(run.glob(".*.partial*")), "a killed save's leftovers were not cleaned up"
    assert sorted(p.name for p in run.glob("checkpoint*.keras")) == ["checkpoint-040.keras"]


def test_a_disk_that_fills_during_training_is_one_line_and_the_run_resumes(tmp_path, small_disk):
    data = make_dataset(tmp_path / "data")
    disk = small_disk("8m")
    run, out = disk / "run", disk / "m.h5"
    args = ["--data", data, "--epochs", "30", "--out", out, "--run-dir", run, *SMALL]
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not ((run / "run.json").is_file() and
                                          json.loads((run / "run.json").read_text())["history"]):
        time.sleep(0.01)
    filler = fill_disk(disk)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err, err
    done = check_run_folder(run)
    assert err.count("\n") == 1 and "No space left on device" in err
    assert f"the run is kept at epoch {done}; free some space and continue with: python train.py --resume " \
           f"--run-dir {run}" in err

    filler.unlink()
    resumed = run_script("train.py", "--resume", "--run-dir", run, "--out", out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming run in {run}: {done}/30 epochs done." in resumed.stdout
    assert json.loads((run / "run.json").read_text())["finished"] and out.is_file()


def test_a_disk_full_before_the_model_is_saved_keeps_the_run_for_resume(tmp_path, small_disk):
    data = make_dataset(tmp_path / "data")
    disk = small_disk("1m")
    fill_disk(disk)
    run, out = tmp_path / "run", disk / "m.h5"
    done = run_script("train.py", "--data", data, "--epochs", "2", "--out", out, "--run-dir", run, *SMALL)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: cannot write the model {out}: No space left on device; the run is kept "
                                  "at epoch 2") and done.stderr.count("\n") == 1
    assert not out.exists() and not list(disk.glob(".*partial*"))
    assert check_run_folder(run) == 2


def test_a_disk_that_fills_during_predict_keeps_every_whole_record_and_finishes_the_rest(
        tmp_path, small_disk, face_video, tiny_model_path):
    frame = cv2.VideoCapture(str(face_video)).read()[1]
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        cv2.imwrite(str(photos / f"p{i}.png"), frame)
    disk = small_disk("300k")
    json_out, csv_out, annotated = disk / "faces.jsonl", tmp_path / "faces.csv", disk / "annotated"
    result = run_script("predict.py", photos, face_video, "--model", tiny_model_path, "--json", json_out,
                        "--csv", csv_out, "--annotate", annotated)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("error: ") for line in lines), result.stderr  # no library chatter
    assert [line for line in lines if str(json_out) in line] == [
        next(line for line in lines if line.startswith(f"error: cannot write {json_out}: No space left on device; "
                                                       "it keeps the "))]
    assert any(f"{annotated / 'one_face.annotated.webm'}: the annotated video could not be written completely"
               in line for line in lines)
    assert f"Not complete: {json_out}" in result.stdout

    records = [json.loads(line) for line in json_out.read_text().splitlines()]  # whole lines only
    rows = csv_out.read_text().splitlines()
    assert 0 < len(records) < len(rows) - 1 == 4 + 60  # the CSV on another disk got every record
    for png in annotated.glob("*.png"):  # what was kept is whole
        assert cv2.imread(str(png)) is not None
    assert not list(annotated.glob("*.webm")) and not list(annotated.glob(".*partial*"))


@pytest.mark.parametrize("script", ["predict.py", "train.py"])
def test_an_output_folder_without_write_permission_is_one_line_before_any_work(tmp_path, tiny_model_path, script):
    import os
    if os.geteuid() == 0:
        locked = None  # root writes anywhere: a file where a folder should be stands in for a locked folder
        blocked = tmp_path / "file"
        blocked.write_text("")
        target = blocked / "sub"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "sub"
    if script == "predict.py":
        result = run_script("predict.py", ROOT / "emojis", "--model", tiny_model_path, "--json", target / "f.jsonl")
    else:
        result = run_script("train.py", "--data", tmp_path, "--run-dir", target)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and str(target) in result.stderr, \
        result.stderr


def test_damaged_run_files_and_moved_data_are_one_line_each(tmp_path):
    import shutil

    from test_train import kill_after_first_epoch
    data = make_dataset(tmp_path / "data")
    run, out = tmp_path / "run", tmp_path / "m.h5"
    kill_after_first_epoch(["--data", data, "--epochs", "25", "--out", out, "--run-dir", run, *SMALL], run / "run.json")
    record = run / "run.json"
    checkpoint = run / json.loads(record.read_text())["checkpoint"]

    kept = record.read_bytes()
    record.write_bytes(b"")  # a zero-byte record, as a crash of some other tool might leave
    empty = run_script("train.py", "--resume", "--run-dir", run, "--out", out)
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1
    assert f"{record} is unreadable" in empty.stderr and "start over with --fresh" in empty.stderr
    record.write_bytes(kept)

    intact = checkpoint.read_bytes()
    checkpoint.write_bytes(intact[: len(intact) // 2])
    torn = run_script("train.py", "--resume", "--run-dir", run, "--out", out)
    assert torn.returncode == 2 and torn.stderr.count("\n") == 1, torn.stderr
    assert f"the checkpoint {checkpoint} is unreadable" in torn.stderr
    checkpoint.write_bytes(intact)

    shutil.move(data, tmp_path / "moved")
    lost = run_script("train.py", "--resume", "--run-dir", run, "--out", out)
    assert lost.returncode == 2 and lost.stderr.count("\n") == 1 and "pass --data DIR" in lost.stderr
    found = run_script("train.py", "--resume", "--run-dir", run, "--out", out, "--data", tmp_path / "moved")
    assert found.returncode == 0, found.stderr
    assert f"Reading the data from {tmp_path / 'moved'} (the run started with {data})." in found.stdout
    assert json.loads(record.read_text())["settings"]["data"] == str(tmp_path / "moved")


def test_ctrl_c_at_any_moment_of_a_run_is_one_true_line(tmp_path):
    data = make_dataset(tmp_path / "data")
    for i, delay in enumerate([0.3, 2.0, 3.5, 5.0, 6.5, 8.0]):  # imports, data loading, epochs, the final test
        run = tmp_path / f"run{i}"
        proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), "--data", str(data), "--epochs", "3",
                                 "--out", str(tmp_path / f"m{i}.h5"), "--run-dir", str(run), *SMALL], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=default_sigint)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err and err.count("\n") <= 1, (delay, err)
        if proc.returncode in (0, -signal.SIGINT):  # it had finished (-2: Ctrl+C during the interpreter's exit)
            assert (tmp_path / f"m{i}.h5").is_file() and json.loads((run / "run.json").read_text())["finished"]
            continue
        assert proc.returncode == 130, (delay, proc.returncode, err)
        said = out + err
        assert "interrupted" in said.lower(), (delay, said)
        if "continue with: python train.py --resume" in said:
            assert check_run_folder(run) >= 1


GUARDED = """
import os, signal, sys, time
sys.path.insert(0, {root!r})
from emojify.cli import main_guard

@main_guard
def main(argv=None):
    try:
        if {press}:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler runs within this
        raise OSError("a real failure")
    except KeyboardInterrupt:  # what TensorFlow does to Ctrl+C that lands while it traces a graph
        raise RuntimeError("Exception encountered when calling Cond.call()") from None

sys.exit(main())
"""


@pytest.mark.parametrize("press", [True, False])
def test_ctrl_c_that_a_library_turns_into_another_exception_still_reads_as_ctrl_c(press):
    result = subprocess.run([sys.executable, "-c", GUARDED.format(root=str(ROOT), press=press)],
                            capture_output=True, text=True, timeout=60, preexec_fn=default_sigint)
    if press:
        assert (result.returncode, result.stderr) == (130, "interrupted\n")
    else:  # without Ctrl+C an exception stays a bug with its traceback
        assert result.returncode == 1 and "OSError: a real failure" in result.stderr
