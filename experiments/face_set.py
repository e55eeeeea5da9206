"""A labelled face set to choose the face detector on: real faces at many scales, frames of text, faces on pictures.

    python experiments/face_set.py --shared ../shared --out /tmp/face_set [--seed 0]   # writes the set to look at

Made on the fly from a seed, never stored in the repository. Every frame is a real background: a region of a
frame of WolfgangLanger_Pexels.mp4 or single_face.mp4 that holds no face (a dark wooden wall, a door, hair,
shoulders), at a webcam's or a photo's size. On it:

- `face`: one real face, pasted with its own surroundings at a scale band (the face's side as a share of the
  frame's shorter side; `close`, from 0.5, is a viewer near a laptop camera, the face filling the frame) and a
  random position: FER+ faces from FER2013Train (48 px gray, labelled with their majority emotion), and faces
  of the two clips' frames and single_face.jpg in colour (their boxes from the clips run as a stream through
  the engine with the full-range detector of before, which keeps the face on every frame).
- `text`: no face, one to three title-like words (OpenCV's fonts, filled, outlined, shadowed, sometimes blurred
  or tilted), from small captions to titles across the frame.
- `picture`: a face the camera sees on a poster, a framed picture or a screen (border, glare, a slight
  perspective), reported apart: it is a face, but not a viewer.

And streams where a viewer leaves (`leaving`): a real face near the camera for a second, then the empty
background (with a title in half of them) for two, at 24 frames per second.

Never drawn from: multi_face.jpg and no_face.mp4 (and the no-face half of face_noface.mov, the same clip),
JAFFE and FER2013Valid, so what is reported on them was not chosen on.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from emotion.core.config import build, compose_config
from emotion.data.ferplus import FERPLUS_TRAIN, FERPLUS_VOTES, _read_ferplus_split, ferplus_targets
from emotion.inference.backends import engine_for

BANDS = {"far": (0.06, 0.15), "mid": (0.15, 0.3), "near": (0.3, 0.5), "close": (0.5, 0.95)}
SIZES = ((640, 360), (640, 480), (480, 480))
SOURCE_BOXES = "detector=blazeface_full_range"
CLASSES = [c for c in FERPLUS_VOTES if c != "NF"]
WORDS = ("CAMINO", "Episode", "NEWS", "Tonight", "LIVE", "Coming up", "SEASON 2", "Bonanza", "Oo", "OO", "Moon",
         "goodbye", "THE END", "Goal!", "Weather", "08:30", "Cooking", "Mondo", "BOOM", "Ooh la la", "Docs",
         "Credits", "Coco", "Logo", "Bob", "qoq", "Poppo", "the voice", "MasterChef", "SOS")
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
         cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX, cv2.FONT_HERSHEY_PLAIN)


@dataclass
class Sample:
    kind: str                 # face, text or picture
    band: str                 # the face's scale band ("" for text)
    source: str               # ferplus/<emotion>, video or "" for text
    image: np.ndarray
    faces: list = field(default_factory=list)  # (x, y, w, h) of each face


@dataclass
class Media:
    frames: list              # BGR frames with their face box: (image, (x, y, w, h))
    ferplus: list             # (48x48 gray face, emotion)


def clip_faces(path: Path, every: int) -> list:
    """(frame, its face box) for every `every`-th frame of a one-face clip."""
    cfg = compose_config("infer", [SOURCE_BOXES])
    engine = engine_for(build(cfg.detector, "detector"), lambda b: np.zeros((len(b), 1)), ["a"], 32, cfg.engine)
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        engine.reset(float(stream.average_rate))
        for i, frame in enumerate(container.decode(stream)):
            image = frame.to_ndarray(format="bgr24")
            faces = engine.process(image, frame.time).faces
            if i % every == 0 and len(faces) == 1:
                out.append((image, faces[0].box))
    return out


def load_media(shared: Path, per_class: int, seed: int) -> Media:
    media = shared / "media"
    frames = clip_faces(media / "WolfgangLanger_Pexels.mp4", 4) + clip_faces(media / "single_face.mp4", 2)
    photo = cv2.imread(str(media / "single_face.jpg"))
    frames.append((photo, build(compose_config("infer", [SOURCE_BOXES]).detector, "detector")(photo)[0].box))
    folder = shared / "data" / "ferplus" / FERPLUS_TRAIN
    names, votes = _read_ferplus_split(folder)
    keep, targets = ferplus_targets(votes, CLASSES, "majority", False)
    names, labels = np.array(names)[keep], targets.argmax(axis=1)
    rng = np.random.default_rng(seed)
    faces = []
    for k, emotion in enumerate(CLASSES):
        pool = names[labels == k]
        for name in rng.choice(pool, min(per_class, len(pool)), replace=False):
            faces.append((cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE), emotion))
    return Media(frames, faces)


def background(media: Media, rng: np.random.Generator) -> np.ndarray:
    """A region of a real frame that holds no face, at one of SIZES."""
    width, height = SIZES[rng.integers(len(SIZES))]
    while True:
        image, (x, y, w, h) = media.frames[rng.integers(len(media.frames))]
        rows, cols = image.shape[:2]
        side = int(rng.uniform(0.25, 0.6) * rows)
        cw, ch = min(cols, int(side * width / height)), side
        left, top = int(rng.integers(0, cols - cw + 1)), int(rng.integers(0, rows - ch + 1))
        # a face's surroundings reach beyond its box: hair, forehead, chin
        if left + cw < x - w * 0.4 or left > x + w * 1.4 or top + ch < y - h * 0.6 or top > y + h * 1.6:
            crop = image[top:top + ch, left:left + cw]
            crop = crop[:, ::-1] if rng.random() < 0.5 else crop
            return cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC)


def face_patch(media: Media, rng: np.random.Generator) -> tuple[np.ndarray, tuple, str]:
    """(a face with its surroundings, the face's box in it, its source)."""
    if rng.random() < 0.75:
        gray, emotion = media.ferplus[rng.integers(len(media.ferplus))]
        # FER+ faces are cropped to the face: the whole image is the box
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), (0, 0, 48, 48), f"ferplus/{emotion}"
    image, (x, y, w, h) = media.frames[rng.integers(len(media.frames))]
    pad = int(max(w, h) * 0.5)
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return padded[y:y + h + 2 * pad, x:x + w + 2 * pad], (pad, pad, w, h), "video"


def paste(frame: np.ndarray, patch: np.ndarray, left: int, top: int, scale: float) -> None:
    """`patch` resized by `scale` into `frame` at (left, top), its edges feathered, clipped at the frame."""
    h, w = patch.shape[:2]
    big = cv2.resize(patch, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_CUBIC)
    bh, bw = big.shape[:2]
    edge = max(1.0, 0.08 * min(bh, bw))
    ys, xs = np.mgrid[:bh, :bw]
    alpha = np.clip(np.minimum.reduce([xs + 1, ys + 1, bw - xs, bh - ys]) / edge, 0, 1)[..., None]
    x0, y0, x1, y1 = max(0, left), max(0, top), min(frame.shape[1], left + bw), min(frame.shape[0], top + bh)
    region = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    frame[y0:y1, x0:x1] = (big[region] * alpha[region] + frame[y0:y1, x0:x1] * (1 - alpha[region])).astype(np.uint8)


def face_sample(media: Media, band: str, rng: np.random.Generator, room: np.ndarray | None = None) -> Sample:
    frame = background(media, rng) if room is None else room.copy()
    patch, (fx, fy, fw, fh), source = face_patch(media, rng)
    side = rng.uniform(*BANDS[band]) * min(frame.shape[:2])
    scale = side / max(fw, fh)
    w, h = round(fw * scale), round(fh * scale)
    x, y = int(rng.integers(0, frame.shape[1] - w + 1)), int(rng.integers(0, frame.shape[0] - h + 1))
    paste(frame, patch, x - round(fx * scale), y - round(fy * scale), scale)
    return Sample("face", band, source, frame, [(x, y, w, h)])


def text_sample(media: Media, rng: np.random.Generator, room: np.ndarray | None = None) -> Sample:
    frame = background(media, rng) if room is None else room.copy()
    height = frame.shape[0]
    for _ in range(int(rng.integers(1, 4))):
        word, font = str(rng.choice(WORDS)), int(rng.choice(FONTS))
        scale = rng.uniform(0.04, 0.3) * height / cv2.getTextSize("O", font, 1.0, 1)[0][1]
        thick = max(1, int(scale * rng.uniform(1, 4)))
        (tw, th), _ = cv2.getTextSize(word, font, scale, thick)
        layer, mask = np.zeros_like(frame), np.zeros(frame.shape[:2], np.uint8)
        x, y = int(rng.integers(-tw // 4, max(1, frame.shape[1] - tw * 3 // 4))), int(rng.integers(th, height))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        outline = tuple(int(v) for v in rng.integers(0, 80, 3))
        for offset, colour, extra in ((int(rng.integers(0, 6)), (0, 0, 0), 0), (0, outline, 4), (0, fill, 0)):
            cv2.putText(layer, word, (x + offset, y + offset), font, scale, colour, thick + extra, cv2.LINE_AA)
            cv2.putText(mask, word, (x + offset, y + offset), font, scale, 255, thick + extra, cv2.LINE_AA)
        if rng.random() < 0.3:  # a title tilted or fading in, out of focus
            turn = cv2.getRotationMatrix2D((x + tw / 2, y - th / 2), rng.uniform(-15, 15), 1.0)
            layer, mask = (cv2.warpAffine(a, turn, frame.shape[1::-1]) for a in (layer, mask))
            layer, mask = (cv2.GaussianBlur(a, (0, 0), rng.uniform(0.5, 4)) for a in (layer, mask))
        alpha = mask[..., None] / 255.0
        frame = (layer * alpha + frame * (1 - alpha)).astype(np.uint8)
    return Sample("text", "", "", frame)


def picture_sample(media: Media, rng: np.random.Generator) -> Sample:
    """A face on a poster, a framed picture or a screen in the room, seen at a slight angle."""
    frame = background(media, rng)
    patch, (fx, fy, fw, fh), source = face_patch(media, rng)
    inner = int(rng.uniform(0.15, 0.45) * min(frame.shape[:2]))
    picture = cv2.resize(patch, (inner, inner), interpolation=cv2.INTER_CUBIC)
    glare = rng.uniform(0, 0.35)
    picture = (picture * (1 - glare) + 255 * glare).astype(np.uint8)
    border = int(inner * rng.uniform(0.03, 0.15))
    colour = [(20, 20, 20), (235, 235, 235), (40, 70, 110)][rng.integers(3)]
    picture = cv2.copyMakeBorder(picture, border, border, border, border, cv2.BORDER_CONSTANT, value=colour)
    side = picture.shape[0]
    x, y = int(rng.integers(0, frame.shape[1] - side + 1)), int(rng.integers(0, frame.shape[0] - side + 1))
    corners = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    moved = (corners + (x, y) + rng.uniform(-0.08, 0.08, (4, 2)) * side).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, moved)
    size = frame.shape[1::-1]
    mask = cv2.warpPerspective(np.full((side, side), 255, np.uint8), warp, size)[..., None] / 255.0
    frame = (cv2.warpPerspective(picture, warp, size) * mask + frame * (1 - mask)).astype(np.uint8)
    scale = np.float32([inner / patch.shape[1], inner / patch.shape[0]])
    box = np.float32([[fx, fy], [fx + fw, fy], [fx + fw, fy + fh], [fx, fy + fh]]) * scale + border
    x0, y0 = cv2.perspectiveTransform(box[None], warp)[0].min(axis=0)
    x1, y1 = cv2.perspectiveTransform(box[None], warp)[0].max(axis=0)
    return Sample("picture", "", source, frame, [(int(x0), int(y0), int(x1 - x0), int(y1 - y0))])


def leaving(shared: Path, seed: int = 0, streams: int = 40, rate: float = 24.0):
    """(frames, how many of the first frames hold the face, its box there) of each stream where a viewer leaves."""
    media = load_media(shared, 1, seed)
    rng = np.random.default_rng(seed + 1)
    for i in range(streams):
        room = background(media, rng)
        face = face_sample(media, "close", rng, room)
        while face.source != "video":
            face = face_sample(media, "close", rng, room)
        empty = text_sample(media, rng, room).image if i % 2 else room
        present = int(rate)
        frames = [np.roll(face.image, int(rng.integers(-3, 4)), axis=1) for _ in range(present)]
        yield frames + [empty] * int(2 * rate), present, face.faces[0]


def face_set(shared: Path, seed: int = 0, faces_per_band: int = 600, close: int = 2400, texts: int = 3200,
             pictures: int = 300, per_class: int = 300):
    """The samples, in a fixed order for a seed: faces by band (`close` of them close-ups), texts, pictures."""
    media = load_media(shared, per_class, seed)
    rng = np.random.default_rng(seed)
    for band in BANDS:
        for _ in range(close if band == "close" else faces_per_band):
            yield face_sample(media, band, rng)
    for _ in range(texts):
        yield text_sample(media, rng)
    for _ in range(pictures):
        yield picture_sample(media, rng)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--out", type=Path, required=True, help="a temporary folder (never the repository)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "faces.csv", "w", newline="") as f:
        table = csv.writer(f)
        table.writerow(["file", "kind", "band", "source", "faces"])
        for i, sample in enumerate(face_set(args.shared, args.seed)):
            name = f"{i:05d}_{sample.kind}.jpg"
            cv2.imwrite(str(args.out / name), sample.image)
            table.writerow([name, sample.kind, sample.band, sample.source, sample.faces])
    print(f"{i + 1} images in {args.out}")


if __name__ == "__main__":
    main()
