import numpy as np
import pytest

from emojify import atomic


def test_success_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "report.json"
    atomic.write_text(path, "old")
    atomic.write_text(path, "new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "targets.npy"
    atomic.save_array(path, np.eye(3, dtype="float32"))
    with pytest.raises(RuntimeError), atomic.atomic_path(path) as tmp:
        tmp.write_bytes(b"half written")
        raise RuntimeError("interrupted")
    assert np.array_equal(np.load(path, allow_pickle=False), np.eye(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["targets.npy"]


def test_temporary_keeps_the_suffix_that_picks_the_format(tmp_path):
    tmp = atomic.partial_path(tmp_path / "model.h5")
    assert tmp.parent == tmp_path and tmp.suffix == ".h5" and tmp.name.startswith(".")
