"""The web page (webapp.py): photo and video flows through Streamlit's own headless testing API, with the real
model and real decoding; the live view in a real headless Chromium whose fake camera plays test faces."""
import os
import shutil
import socket
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from conftest import ROOT

pytest.importorskip("streamlit", reason="the web front-end's packages: pip install -r requirements-web.txt")
from streamlit.testing.v1 import AppTest  # noqa: E402


def page(mode, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["webapp.py"])  # as `streamlit run webapp.py` passes them
    at = AppTest.from_file(str(ROOT / "webapp.py"), default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.radio, [e.value for e in at.error]  # the page stops at an error line before its sidebar
    at.sidebar.radio[0].set_value(mode).run()
    assert not at.exception, at.exception
    return at


def png(image):
    return cv2.imencode(".png", image)[1].tobytes()


def test_photos_get_boxes_a_table_and_downloads_and_bad_ones_a_clear_message(fer_faces, monkeypatch):
    from benchmarks.videos import background_frame, face_frame
    happy = face_frame(fer_faces[:1], face_px=(240,), background=background_frame())
    at = page("Photo", monkeypatch)
    assert not at.get("camera_input")  # the camera only when asked
    at.file_uploader[0].set_value([("happy.png", png(happy), "image/png"),
                                   ("broken.jpg", b"not an image at all", "image/jpeg"),
                                   ("empty.png", b"", "image/png"),
                                   ("wall.png", png(background_frame()), "image/png"),
                                   ("happy.tiff", cv2.imencode(".tiff", happy)[1].tobytes(), "image/tiff")]).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [f"{name}: not an image, or a damaged one; upload a JPEG or PNG photo."
                                           for name in ("broken.jpg", "empty.png")]
    assert len(at.warning) == 1 and at.warning[0].value.startswith("wall.png: no face found.")
    assert [s.value for s in at.subheader] == ["happy.png", "wall.png", "happy.tiff"]
    table = at.table[0].value
    assert list(table["emotion"]) == ["Happy"] and list(table["emoji"]) == ["\U0001F604"]
    assert list(at.table[1].value["emotion"]) == ["Happy"]
    at.toggle[0].set_value(True).run()
    assert len(at.get("camera_input")) == 1 and not at.exception
    assert [b.proto.label for b in at.get("download_button")] == ["Download JSON lines", "Download CSV"]


def test_a_video_comes_back_annotated_with_a_chart_and_bad_clips_get_one_line(face_video, tmp_path, monkeypatch):
    at = page("Video", monkeypatch)
    at.file_uploader[0].set_value(("clip.mp4", face_video.read_bytes(), "video/mp4")).run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["60 frames, 1 face(s) followed."]
    assert len(at.get("video")) == 1 and len(at.get("vega_lite_chart")) == 1
    assert [b.proto.label for b in at.get("download_button")] == ["Download CSV"]

    from test_capture import one_frame_video
    one = one_frame_video(tmp_path / "one.mp4", size=(320, 240))
    at.file_uploader[0].set_value(("one.mp4", one.read_bytes(), "video/mp4")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("video")) == 1  # a clip of one frame is a clip

    at.file_uploader[0].set_value(("broken.mp4", b"\x00" * 5000, "video/mp4")).run()
    assert [e.value for e in at.error] == ["broken.mp4: not a video we can read, or a damaged one; upload an MP4, "
                                           "WebM or MOV clip."]
    long = tmp_path / "long.mp4"
    out = cv2.VideoWriter(str(long), cv2.VideoWriter_fourcc(*"mp4v"), 1.0, (64, 64))
    for _ in range(130):  # 130 s at 1 fps: over the page's limit, yet a small file
        out.write(np.full((64, 64, 3), 100, np.uint8))
    out.release()
    at.file_uploader[0].set_value(("long.mp4", long.read_bytes(), "video/mp4")).run()
    assert [e.value for e in at.error] == ["long.mp4 lasts 130 s; the page takes clips up to 120 s: cut it, or use "
                                           "predict.py for long videos."]


def test_a_missing_model_is_one_message_in_the_page(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["webapp.py", "--model", str(tmp_path / "absent.h5")])
    at = AppTest.from_file(str(ROOT / "webapp.py"), default_timeout=60)
    at.run()
    assert not at.exception and len(at.error) == 1
    assert at.error[0].value.startswith(f"model file {tmp_path / 'absent.h5'} not found")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_y4m(path, frames):
    """A raw YUV4MPEG2 clip, the format Chromium's fake camera plays."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F30:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def stream_until(playwright, tab, component, console, text, tries=3):
    """Press START and wait for `text` on the page; pressed again when the stream did not start or dropped,
    as a person would: on a loaded 2-core machine a press can land while Streamlit redraws the component, and
    a connection can drop before the first frame. Each miss is printed with what the page and browser said."""
    for _ in range(tries):
        component.get_by_role("button", name="START").click(timeout=120_000)
        try:
            tab.get_by_text(text).wait_for(timeout=90_000)
            return
        except playwright.Error:
            print("the page read:", tab.inner_text("body")[-2000:])
            try:
                print("the camera component read:", component.locator("body").inner_text(timeout=5_000))
            except playwright.Error as e:
                print("the camera component could not be read:", e)
            print("the browser's console:", *console[-30:], sep="\n")
            if not component.get_by_role("button", name="START").is_visible():
                break  # the stream plays, and the page still does not show the face: a failure, not a miss
    raise AssertionError(f"{text!r} never showed on the page (the printout says what did)")


def test_live_view_in_a_real_browser_shows_the_face_on_its_fake_camera(fer_faces, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from benchmarks.videos import background_frame, face_frame
    back = background_frame()
    camera = tmp_path / "camera.y4m"
    write_y4m(camera, [face_frame(fer_faces[:1], face_px=(240,), t=i / 30, background=back) for i in range(90)])
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "webapp.py"),
                               "--server.headless", "true", "--server.port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"])
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            console = []
            tab.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            outside = []  # every request the page makes that would leave this computer
            tab.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
                (f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", "data:", "blob:")) else None)
            deadline = time.time() + 60
            while True:
                try:
                    tab.goto(f"http://127.0.0.1:{port}/", timeout=10_000)
                    break
                except playwright.Error:
                    if time.time() > deadline:
                        raise
                    time.sleep(1)
            huge = tmp_path / "huge.jpg"  # over the page's upload limit: refused with a message, the page goes on
            huge.write_bytes(b"\xff\xd8" + b"\0" * (51 * 1024 * 1024))
            tab.locator("input[type=file]").first.set_input_files(str(huge), timeout=120_000)
            tab.get_by_text("50.0MB or smaller").or_(tab.get_by_text("50MB or smaller")).first.wait_for(
                timeout=60_000)
            tab.get_by_text("Live", exact=True).first.click(timeout=120_000)  # the page opens on Photo
            component = tab.frame_locator("iframe[title*='streamlit_webrtc']")
            stream_until(playwright, tab, component, console, "Main face: Happy")
            reading = tab.get_by_text("Main face: Happy")
            text = reading.inner_text()
            tab.screenshot(path=str(tmp_path / "web.png"), full_page=True)
            shot = os.environ.get("EMOJIFY_WEB_SCREENSHOT")
            if shot:
                shutil.copy(tmp_path / "web.png", shot)
            component.get_by_role("button", name="STOP").click(timeout=30_000)  # its session closes ...
            tab.get_by_text("Main face:").wait_for(state="detached", timeout=60_000)
            stream_until(playwright, tab, component, console, "Main face: Happy")  # ... and a new one starts
            browser.close()
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
        print("the server's log:", log[-5000:])  # shown with a failure
    assert text.startswith("Main face: Happy") and "fps" in text, text
    # This computer only, by default (.streamlit/config.toml): no network or external address looked up or shown.
    assert f"http://localhost:{port}" in log and "Network URL" not in log and "External URL" not in log, log
    assert outside == [], outside
    assert "Traceback" not in log, log[-3000:]
    assert cv2.imread(str(tmp_path / "web.png")) is not None


def test_emojify_web_serves_the_page_from_any_folder(tmp_path):
    """The installed command's way in: Streamlit on emojify/commands/web.py with the settings of
    .streamlit/config.toml, which is not in the folder it runs from."""
    import urllib.request
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "emojify.commands.serve", "--port", str(port)], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT),
                                   "STREAMLIT_SERVER_HEADLESS": "true"})
    try:
        deadline, health = time.time() + 90, ""
        while time.time() < deadline and health != "ok":
            try:
                health = urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=5).read().decode()
            except OSError:
                time.sleep(0.5)
        page = urllib.request.urlopen(f"http://localhost:{port}/", timeout=10).read().decode()
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert health == "ok" and "streamlit" in page.lower(), log
    assert f"http://localhost:{port}" in log and "Network URL" not in log, log
