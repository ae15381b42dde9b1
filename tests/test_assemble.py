"""assemble.py: real trained-looking members averaged into one model file that every script loads."""
import numpy as np
import pytest

from conftest import make_face_folder, run_script


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    from emojify.inference import import_tensorflow
    import_tensorflow()
    import keras

    from emojify.model import build_model
    folder = tmp_path_factory.mktemp("members")
    paths = []
    for seed, widths in ((1, (8, 16)), (2, (8, 16, 16))):
        keras.utils.set_random_seed(seed)
        path = folder / f"member{seed}.h5"
        build_model(widths=widths, convs_per_block=1, fused_norm=seed == 2).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def ensemble(members, tmp_path_factory):
    path = tmp_path_factory.mktemp("ensemble") / "ensemble.h5"
    done = run_script("assemble.py", *map(str, members), "--out", str(path))
    assert done.returncode == 0, done.stderr
    return path


def test_members_become_one_model_file_that_scores_as_their_average(members, tmp_path):
    from emojify.inference import EmotionClassifier, ensemble_members, load_model
    data = make_face_folder(tmp_path / "fer" / "train", per_class=10).parent
    out = tmp_path / "ensemble.h5"
    done = run_script("assemble.py", *map(str, members), "--out", str(out), "--data", str(data))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("validation accuracy") for line in lines) == 3
    assert "the ensemble (7 held-out images, 4 views)" in done.stdout  # 10 % of each class, as train.py
    assert "Saved" in lines[-1] and "2 members" in lines[-1] and done.stderr == ""
    ensemble = load_model(out)
    assert len(ensemble_members(ensemble)) == 2
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    expected = np.mean([EmotionClassifier(load_model(m), views=4)(faces) for m in members], axis=0)
    np.testing.assert_allclose(EmotionClassifier(ensemble, views=4)(faces), expected, atol=1e-5)

    evaluated = run_script("evaluate.py", str(data / "train"), "--model", str(out))
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.splitlines()[0] == \
        "Back-end: LiteRT, ensemble.tflite, the export of ensemble.h5 (2 threads)"
    assert evaluated.stdout.splitlines()[1].startswith("Accuracy:")

    again = run_script("assemble.py", *map(str, members), "--out", str(out))
    assert again.returncode == 0 and f"kept as {tmp_path / 'ensemble.backup.h5'}" in again.stdout
    assert load_model(tmp_path / "ensemble.backup.h5") is not None
    from emojify.lite import export_problem
    assert export_problem(out) is None and export_problem(tmp_path / "ensemble.backup.h5") is None


def test_bad_members_are_one_line_and_nothing_is_written(members, ensemble, tmp_path):
    out = tmp_path / "out.h5"
    cases = [
        ([str(members[0])], "two or more"),
        ([str(members[0]), str(members[0])], "named twice"),
        ([str(members[0]), str(tmp_path / "missing.h5")], "missing.h5 not found"),
        ([str(members[0]), str(members[1]), "--out", str(members[1])], "is one of the members"),
        ([str(members[0]), "--soft", str(members[1]), "--out", str(members[1])], "is one of the members"),
        ([str(members[0]), str(members[1]), "--gate", "150"], "add --soft MODEL"),
        ([str(members[0]), "--soft", str(members[1]), "--gate", "0"], "--gate must be above 0"),
    ]
    for args, message in cases:
        done = run_script("assemble.py", *args, *([] if "--out" in args else ["--out", str(out)]))
        last = done.stderr.strip().splitlines()[-1]  # argparse's usage may come before it
        assert done.returncode == 2 and "error: " in last and message in last, (args, done.stderr)
        assert "Traceback" not in done.stderr and not out.exists()
    for args, message in [([str(members[0]), f"{ensemble}[2]"], "has members 0-1"),
                          ([str(members[0]), f"{members[1]}[0]"], "is not an ensemble"),
                          ([str(ensemble), f"{ensemble}[1]"], "named twice")]:
        done = run_script("assemble.py", *args, "--out", str(out))
        assert done.returncode == 2 and message in done.stderr and not out.exists(), (args, done.stderr)


def test_ensembles_count_as_their_members_and_file_i_picks_one(members, ensemble, tmp_path):
    from emojify.inference import EmotionClassifier, ensemble_members, load_model
    grown = tmp_path / "grown.h5"
    done = run_script("assemble.py", str(ensemble), str(members[0]), "--out", str(grown))
    assert done.returncode == 0 and "3 members" in done.stdout, done.stderr
    assert len(ensemble_members(load_model(grown))) == 3
    picked = tmp_path / "picked.h5"
    done = run_script("assemble.py", f"{grown}[1]", f"{grown}[2]", "--out", str(picked))
    assert done.returncode == 0 and "2 members" in done.stdout, done.stderr
    faces = np.random.default_rng(1).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    expected = np.mean([EmotionClassifier(load_model(m), views=1)(faces) for m in (members[1], members[0])], axis=0)
    np.testing.assert_allclose(EmotionClassifier(load_model(picked), views=1)(faces), expected, atol=1e-5)


def test_train_starts_from_and_learns_from_one_member_of_an_ensemble(members, ensemble, tmp_path):
    from emojify.inference import load_model
    data = tmp_path / "data"
    make_face_folder(data / "train", per_class=12)
    make_face_folder(data / "test", per_class=3, seed=1)
    out = tmp_path / "tuned.h5"
    done = run_script("train.py", "--data", str(data), "--epochs", "1", "--batch-size", "16", "--lr", "1e-4",
                      "--init-from", f"{ensemble}[1]", "--teacher", f"{ensemble}[0]", "--out", str(out),
                      "--run-dir", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "Soft targets from 1 teacher model(s)" in done.stdout
    assert [w.shape for w in load_model(out).weights] == [w.shape for w in load_model(members[1]).weights]
    for flag, spec, says in (("--init-from", f"{members[0]}[0]", "is not an ensemble"),
                             ("--teacher", f"{ensemble}[5]", "has members 0-1"),
                             ("--init-from", f"{tmp_path / 'no.h5'}[0]", "--init-from: model file")):
        bad = run_script("train.py", "--data", str(data), "--epochs", "1", "--run-dir", str(tmp_path / "bad"),
                         "--out", str(tmp_path / "bad.h5"), flag, spec)
        assert bad.returncode != 0 and says in bad.stderr and bad.stderr.count("\n") == 1, bad.stderr
        assert not (tmp_path / "bad.h5").exists()


def test_soft_members_read_the_soft_faces_and_a_member_on_both_sides_is_kept_once(members, ensemble, tmp_path):
    import cv2

    from emojify.detect import sharpness
    from emojify.inference import EmotionClassifier, indexed_members, load_model
    from emojify.lite import LiteClassifier
    data = make_face_folder(tmp_path / "fer" / "train", per_class=10).parent
    out = tmp_path / "gated.h5"
    done = run_script("assemble.py", f"{ensemble}[0]", f"{ensemble}[1]", "--soft", str(members[1]),
                      "--gate", "100", "--data", str(data), "--out", str(out))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # members[1] is the ensemble's member 1 (the same weights): stored and run once, read on both sides
    assert "2 members (faces at least 100 sharp read by 2, softer ones by 1 of them; 1 on both sides)" in done.stdout
    assert "the ensemble (7 held-out images, 4 views)" in done.stdout
    gated = load_model(out)
    assert [m.name for _, m in indexed_members(gated)] == ["sharp1", "sharp2"]
    assert gated.count_params() - load_model(ensemble).count_params() < 100  # the gate's own weights alone

    rng = np.random.default_rng(3)
    sharp = rng.integers(0, 256, (4, 48, 48), dtype=np.uint8)
    faces = np.concatenate([sharp, np.stack([cv2.GaussianBlur(f, (0, 0), 3) for f in sharp])])
    assert (sharpness(faces[:4]) >= 100).all() and (sharpness(faces[4:]) < 100).all()
    read = {m: EmotionClassifier(load_model(m), views=4)(faces) for m in members}
    expected = np.concatenate([(read[members[0]][:4] + read[members[1]][:4]) / 2, read[members[1]][4:]])
    np.testing.assert_allclose(EmotionClassifier(gated, views=4)(faces), expected, atol=1e-5)
    np.testing.assert_allclose(LiteClassifier(out.with_suffix(".tflite"), views=4)(faces), expected, atol=1e-5)

    picked = tmp_path / "picked.h5"
    done = run_script("assemble.py", f"{out}[1]", f"{out}[0]", "--out", str(picked))
    assert done.returncode == 0 and "2 members" in done.stdout, done.stderr
