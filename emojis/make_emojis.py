"""Render the emoji PNGs in this folder from the Noto Color Emoji font.

    apt-get install fonts-noto-color-emoji && python -m emojis.make_emojis

The font is a bitmap (CBDT) font drawn at its native 109 px size, then scaled to --size.
"""
import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
from emojify.emotions import EMOJI_CHARS, NO_FACE, NO_FACE_CHAR, UNSURE, UNSURE_CHAR, emoji_path  # noqa: E402

FONT_CANDIDATES = ("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf", "NotoColorEmoji.ttf")
NATIVE_SIZE = 109  # the only size the CBDT strikes exist in


def render(char, font, size):
    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((8, 8), char, font=font, embedded_color=True)
    box = canvas.getbbox()
    if box is None:
        raise ValueError(f"the font has no glyph for U+{ord(char):04X}")
    glyph = canvas.crop(box)
    side = max(glyph.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    return square.resize((size, size), Image.LANCZOS)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--font", help="path of NotoColorEmoji.ttf (default: Debian's fonts-noto-color-emoji)")
    p.add_argument("--size", type=int, default=256, help="output PNG side in pixels")
    args = p.parse_args(argv)
    font = None
    for candidate in ([args.font] if args.font else FONT_CANDIDATES):
        try:
            font = ImageFont.truetype(candidate, NATIVE_SIZE)
            break
        except OSError:
            continue
    if font is None:
        sys.exit("error: Noto Color Emoji font not found; install fonts-noto-color-emoji or pass --font PATH.")
    for name, char in {**EMOJI_CHARS, NO_FACE: NO_FACE_CHAR, UNSURE: UNSURE_CHAR}.items():
        out = emoji_path(name)
        render(char, font, args.size).save(out)
        print(f"wrote {out.relative_to(HERE.parent)} (U+{ord(char):04X})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
