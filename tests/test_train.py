import json
import re
import signal
import subprocess
import sys
import time

import cv2

from conftest import ROOT, default_sigint, make_face_folder, run_script
from emojify.emotions import NUM_CLASSES

SMALL = ("--widths", "8,16", "--convs", "1,1", "--batch-size", "16")


def make_dataset(root):
    make_face_folder(root / "train", per_class=12)
    make_face_folder(root / "test", per_class=3, seed=1)
    (root / "train" / "happy" / "broken.jpg").write_text("not a jpeg")
    return root


def test_one_epoch_end_to_end(tmp_path):
    data = make_dataset(tmp_path / "data")
    out, run = tmp_path / "m.h5", tmp_path / "run"
    result = run_script("train.py", "--data", data, "--epochs", "1", "--out", out, "--run-dir", run, *SMALL)
    assert result.returncode == 0, result.stderr
    assert "Skipped 1 unreadable file(s)" in result.stdout
    assert "Test accuracy:" in result.stdout
    assert re.search(r"epoch 1/1: \d+ s, \d+ images/s, loss [\d.]+, accuracy [\d.]+%, validation", result.stdout)
    assert "WARNING" not in result.stdout + result.stderr  # no library chatter
    record = json.loads((run / "run.json").read_text())
    assert record["finished"] and len(record["history"]) == 1
    assert {"accuracy", "loss", "val_accuracy", "val_loss"} <= set(record["history"][0])
    assert record["test_n"] == 21 and 0 <= record["test_accuracy"] <= 1
    assert record["settings"]["epochs"] == 1
    assert cv2.imread(str(run / "curves.png")) is not None
    from emojify.inference import load_model
    from emojify.lite import export_problem
    first = load_model(out)
    assert first.output_shape == (None, NUM_CLASSES)
    assert export_problem(out) is None  # m.tflite beside m.h5, its export

    # a second schedule starting from those weights (fine-tuning)
    out2, run2 = tmp_path / "m2.h5", tmp_path / "run2"
    again = run_script("train.py", "--data", data, "--epochs", "1", "--out", out2, "--run-dir", run2,
                       "--batch-size", "16", "--lr", "1e-4", "--init-from", out, "--teacher", out, "--normalize",
                       "--camera-aug", "--camera-share", "0.5", "--zoom", "0.2")
    assert again.returncode == 0, again.stderr
    assert "Soft targets from 1 teacher model(s), weight 0.5." in again.stdout
    assert "The teachers agree with the labels on " in again.stdout
    settings = json.loads((run2 / "run.json").read_text())["settings"]
    assert settings["init_from"] == str(out) and settings["teacher"] == [str(out)] and settings["normalize"]
    assert settings["camera_aug"] and settings["camera_share"] == 0.5 and settings["zoom"] == 0.2
    second = load_model(out2)
    assert [w.shape for w in second.weights] == [w.shape for w in first.weights]  # the light norm has none
    assert [layer.name for layer in second.layers][:4] == ["light_norm_flat", "light_norm", "light_norm_face",
                                                          "light_level"]
    for flag in ("--init-from", "--teacher"):
        bad = run_script("train.py", "--data", data, "--run-dir", tmp_path / "run3", flag, tmp_path / "no.h5")
        assert bad.returncode != 0 and f"{flag}: model file" in bad.stderr and bad.stderr.count("\n") == 1


def kill_after_first_epoch(args, state):
    """Start train.py with args and SIGKILL it as soon as run.json records a finished epoch."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 240
    while time.time() < deadline:
        if state.is_file() and json.loads(state.read_text())["history"]:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return len(json.loads(state.read_text())["history"])


def test_resume_after_an_interrupted_run(tmp_path):
    data = make_dataset(tmp_path / "data")
    out, run = tmp_path / "m.h5", tmp_path / "run"
    args = ["--data", data, "--epochs", "25", "--out", out, "--run-dir", run, *SMALL, "--val-split", "0.2"]
    state = run / "run.json"
    done = kill_after_first_epoch(args, state)
    assert 1 <= done < 25 and not out.exists()

    again = run_script("train.py", *args)  # a plain rerun must not throw the unfinished run away
    assert again.returncode != 0 and "--resume" in again.stderr and "--fresh" in again.stderr
    assert again.stderr.count("\n") == 1

    resumed = run_script("train.py", "--resume", "--run-dir", run, "--out", out)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming run in {run}: {done}/25 epochs done." in resumed.stdout
    record = json.loads(state.read_text())
    assert record["finished"] and [h["epoch"] for h in record["history"]] == list(range(1, 26))
    assert out.is_file()

    nothing = run_script("train.py", "--resume", "--run-dir", tmp_path / "empty")
    assert nothing.returncode != 0 and "nothing to resume" in nothing.stderr


def test_resumed_distillation_reuses_its_soft_targets(tmp_path):
    import numpy as np
    data = make_dataset(tmp_path / "data")
    teacher = tmp_path / "teacher.h5"
    made = run_script("train.py", "--data", data, "--epochs", "1", "--out", teacher, "--run-dir",
                      tmp_path / "run0", *SMALL)
    assert made.returncode == 0, made.stderr
    out, run = tmp_path / "m.h5", tmp_path / "run"
    args = ["--data", data, "--epochs", "25", "--out", out, "--run-dir", run, *SMALL, "--teacher", teacher]
    kill_after_first_epoch(args, run / "run.json")
    targets = np.load(run / "soft_targets.npy", allow_pickle=False)
    assert targets.ndim == 2 and targets.shape[1] == NUM_CLASSES and np.allclose(targets.sum(1), 1, atol=1e-5)
    assert np.all(targets.max(1) >= 0.5)  # the label keeps half the weight

    teacher.unlink()  # the teachers are no longer needed once their targets are saved
    resumed = run_script("train.py", "--resume", "--run-dir", run, "--out", out)
    assert resumed.returncode == 0, resumed.stderr
    assert "as computed when the run started" in resumed.stdout and out.is_file()


def test_missing_or_wrong_data_layout(tmp_path):
    missing = run_script("train.py", "--data", tmp_path / "nowhere", "--run-dir", tmp_path / "r")
    assert missing.returncode != 0
    assert "not found" in missing.stderr and "one subfolder per emotion" in missing.stderr
    (tmp_path / "bad" / "train" / "joy").mkdir(parents=True)
    wrong = run_script("train.py", "--data", tmp_path / "bad", "--run-dir", tmp_path / "r")
    assert wrong.returncode != 0 and "unknown emotion folder(s) joy" in wrong.stderr
    assert "Traceback" not in missing.stderr + wrong.stderr


def test_a_resumed_run_draws_new_batches():
    import numpy as np

    import emojify.training.schedule as training
    x = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    ids = np.zeros((64, NUM_CLASSES), np.float32)
    ids[:, 0] = np.arange(64)  # target rows pass through unchanged, so they show the order the images came in

    def first_epoch_order(epochs_done):
        seed = training.seed_random_streams(1, epochs_done)
        return np.concatenate([t[:, 0] for _, t in training.make_train_dataset(x, ids, 16, seed).as_numpy_iterator()])

    fresh = first_epoch_order(0)
    assert sorted(fresh) == list(range(64))
    assert np.array_equal(fresh, first_epoch_order(0))  # a fresh run is reproducible
    assert not np.array_equal(fresh, first_epoch_order(3))  # a run resumed after 3 epochs does not replay epoch 1


def test_mixup_blends_images_and_targets_alike():
    import numpy as np
    import tensorflow as tf

    from emojify.training import augment
    import emojify.training.schedule as training
    values = np.arange(8, dtype=np.float32) * 30  # image i is flat gray 30 * i, its target class i % 7
    images = tf.constant(np.broadcast_to(values[:, None, None, None], (8, 48, 48, 1)))
    targets = tf.one_hot(np.arange(8) % 7, NUM_CLASSES)
    tf.random.set_seed(0)
    mixed, mixed_targets = (t.numpy() for t in augment.mix(images, targets, 0.4))
    own = mixed_targets[np.arange(7), np.arange(7)]
    assert np.allclose(mixed_targets.sum(axis=1), 1) and (own >= 0.5 - 1e-6).all() and (own < 0.999).any()
    partner = np.where(mixed_targets[:7] > 1e-6, 1, 0).sum(axis=1)  # a blend has two classes (one if i = j)
    assert set(partner) <= {1, 2} and 2 in partner
    assert (mixed.std(axis=(1, 2, 3)) < 1e-3).all()  # flat images stay flat: blended whole, pixel for pixel
    x = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    batches = list(training.make_train_dataset(x, np.arange(64) % 7, 16, 1, mixup=0.4).as_numpy_iterator())
    t = np.concatenate([b[1] for b in batches])
    assert t.shape == (64, NUM_CLASSES) and np.allclose(t.sum(axis=1), 1) and (t.max(axis=1) >= 0.5 - 1e-6).all()
    assert (t.max(axis=1) < 0.999).mean() > 0.5  # most targets are blends


def test_camera_effects_reach_the_share_of_faces_asked_for():
    import numpy as np
    import tensorflow as tf

    from emojify.training import augment
    faces = tf.constant(np.random.default_rng(2).integers(40, 216, (256, 48, 48, 1)), tf.float32)
    tf.random.set_seed(1)
    untouched = [float(np.mean(np.all(augment.random_camera(faces, p=p).numpy() == faces.numpy(), axis=(1, 2, 3))))
                 for p in (0.0, 0.25, 1.0)]
    # Six effects, each on a share p of the faces: (1 - p) ** 6 are left as they were.
    assert untouched[0] == 1.0 and untouched[2] == 0.0
    assert abs(untouched[1] - 0.75 ** 6) < 0.08


def test_impossible_settings_are_refused_before_any_work(tmp_path):
    cases = [(["--lr", "nan"], "--lr takes a learning rate in (0, 1]; received nan"),
             (["--dropout", "1.5"], "--dropout takes a number in [0, 1); received 1.5"),
             (["--widths", "0,16"], "--widths and --convs must be at least 1; received [0, 16]"),
             (["--widths", "16,32", "--convs", "1,2,2"], "--convs needs one entry per block of --widths (2)"),
             (["--limit", "-5"], "--limit takes a number of images (0: all of them); received -5"),
             (["--mixup", "-1"], "--mixup takes a Beta distribution's alpha in [0, 10] (0: off); received -1.0"),
             (["--camera-share", "0"], "--camera-share takes a share of the faces in (0, 1]; received 0.0"),
             (["--camera-share", "0.5"], "--camera-share 0.5 sets how often --camera-aug's effects apply: add"),
             (["--zoom", "0.8"], "--zoom takes a share of the face in [0, 0.5]; received 0.8"),
             (["--out", "model"], "--out must end in .h5 or .keras; received 'model'")]
    for args, message in cases:
        result = run_script("train.py", "--data", tmp_path / "nowhere", *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    unwritable = run_script("train.py", "--data", tmp_path / "nowhere", "--out", "/proc/x.h5")
    assert unwritable.returncode == 2 and "cannot write the model in /proc" in unwritable.stderr


def test_fresh_discards_the_old_checkpoint(tmp_path):
    data = make_dataset(tmp_path / "data")
    out, run = tmp_path / "m.h5", tmp_path / "run"
    args = ["--data", data, "--epochs", "25", "--out", out, "--run-dir", run, *SMALL]
    kill_after_first_epoch(args, run / "run.json")
    old = list(run.glob("checkpoint*.keras"))
    assert old
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), *map(str, args), "--fresh", "--seed", "7"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:  # until the new run has recorded an epoch of its own
        try:
            record = json.loads((run / "run.json").read_text())
        except (OSError, ValueError):
            record = None
        if record and record["settings"]["seed"] == 7 and record["history"]:
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    record = json.loads((run / "run.json").read_text())
    assert record["settings"]["seed"] == 7 and record["history"][0]["epoch"] == 1
    assert not any(p.exists() for p in old if p.name != record["checkpoint"])


def test_a_diverging_loss_stops_training_and_saves_no_checkpoint(tmp_path):
    import numpy as np

    from emojify.inference import import_tensorflow
    from emojify.training.run import Run, Settings, epoch_recorder
    from emojify.training.schedule import compile_for_training
    from emojify.model import build_model
    import_tensorflow()
    run = Run(tmp_path / "run")
    run.start(Settings(data=str(tmp_path), epochs=3))
    model = compile_for_training(build_model(widths=(8,), convs_per_block=1), 4, epochs=3, lr=1e-3,
                                 weight_decay=0.0, label_smoothing=0.0)
    x = np.random.default_rng(0).integers(0, 256, (64, 48, 48, 1)).astype(np.float32)
    y = np.full((64, NUM_CLASSES), np.nan, np.float32)  # targets that make the loss NaN from the first batch
    recorder = epoch_recorder(run)
    model.fit(x, y, batch_size=16, epochs=3, callbacks=[recorder], verbose=0)
    assert recorder.diverged == 1 and run.record["history"] == []
    assert not list((tmp_path / "run").glob("checkpoint*.keras"))


def test_a_trial_run_never_replaces_a_model_without_replace(tmp_path):
    data = make_dataset(tmp_path / "data")
    out = tmp_path / "model.h5"
    first = run_script("train.py", "--data", data, "--epochs", "1", "--out", out, "--run-dir", tmp_path / "r1",
                       *SMALL)
    assert first.returncode == 0, first.stderr
    before = out.read_bytes()
    trial = run_script("train.py", "--data", data, "--epochs", "1", "--out", out, "--run-dir", tmp_path / "r2",
                       *SMALL)
    assert trial.returncode == 0, trial.stderr
    assert out.read_bytes() == before
    assert f"Kept {out}: the new model comes from a trial run" in trial.stdout and "pass --replace" in trial.stdout
    # the model there is not tested again only to be kept; the new one's test says it runs
    assert trial.stdout.count("Testing ") == 1 and "Testing the new model on" in trial.stdout
    assert (tmp_path / "r2" / "model.h5").is_file()
    replaced = run_script("train.py", "--data", data, "--epochs", "1", "--out", out, "--run-dir", tmp_path / "r3",
                          *SMALL, "--replace", "--seed", "2")
    assert replaced.returncode == 0, replaced.stderr
    assert (tmp_path / "model.backup.h5").read_bytes() == before and out.read_bytes() != before
    assert "the previous model is kept as" in replaced.stdout


def test_trains_on_fer2013_csv_and_on_a_folder_without_some_emotions(tmp_path):
    import numpy as np

    from emojify.emotions import EMOTIONS
    rng = np.random.default_rng(0)
    rows = ["emotion,pixels,Usage"]
    for usage, n in (("Training", 56), ("PublicTest", 14)):
        rows += [f"{i % NUM_CLASSES},{' '.join(map(str, rng.integers(0, 256, 48 * 48)))},{usage}" for i in range(n)]
    csv_path = tmp_path / "fer2013.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    result = run_script("train.py", "--data", csv_path, "--epochs", "1", "--out", tmp_path / "c.h5", "--run-dir",
                        tmp_path / "rc", *SMALL)
    assert result.returncode == 0, result.stderr
    assert "validation 7; test 14" in result.stdout and "Test accuracy:" in result.stdout

    partial = tmp_path / "partial"  # one seed trained without "disgust"
    six = [e for e in EMOTIONS if e != "disgust"]
    make_face_folder(partial / "train", per_class=8, emotions=six)
    make_face_folder(partial / "test", per_class=2, emotions=six, seed=1)
    result = run_script("train.py", "--data", partial, "--epochs", "1", "--out", tmp_path / "p.h5", "--run-dir",
                        tmp_path / "rp", *SMALL)
    assert result.returncode == 0, result.stderr
    assert "disgust 0" in result.stdout
    evaluated = run_script("evaluate.py", partial / "test", "--model", tmp_path / "p.h5")
    assert evaluated.returncode == 0 and "on 12 faces" in evaluated.stdout


def test_ctrl_c_in_the_first_epoch_says_what_is_true(tmp_path):
    data = make_dataset(tmp_path / "data")
    run = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "train.py"), "--data", str(data), "--epochs", "25",
                             "--out", str(tmp_path / "m.h5"), "--run-dir", str(run), *SMALL, "--batch-size", "2"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    deadline = time.time() + 120
    while time.time() < deadline and not (run / "run.json").is_file():  # the run has started, no epoch done
        time.sleep(0.02)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err[-3000:]
    if json.loads((run / "run.json").read_text())["history"]:  # a fast machine finished an epoch after all
        assert "continue with: python train.py --resume" in out
        return
    assert "nothing to resume; run the same command again" in out
    again = run_script("train.py", "--resume", "--run-dir", run)
    assert again.returncode == 2 and "nothing to resume" in again.stderr


def test_the_time_left_ignores_an_epoch_the_machine_slept_through():
    from emojify.training.run import progress_line
    history = [{"epoch": e, "seconds": 60.0, "loss": 1.2, "accuracy": 0.6} for e in range(1, 22)]
    history.append({"epoch": 22, "seconds": 749.0, "loss": 1.2, "accuracy": 0.6})
    line = progress_line(history, images=25837, epochs=200)
    assert line.startswith("epoch 22/200: 749 s, 34 images/s") and line.endswith("2 h 58 min left")
