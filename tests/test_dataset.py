import cv2
import numpy as np
import pytest

from emojify import dataset
from emojify.emotions import EMOTIONS


def test_any_image_becomes_a_48x48_gray_face(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "happy").mkdir()
    (tmp_path / "sad").mkdir()
    cv2.imwrite(str(tmp_path / "happy" / "big_colour.jpg"), rng.integers(0, 256, (300, 200, 3), dtype=np.uint8))
    cv2.imwrite(str(tmp_path / "happy" / "alpha.png"), rng.integers(0, 256, (60, 60, 4), dtype=np.uint8))
    cv2.imwrite(str(tmp_path / "sad" / "deep.png"), rng.integers(0, 65535, (48, 48), dtype=np.uint16))
    (tmp_path / "sad" / "notes.txt").write_text("not an image")
    images, labels, paths, skipped = dataset.load_folder(tmp_path)
    assert images.shape == (3, 48, 48) and images.dtype == np.uint8
    assert sorted(labels.tolist()) == [EMOTIONS.index("happy")] * 2 + [EMOTIONS.index("sad")]
    assert [s[0].rsplit("/", 1)[1] for s in skipped] == ["notes.txt"]
    deep = images[paths.index(str(tmp_path / "sad" / "deep.png"))]
    assert deep.min() == 0 and deep.max() == 255  # 16-bit stretched to the full 8-bit range


def test_a_tall_crop_keeps_its_proportions_its_sides_filled_from_its_edges():
    tall = np.zeros((181, 143), np.uint8)
    tall[:, :10], tall[:, -10:] = 50, 200  # dark left edge, bright right edge
    tall[70:110, 52:92] = 255  # a square mark in the middle
    face = dataset.to_face_array(tall)
    assert face.shape == (48, 48) and dataset.square(tall).shape == (181, 181)
    assert abs(int(face[:, 1].mean()) - 50) <= 2 and abs(int(face[:, -2].mean()) - 200) <= 2
    rows, cols = np.nonzero(face > 230)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert abs(height - width) <= 1, (height, width)  # still square: squashed, it would be 27 % wider than high
    assert dataset.square(np.ascontiguousarray(tall.T)).shape == (181, 181)
    same = np.full((48, 48), 7, np.uint8)
    assert dataset.square(same) is same


def test_conversions_keep_shape_and_type():
    bgra = np.zeros((10, 12, 4), np.uint8)
    assert dataset.to_bgr(bgra).shape == (10, 12, 3)
    assert dataset.to_gray(bgra).shape == (10, 12)
    assert dataset.to_bgr(np.zeros((10, 12), np.float32)).dtype == np.uint8


def test_stratified_split_holds_out_each_class():
    labels = np.repeat(np.arange(7), [100, 10, 50, 200, 80, 60, 40])
    train, val = dataset.stratified_split(labels, 0.1, seed=3)
    assert not set(train) & set(val) and len(train) + len(val) == len(labels)
    assert np.bincount(labels[val]).tolist() == [10, 1, 5, 20, 8, 6, 4]
    assert (dataset.stratified_split(labels, 0.1, seed=3)[1] == val).all()


def test_validation_faces_are_the_ones_training_holds_out(tmp_path):
    rng = np.random.default_rng(0)
    for emotion, n in (("happy", 20), ("sad", 10)):
        (tmp_path / emotion).mkdir()
        for i in range(n):
            cv2.imwrite(str(tmp_path / emotion / f"{i}.png"), rng.integers(0, 256, (48, 48), dtype=np.uint8))
    x, y, _, _ = dataset.load_folder(tmp_path)
    _, val = dataset.stratified_split(y, 0.2, seed=5)
    faces, labels = dataset.validation_faces(tmp_path, 0.2, seed=5)
    assert (faces == x[val]).all() and (labels == y[val]).all()
    assert np.bincount(labels).tolist() == [0, 0, 0, 4, 0, 2]


def test_folder_errors_name_the_expected_layout(tmp_path):
    with pytest.raises(dataset.DatasetError, match="one subfolder per emotion"):
        dataset.load_folder(tmp_path / "absent")
    with pytest.raises(dataset.DatasetError, match="has no subfolders"):
        dataset.load_folder(tmp_path)


def test_csv_with_any_bytes_is_read_or_rejected_with_a_line_number(tmp_path):
    from emojify.dataset import load_csv
    from emojify.errors import DatasetError
    good = '3,"' + " ".join(["128"] * 48 * 48) + '",Training\n'
    odd = tmp_path / "odd.csv"
    odd.write_bytes(b"emotion,pixels,Usage\n" + good.encode() + b"\xff\xfe,\"1 2\",Training\n" + good.encode())
    images, labels, paths, skipped = load_csv(odd)
    assert len(images) == 2 and skipped == [(f"{odd}:3", "bad emotion or pixels")]
    huge = tmp_path / "huge.csv"
    huge.write_text("emotion,pixels,Usage\n" + good + '4,"' + "1 " * 100_000 + '",Training\n')
    with pytest.raises(DatasetError, match=rf"{huge.name}:3: cannot be read as CSV"):
        load_csv(huge)
