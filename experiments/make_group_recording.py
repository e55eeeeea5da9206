"""Two viewers on one camera: two clips side by side in one recording, for emotion.moments and its benchmark.

    python experiments/make_group_recording.py [--left ../shared/media/WolfgangLanger_Pexels.mp4]
        [--right ../shared/media/single_face.mp4] [--out group.mp4]

Both clips are scaled to the left one's height and played together for the left
clip's duration; the right one loops when it is shorter (its face returns to the
same place, as a viewer on a sofa would). The left clip's sound is kept.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def frames(path: Path, height: int):
    """(time, BGR frame scaled to `height`) of a clip, through PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            width = round(frame.width * height / frame.height / 2) * 2
            yield frame.time, frame.reformat(width=width, height=height, format="bgr24").to_ndarray()


def side_by_side(left: Path, right: Path, out: Path) -> Path:
    with av.open(str(left)) as probe:
        video = probe.streams.video[0]
        height, rate = video.codec_context.height - video.codec_context.height % 2, video.average_rate
        audio = (probe.streams.audio[0].rate, probe.streams.audio[0].layout.name) if probe.streams.audio else None
    right_frames = [image for _, image in frames(right, height)]
    right_times = [t for t, _ in frames(right, height)]
    loop = right_times[-1] + (right_times[-1] - right_times[0]) / max(len(right_times) - 1, 1)
    with av.open(str(out), "w") as container:
        encoder = container.add_stream("libx264", rate=rate)
        sound = container.add_stream("aac", rate=audio[0], layout=audio[1]) if audio else None
        first = True
        for t, image in frames(left, height):
            other = right_frames[int(np.searchsorted(right_times, t % loop, side="right")) - 1]
            both = np.hstack([image, other])
            if first:
                encoder.width, encoder.height = both.shape[1] - both.shape[1] % 2, both.shape[0]
                encoder.pix_fmt, encoder.time_base, first = "yuv420p", Fraction(1, 90000), False
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(both[:, :encoder.width]), format="bgr24")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = round(t * 90000), Fraction(1, 90000)
            container.mux(encoder.encode(frame))
        container.mux(encoder.encode(None))
        if sound:
            with av.open(str(left)) as source:
                for frame in source.decode(source.streams.audio[0]):
                    frame.pts = None
                    container.mux(sound.encode(frame))
                container.mux(sound.encode(None))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--left", type=Path, default=Path("../shared/media/WolfgangLanger_Pexels.mp4"))
    parser.add_argument("--right", type=Path, default=Path("../shared/media/single_face.mp4"))
    parser.add_argument("--out", type=Path, default=Path("group.mp4"))
    args = parser.parse_args()
    print(side_by_side(args.left, args.right, args.out))


if __name__ == "__main__":
    main()
