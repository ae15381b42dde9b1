"""The live picture: a canvas holding the newest frame, a banner for every state that is not plain running,
the REC marker and the calibration countdown. It follows the window's size and goes full screen."""
import tkinter as tk

from PIL import Image, ImageTk

from emojify.live import State

# The banner over the picture in each state that is not plain running; the state's message goes under it.
BANNERS = {State.STARTING: "Starting...", State.PAUSED: "Paused", State.NO_SOURCE: "No picture",
           State.SOURCE_LOST: "Camera lost", State.ENDED: "End of video", State.ERROR: "Something went wrong",
           State.CLOSED: "Closed"}
HINTS = {State.PAUSED: "Space resumes.", State.ENDED: "Space replays it; Ctrl+O opens another video."}


def banner_text(status, spec, retry_every):
    """What the banner says for a session status (spec: the camera index or video played); empty while the
    picture simply runs. It speaks of the window's menus, never of command-line options."""
    state = status.state
    if state is State.RUNNING:
        return ""
    camera = isinstance(spec, int)
    title = "No camera" if state is State.NO_SOURCE and camera else BANNERS.get(state, "")
    detail = status.message if state is not State.ENDED else ""
    if state is State.NO_SOURCE and camera:
        detail = f"no webcam at index {spec}: plug one in, or close other apps using it."
        if retry_every:
            detail += f"\nTrying again every {retry_every:.0f} s."
        detail += "\nFile > Camera lists the cameras found; File > Open video plays a video file."
    return "\n".join(t for t in (title, detail, HINTS.get(state, "")) if t)


class Picture:
    """on_resize((w, h)) is called with the picture area's new size whenever the window changes size."""

    def __init__(self, root, size, bg, on_resize):
        self.root, self.on_resize = root, on_resize
        w, h = size
        self.canvas = c = tk.Canvas(root, width=w, height=h, bg=bg, highlightthickness=0, bd=0)
        c.grid(row=0, column=0, sticky="nsew", padx=(8, 0), pady=(8, 0))
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        self.area = (w, h)
        # PhotoImages live on self, or Tk would show blank images after garbage collection.
        self.photo = ImageTk.PhotoImage(Image.new("RGBA", (w, h)))
        self.image = c.create_image(w // 2, h // 2, image=self.photo, anchor="center")
        self.banner_box = c.create_rectangle(0, 0, 0, 0, fill="#202020", outline="", state="hidden")
        self.banner = c.create_text(w // 2, h // 2, text="", fill="white", justify="center",
                                    font=("TkDefaultFont", 14, "bold"), width=w - 60)
        self.rec = c.create_text(14, 12, text="", fill="#e02020", anchor="nw", font=("TkDefaultFont", 16, "bold"))
        # The calibration countdown: white on a dark box, on the picture itself (never across its border).
        self.notice_box = c.create_rectangle(0, 0, 0, 0, fill="#202020", outline="", state="hidden")
        self.notice = c.create_text(w // 2, 12, text="", fill="white", anchor="n", font=("TkDefaultFont", 16, "bold"))
        self.fullscreen = False
        self.saved_geometry = None
        c.bind("<Configure>", self._resized)

    @property
    def size(self):
        """The shown picture's size in pixels."""
        return self.photo.width(), self.photo.height()

    def show(self, rgba):
        h, w = rgba.shape[:2]
        image = Image.fromarray(rgba)
        if self.size != (w, h):
            self.photo = ImageTk.PhotoImage(image)
            self.canvas.itemconfigure(self.image, image=self.photo)
        else:
            self.photo.paste(image)  # reusing the PhotoImage is much cheaper than a new one per frame

    def release(self):
        """Drop the PhotoImages now, on the Tk thread (closing, before the root is destroyed). Left to the garbage
        collector, a Tk object may be deleted on a worker thread, which then waits for a Tk main loop: a second
        for each object where none runs (a program that pumps Tk itself, or has closed its window)."""
        self.photo = None

    def text(self, item):
        return self.canvas.itemcget(getattr(self, item), "text")

    def notice_look(self):
        """The countdown's text colour, its box's colour, and whether the box lies wholly on the picture."""
        c = self.canvas
        box, picture = c.bbox(self.notice_box), c.bbox(self.image)
        inside = bool(box and picture and picture[0] <= box[0] and picture[1] <= box[1] and box[2] <= picture[2]
                      and box[3] <= picture[3]) and c.itemcget(self.notice_box, "state") != "hidden"
        return c.itemcget(self.notice, "fill"), c.itemcget(self.notice_box, "fill"), inside

    def _boxed(self, item, box, text, pad):
        """Show text in item, on the dark rectangle box (pad pixels around it); both hidden for no text."""
        c = self.canvas
        c.itemconfigure(item, text=text)
        if text:
            x0, y0, x1, y1 = c.bbox(item)
            c.coords(box, x0 - pad[0], y0 - pad[1], x1 + pad[0], y1 + pad[1])
            c.tag_raise(box)
            c.tag_raise(item)
        c.itemconfigure(box, state="normal" if text else "hidden")

    def set_banner(self, text):
        self._boxed(self.banner, self.banner_box, text, (16, 12))

    def set_rec(self, text):
        """The REC marker, on the picture's top-left corner (the picture is centred in its area)."""
        if text == self.text("rec"):
            return
        (cw, ch), (pw, ph) = self.area, self.size
        self.canvas.coords(self.rec, max(cw - pw, 0) // 2 + 12, max(ch - ph, 0) // 2 + 8)
        self.canvas.itemconfigure(self.rec, text=text)
        self.canvas.tag_raise(self.rec)

    def set_notice(self, text):
        if text == self.text("notice"):
            return
        (cw, ch), (_, ph) = self.area, self.size
        self.canvas.coords(self.notice, cw // 2, max(ch - ph, 0) // 2 + 14)  # on the picture, never its border
        self._boxed(self.notice, self.notice_box, text, (10, 6))

    def _resized(self, event):
        w, h = max(event.width, 32), max(event.height, 32)
        self.area = (w, h)
        c = self.canvas
        c.coords(self.image, w // 2, h // 2)
        c.coords(self.banner, w // 2, h // 2)
        c.itemconfigure(self.banner, width=max(w - 60, 100))
        self.set_banner(self.text("banner"))
        self.on_resize((w, h))

    def set_fullscreen(self, on, show_menu):
        """Fill the screen (the menu bar hidden by show_menu(False); the keys still work), or go back."""
        if on == self.fullscreen:
            return
        self.fullscreen, root = on, self.root
        if on:
            self.saved_geometry = root.geometry()
            show_menu(False)
            root.attributes("-fullscreen", True)
            # Without a window manager -fullscreen alone leaves the size: set it too.
            root.geometry(f"{root.winfo_screenwidth()}x{root.winfo_screenheight()}+0+0")
        else:
            root.attributes("-fullscreen", False)
            show_menu(True)
            root.geometry(self.saved_geometry)
