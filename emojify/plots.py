"""Small charts drawn with Pillow: training curves and confusion matrices."""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emojify.atomic import atomic_path

COLORS = {"accuracy": (31, 119, 180), "val_accuracy": (255, 127, 14), "loss": (44, 160, 44),
          "val_loss": (214, 39, 40)}


def _font(size):
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _save(image, path):
    with atomic_path(path) as tmp:
        image.save(tmp)


def plot_curves(history, path, size=(900, 380)):
    """Accuracy and loss per epoch, side by side, from a list of per-epoch metric dicts."""
    w, h = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = _font(13)
    epochs = [r["epoch"] for r in history]
    for panel, keys in enumerate((("accuracy", "val_accuracy"), ("loss", "val_loss"))):
        x0, y0, x1, y1 = panel * w // 2 + 55, 30, (panel + 1) * w // 2 - 15, h - 45
        series = {k: [r[k] for r in history if k in r] for k in keys}
        values = [v for s in series.values() for v in s]
        if not values:
            continue
        lo, hi = min(values), max(values)
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.05
        lo, hi = lo - pad, hi + pad
        e_max = max(max(epochs), 2)
        draw.rectangle([x0, y0, x1, y1], outline=(120, 120, 120))
        for i in range(5):
            v = lo + (hi - lo) * i / 4
            y = y1 - (y1 - y0) * i / 4
            draw.line([x0, y, x1, y], fill=(230, 230, 230))
            draw.text((x0 - 50, y - 7), f"{v:.3f}", fill="black", font=font)
        draw.text((x0, y1 + 8), "epoch 1", fill="black", font=font)
        draw.text((x1 - 60, y1 + 8), f"epoch {e_max}", fill="black", font=font)

        def point(e, v):
            return x0 + (x1 - x0) * (e - 1) / (e_max - 1), y1 - (y1 - y0) * (v - lo) / (hi - lo)

        for n, (key, vals) in enumerate(series.items()):
            pts = [point(e, v) for e, v in zip(epochs, vals)]
            if len(pts) > 1:
                draw.line(pts, fill=COLORS[key], width=2)
            for px, py in pts:
                draw.ellipse([px - 2, py - 2, px + 2, py + 2], fill=COLORS[key])
            draw.text((x0 + 8 + 130 * n, 8), key, fill=COLORS[key], font=font)
    _save(image, path)


def plot_confusion(matrix, labels, path, title="", cell=72):
    """Row-normalised confusion matrix, with counts: rows are the true emotions, columns the predicted ones."""
    matrix = np.asarray(matrix)
    n = len(labels)
    font, bold = _font(12), _font(14)
    left = 40 + max(int(draw_width(font, label)) for label in labels) + 12
    top = 84
    image = Image.new("RGB", (left + n * cell + 20, top + n * cell + 30), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 8), title or "Confusion matrix", fill="black", font=bold)
    draw.text((left + n * cell // 2 - 40, 34), "predicted", fill="black", font=bold)
    # "true" runs down the left edge, written sideways like an axis title
    axis = Image.new("RGB", (n * cell, 20), "white")
    ImageDraw.Draw(axis).text((n * cell // 2 - 14, 2), "true", fill="black", font=bold)
    image.paste(axis.rotate(90, expand=True), (8, top))
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    for i in range(n):
        draw.text((34, top + i * cell + cell // 2 - 7), labels[i], fill="black", font=font)
        draw.text((left + i * cell + (cell - draw_width(font, labels[i])) / 2, top - 22), labels[i], fill="black",
                  font=font)
        for j in range(n):
            shade = int(255 - 200 * share[i, j])
            x, y = left + j * cell, top + i * cell
            draw.rectangle([x, y, x + cell - 1, y + cell - 1], fill=(shade, shade, 255), outline=(200, 200, 200))
            ink = "white" if share[i, j] > 0.55 else "black"
            draw.text((x + 6, y + 16), f"{share[i, j]:.2f}", fill=ink, font=font)
            draw.text((x + 6, y + 36), str(int(matrix[i, j])), fill=ink, font=font)
    _save(image, path)


def draw_width(font, text):
    left, _, right, _ = font.getbbox(text)
    return right - left


def plot_summary(summary, path, width=760, row=44):
    """summary_chart saved as a PNG."""
    _save(summary_chart(summary, width, row), path)


def summary_chart(summary, width=760, row=44, most=None):
    """A session summary (timeline.Timeline.summary) as one bar per face id: its share of time per emotion,
    in the app's emotion colours, labelled with the time in view; most: only that many faces, the longest in
    view (the summary lists them longest first). Returns a Pillow image."""
    from emojify.emotions import COLORS
    every = summary["faces"]
    faces = dict(list(every.items())[:most]) if most else every
    font, bold = _font(13), _font(15)
    left, top = 90, 44
    names = [n for n in COLORS if any(n in f["share"] for f in faces.values())]
    image = Image.new("RGB", (width, top + row * max(1, len(faces)) + 50), "white")
    draw = ImageDraw.Draw(image)
    title = f"Emojify session, {summary['duration_s']:.0f} s: share of time per emotion"
    if len(faces) < len(every):
        title += f" ({len(faces)} longest in view of {len(every)} faces)"
    draw.text((10, 10), title, fill="black", font=bold)
    if not faces:
        draw.text((10, top + 10), "no face seen", fill="black", font=font)
    bar = width - left - 20
    for i, (face_id, face) in enumerate(faces.items()):
        y = top + i * row
        draw.text((10, y + 10), f"face {face_id}", fill="black", font=font)
        x = left
        for name in names:
            share = face["share"].get(name, 0.0)
            if share <= 0:
                continue
            b, g, r = COLORS[name]
            w = bar * share
            draw.rectangle([x, y + 4, x + w, y + row - 12], fill=(r, g, b))
            if w > 40:
                draw.text((x + 4, y + 12), f"{share:.0%}", fill=(20, 20, 20), font=font)
            x += w
        draw.text((left, y + row - 12), f"{face['seconds']:.0f} s in view", fill=(90, 90, 90), font=_font(10))
    y = top + row * max(1, len(faces)) + 14
    x = left
    for name in names:  # the legend
        b, g, r = COLORS[name]
        draw.rectangle([x, y + 2, x + 12, y + 14], fill=(r, g, b))
        draw.text((x + 16, y), name, fill="black", font=font)
        x += 24 + draw_width(font, name)
    return image
