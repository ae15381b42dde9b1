"""Calibration from the window (C): the countdown over the picture while the neutral face is held, then the
result in the side panel and the status bar. The learning itself is the session's (calibration.py)."""
from emojify.live import State


class Calibrating:
    """session: the LiveSession; set_notice(text) writes over the picture, set_result(text) in the panel,
    say(text, seconds) in the status bar."""

    def __init__(self, session, set_notice, set_result, say):
        self.session, self.set_notice, self.set_result, self.say = session, set_notice, set_result, say
        self.shown = None  # the result last shown

    def start(self):
        if self.session.state is not State.RUNNING:
            self.say("calibration needs the live picture running")
            return
        self.session.calibrate()

    def forget(self):
        self.session.forget_calibration()
        self.set_result("")
        self.say("calibration forgotten")

    def poll(self, now):
        calibration = self.session.calibration
        text = ""
        if calibration.collecting:
            left = calibration.seconds_left(now)
            text = f"Hold a neutral face... {left:.0f}" if left > 0.5 else "Hold a neutral face..."
        elif calibration.result is not None and calibration.result is not self.shown:
            self.shown = calibration.result
            self.set_result(self.shown.message)
            self.say(self.shown.message, seconds=8.0)
            print(self.shown.message.capitalize(), flush=True)
        self.set_notice(text)
