"""The record of one face in one frame, as predict.py, a recording's log and the web page write it: the
fields (face_records), a JSON line and a CSV row."""
import json

from emojify.emotions import EMOJI_CHARS, EMOTIONS


def face_records(source, frame_index, time_s, faces):
    """One JSON-ready record per face: the fields of predict.py's --json lines and of a recording's log
    (which adds the face id and whether the face read "not sure")."""
    records = []
    for face in faces:
        record = {
            "source": str(source),
            "frame": frame_index,
            "time": None if time_s is None else round(time_s, 3),
            "box": [int(v) for v in face.box],
            "emotion": face.emotion,
            "emoji": EMOJI_CHARS[face.emotion],
            "confidence": round(face.confidence, 4),
            "probabilities": {e: round(float(p), 4) for e, p in zip(EMOTIONS, face.probs)},
        }
        if face.id is not None:
            record.update(face_id=face.id, unsure=face.unsure)
        records.append(record)
    return records


CSV_COLUMNS = ["source", "frame", "time", "box_x", "box_y", "box_w", "box_h", "emotion", "emoji", "confidence",
               *[f"p_{e}" for e in EMOTIONS]]


def json_line(record):
    """A face_records record as one JSON line; never the invalid JSON `NaN`."""
    return json.dumps(record, allow_nan=False) + "\n"


def csv_row(record):
    """A face_records record as the values of one CSV row, in CSV_COLUMNS order."""
    p = record["probabilities"]
    return [record["source"], "" if record["frame"] is None else record["frame"],
            "" if record["time"] is None else record["time"], *record["box"], record["emotion"], record["emoji"],
            record["confidence"], *[p[e] for e in EMOTIONS]]
