from PIL import Image
import pytest

from emojify.emotions import DISPLAY_NAMES, EMOJI_CHARS, EMOTIONS, NO_FACE, emoji_path, label_index
from conftest import FER


def test_seven_emotions_in_fer_folder_order():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    assert list(EMOTIONS) == sorted(EMOTIONS)
    assert set(DISPLAY_NAMES) == set(EMOJI_CHARS) == set(EMOTIONS)


def test_matches_dataset_folders():
    if FER is None or not (FER / "train").is_dir():
        pytest.skip("FER-2013 training folders not found")
    assert tuple(sorted(p.name for p in (FER / "train").iterdir() if p.is_dir())) == EMOTIONS


@pytest.mark.parametrize("name", [*EMOTIONS, NO_FACE])
def test_every_emoji_is_a_transparent_square_png(name):
    with Image.open(emoji_path(name)) as image:
        assert image.format == "PNG" and image.mode == "RGBA"
        assert image.width == image.height >= 128
        alpha = image.getchannel("A")
        assert alpha.getextrema() == (0, 255)  # transparent corners, opaque face


def test_label_lookup():
    assert label_index("Happy ") == 3
    with pytest.raises(ValueError, match="known emotions: angry, disgust"):
        label_index("contempt")
    with pytest.raises(ValueError, match="Unknown emotion 'joy'"):
        emoji_path("joy")


def test_not_sure_grey_is_far_from_every_emotion_neutral_included():
    import numpy as np
    from emojify.emotions import COLORS, EMOTIONS, UNSURE
    grey = np.array(COLORS[UNSURE], float)
    for emotion in EMOTIONS:
        colour = np.array(COLORS[emotion], float)
        assert np.linalg.norm(colour - grey) > 60, emotion
        assert colour.max() - colour.min() > 60, emotion  # a colour, not a shade of grey
