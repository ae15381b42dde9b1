"""Emojify in the browser: the live webcam, photos and video clips, read by the same recogniser as the window.

    pip install -r requirements-web.txt
    streamlit run webapp.py                       # then open http://localhost:8501
    streamlit run webapp.py -- --model other.h5

Everything runs on this computer: the page, its scripts and the video stream never leave it.
"""
import csv
import io
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer  # before TensorFlow: its SRTP library crashes after it

from emojify.capture import PushSource, VideoWriter, open_source
from emojify.cli import make_parser
from emojify.config import LIVE_MODEL_PATH, MODEL_PATH
from emojify.emotions import DISPLAY_NAMES, EMOTIONS, heading
from emojify.errors import AppError
from emojify.faces import build_photo_pipeline
from emojify.records import CSV_COLUMNS, csv_row, face_records, json_line
from emojify.backends import open_classifier
from emojify.live import LatestFrame, LiveSession, State
from emojify.processor import build_live_processor
from emojify.overlay import draw_faces, draw_panel, load_emojis, shown_as

MAX_UPLOAD_MB = 50      # also server.maxUploadSize in .streamlit/config.toml
MAX_VIDEO_S = 120
PHOTO_TYPES = ["jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff"]
VIDEO_TYPES = ["mp4", "mov", "avi", "mkv", "webm", "m4v"]


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("--model", type=Path, help="trained model for every mode (default: model.h5 for photos, the "
                                              "live model for the camera and clips, as in the window)")
    return p.parse_args(argv)


@st.cache_resource(show_spinner="Loading the model...")
def recogniser(model_path, views):
    """The classifier, loaded once per server process and number of views and shared by every visitor."""
    return open_classifier(model_path, views=views)


class Models:
    """The classifiers: the ensemble in 4 views for photos, the live model in 1 for moving pictures (as the
    window), or one model file for both."""

    def __init__(self, model_path=None):
        self.live_path = str(model_path or LIVE_MODEL_PATH)
        self.photo = recogniser(str(model_path or MODEL_PATH), 4)

    @property
    def live(self):
        return recogniser(self.live_path, 1)


@st.cache_resource
def emoji_images():
    return load_emojis(size=128)


def csv_bytes(records):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(r) for r in records)
    return buffer.getvalue().encode("utf-8")


def json_bytes(records):
    return "".join(json_line(r) for r in records).encode("utf-8")


def face_table(records):
    return [{"face": i + 1, "emotion": DISPLAY_NAMES[r["emotion"]], "emoji": r["emoji"],
             "confidence": f"{r['confidence']:.0%}", "box (x, y, w, h)": ", ".join(map(str, r["box"]))}
            for i, r in enumerate(records)]


# ---- Photo

def decode_photo(data):
    """The uploaded bytes as a BGR picture, or None when they are empty or not an image."""
    from emojify.dataset import to_bgr
    if not data:
        return None
    try:
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    return None if frame is None else to_bgr(frame)


def photo_mode(model):
    st.write(f"Upload photos (JPEG, PNG, BMP, WebP, TIFF; up to {MAX_UPLOAD_MB} MB each) or take one with your "
             "camera. Each face gets a box, its emotion and its emoji.")
    uploads = st.file_uploader("Photos", type=PHOTO_TYPES, accept_multiple_files=True)
    # The camera only when asked: a page that turns it on as it opens is not what a visitor expects.
    shot = st.camera_input("Take a snapshot") if st.toggle("Use the camera for a snapshot") else None
    files = list(uploads or []) + ([shot] if shot is not None else [])
    if not files:
        return
    pipeline = build_photo_pipeline(model.photo)
    everything = []
    for upload in files:
        frame = decode_photo(upload.getvalue())
        if frame is None:
            st.error(f"{upload.name}: not an image, or a damaged one; upload a JPEG or PNG photo.")
            continue
        faces = pipeline(frame).faces
        records = face_records(upload.name, None, None, faces)
        everything += records
        st.subheader(upload.name)
        st.image(cv2.cvtColor(draw_faces(frame.copy(), faces, emoji_images()), cv2.COLOR_BGR2RGB))
        if faces:
            st.table(face_table(records))
        else:
            st.warning(f"{upload.name}: no face found. Faces should be upright, lit from the front and at least "
                       "1/25 of the picture's shorter side.")
    if everything:
        left, right = st.columns(2)
        left.download_button("Download JSON lines", json_bytes(everything), "emojify-faces.jsonl",
                             "application/json")
        right.download_button("Download CSV", csv_bytes(everything), "emojify-faces.csv", "text/csv")


# ---- Video

def analyse_video(model, data, name, progress):
    """The uploaded clip through the live path (tracking, face ids, smoothing): (webm bytes, records, timeline
    rows, message) or (None, [], [], error line)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{Path(name).suffix.lower()}"
        path.write_bytes(data)
        try:
            source = open_source(str(path))
        except AppError:
            return None, [], [], f"{name}: not a video we can read, or a damaged one; upload an MP4, WebM or MOV clip."
        frames = source.frame_count or 0
        if frames / source.fps > MAX_VIDEO_S:
            source.release()
            return None, [], [], (f"{name} lasts {frames / source.fps:.0f} s; the page takes clips up to "
                                  f"{MAX_VIDEO_S} s: cut it, or use predict.py for long videos.")
        ok, frame = source.read()
        if not ok:
            source.release()
            return None, [], [], f"{name}: the video has no frames we can decode."
        h, w = frame.shape[:2]
        processor = build_live_processor(model.live, (w, h))
        processor.emojis = emoji_images()
        processor.emoji_on_faces = True
        out = Path(tmp) / "annotated.webm"
        writer = VideoWriter(out, source.fps, (w, h))
        records, rows, index = [], [], 0
        while ok:
            live = processor(frame)
            writer.write(cv2.cvtColor(live.image, cv2.COLOR_RGBA2BGR))
            t = index / source.fps
            records += face_records(name, index, t, live.result.faces)
            main = live.result.main
            rows.append({"time (s)": round(t, 2), **{DISPLAY_NAMES[e]: float(main.probs[i]) if main else None
                                                      for i, e in enumerate(EMOTIONS)}})
            index += 1
            if frames:
                progress.progress(min(index / frames, 1.0), text=f"frame {index} of {frames}")
            ok, frame = source.read()
        source.release()
        if not writer.finish():
            return None, records, rows, f"{name}: the annotated video could not be written completely."
        faces = len({r["face_id"] for r in records})
        return out.read_bytes(), records, rows, f"{index} frames, {faces} face(s) followed."


def video_mode(model):
    st.write(f"Upload a clip (MP4, WebM, MOV, AVI, MKV; up to {MAX_UPLOAD_MB} MB and {MAX_VIDEO_S} s). You get it "
             "back with a box and emoji on every face, the emotion over time and a CSV of every face.")
    upload = st.file_uploader("A video clip", type=VIDEO_TYPES)
    if upload is None:
        return
    key = ("video", upload.file_id)
    if st.session_state.get("video_key") != key:  # analyse once; downloads and reruns reuse the result
        progress = st.progress(0.0, text="analysing...")
        st.session_state["video_result"] = analyse_video(model, upload.getvalue(), upload.name, progress)
        st.session_state["video_key"] = key
        progress.empty()
    video, records, rows, message = st.session_state["video_result"]
    if video is None:
        st.error(message)
        return
    st.success(message)
    st.video(video, format="video/webm")
    st.subheader("The main face's emotion over time")
    st.line_chart(rows, x="time (s)", y=[DISPLAY_NAMES[e] for e in EMOTIONS])
    st.download_button("Download CSV", csv_bytes(records), f"{Path(upload.name).stem}-faces.csv", "text/csv")


# ---- Live

class BrowserLive:
    """One visitor's live view: the browser's camera frames go into the same LiveSession as the desktop
    window's; each frame sent back is the newest processed picture with the side panel beside it."""

    def __init__(self, model):
        self.processor = build_live_processor(model.live, (640, 480), mirror=True)
        self.processor.emoji_on_faces = True
        self.session = None
        self.shown = None
        self.times = []
        self.main = None
        self.lock = threading.Lock()

    def _start(self):
        """A session while the stream plays: started by its first frame, closed when it stops."""
        with self.lock:
            if self.session is not None and self.session.state in (State.ERROR, State.SOURCE_LOST):
                self.session.close()
                self.session = None
            if self.session is None:
                self.source = PushSource()
                self.session = LiveSession(lambda: self.source, self.processor)
                self.latest = self.session.add_consumer(LatestFrame())
                self.shown, self.times, self.main = None, [], None
                self.session.start()

    def __call__(self, frame):
        """Called by streamlit-webrtc on its own thread for every camera frame."""
        import av
        self._start()
        image = frame.to_ndarray(format="bgr24")
        if self.session.display_size != (image.shape[1], image.shape[0]):
            self.session.set_display_size((image.shape[1], image.shape[0]))
        self.source.push(image)
        deadline = time.perf_counter() + 0.2
        live = self.latest.take()
        while live is None and self.shown is None and time.perf_counter() < deadline:
            time.sleep(0.005)
            live = self.latest.take()
        if live is not None:
            now = time.perf_counter()
            with self.lock:
                self.times = [t for t in self.times if now - t < 2.0] + [now]
                self.main = live.result.main
            picture = cv2.cvtColor(live.image, cv2.COLOR_RGBA2BGR)
            panel = draw_panel(live.result.main, live.emojis, picture.shape[0], fps=self.fps)
            self.shown = np.hstack([picture, panel])
        out = self.shown if self.shown is not None else image
        return av.VideoFrame.from_ndarray(out, format="bgr24")

    @property
    def fps(self):
        times = self.times
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0

    def reading(self):
        """One line for the page: the main face's emotion and the frame rate."""
        with self.lock:
            main, fps = self.main, self.fps
        if main is None:
            return f"No face in view · {fps:.1f} fps"
        look = shown_as(main)
        name = heading(look)
        return f"Main face: {name} {main.confidence:.0%} · {fps:.1f} fps"

    def close(self):
        """Stop the session's threads (the stream stopped); the next frame starts a new one."""
        with self.lock:  # held while its threads stop: a new session never shares the processor with them
            if self.session is not None:
                self.session.close()
                self.session = None


def live_mode(model):
    st.write("Press START and allow the camera. The picture comes back with a box and emoji on every face, and "
             "the main face's emoji and bars beside it. The stream goes from your browser to this computer only.")
    if "browser_live" not in st.session_state:
        st.session_state["browser_live"] = BrowserLive(model)
    live = st.session_state["browser_live"]
    context = webrtc_streamer(
        key="live", mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": []},  # this computer only: no STUN or TURN server is asked
        media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
        video_frame_callback=live, async_processing=True,
        video_html_attrs={"autoPlay": True, "controls": False, "muted": True, "style": {"width": "100%"}})
    reading = st.empty()
    while context.state.playing:  # the page's text follows the stream until it stops
        reading.markdown(f"**{live.reading()}**")
        time.sleep(0.25)
    if not context.state.playing:
        live.close()  # no threads left running for a stopped stream


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    st.set_page_config(page_title="Emojify", page_icon="\U0001F604", layout="wide")
    st.title("Emojify")
    try:
        model = Models(args.model)
    except AppError as e:
        st.error(str(e))
        return 1
    mode = st.sidebar.radio("Mode", ["Live", "Photo", "Video"], index=1,
                            captions=["your webcam", "photos or a snapshot", "a video clip"])
    st.sidebar.caption(f"Uploads up to {MAX_UPLOAD_MB} MB; clips up to {MAX_VIDEO_S} s.")
    {"Live": live_mode, "Photo": photo_mode, "Video": video_mode}[mode](model)
    return 0


if __name__ == "__main__":
    main()
