"""Why faces are not found or poorly seen, from what can be measured in the picture."""


def capture_hint(frame, faces):
    """Why faces are not found or poorly seen, from what can be measured, as one short line; None when the
    picture is fine. frame: the BGR camera frame; faces: what the pipeline found in it (main face first)."""
    h, w = frame.shape[:2]
    brightness = float(frame[::8, ::8].mean())  # a sparse sample is enough for an average
    if not faces:
        if brightness < 50:
            return "too dark: light your face from the front"
        if brightness > 215:
            return "too bright: avoid a window or lamp behind you"
        return "no face found: look at the camera"
    x, y, fw, fh = (int(v) for v in faces[0].box)
    face = frame[max(y, 0):y + fh:4, max(x, 0):x + fw:4]
    if face.size and float(face.mean()) < 60:
        return "face too dark: turn towards a light"
    if fw < 0.22 * min(w, h):  # the live detector looks for faces down to 0.2: warn just before one is lost
        return "face small: come closer"
    if abs(x + fw / 2 - w / 2) > 0.33 * w:
        return "face near the edge: move to the middle"
    return None
