"""Make the predict.py example of docs/PREDICT_EXAMPLE.md: three photos and a 5 s clip built from FER-2013 test faces.

    python -m docs.make_predict_example ../shared/fer2013/test --dir demo
    cd demo && python ../predict.py photos clip.mp4 --json faces.jsonl --csv faces.csv --annotate annotated

Then copy demo/annotated/group.annotated.png to docs/predict_example.png.
"""
import argparse
import sys
from pathlib import Path

import cv2



def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("test_dir", type=Path, help="FER-2013 test folder, for the faces")
    p.add_argument("--dir", type=Path, required=True, help="folder to write photos/ and clip.mp4 into")
    args = p.parse_args(argv)

    from benchmarks.videos import DEFAULT_FACES, background_frame, face_frame, load_faces, write_video
    try:
        happy, surprise, neutral = load_faces(args.test_dir, list(DEFAULT_FACES))
    except FileNotFoundError as e:
        sys.exit(f"error: {e}")
    photos = args.dir / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    room = background_frame(seed=0)
    shots = {"group.png": face_frame([happy, surprise, neutral], face_px=(220, 180, 160), background=room),
             "portrait.jpg": face_frame([surprise], face_px=(260,), t=2.0, background=background_frame(seed=1)),
             "empty_room.jpg": background_frame(seed=2)}
    for name, image in shots.items():
        if not cv2.imwrite(str(photos / name), image):
            sys.exit(f"error: cannot write {photos / name}")
    write_video(args.dir / "clip.mp4", [happy], frames=150, blank_every=5)
    print(f"wrote {len(shots)} photos to {photos} and {args.dir / 'clip.mp4'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
