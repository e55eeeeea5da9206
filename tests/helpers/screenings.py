"""A screening with recordings that needs no model: each recording's frames say their own index (`numbered`), its
per-frame record is written as the classifier would have, the manifest places it, and `stage=score` scores it."""

from emotion.moments import moments

from conftest import make_cfg
from helpers.files import write_viewer
from helpers.media import episode, numbered, write_video

EPISODE_FPS, RECORDING_FPS = 25, 5
SIZE = (96, 96)  # the record's face box, (10, 10, 50, 50), lies inside


def recording(path, seconds: float, fps: int = RECORDING_FPS):
    """A camera's recording of numbered frames: frame k, shown at k / fps, is `numbered(k % 256)`."""
    n = int(seconds * fps)
    return write_video(path, [numbered(i % 256, SIZE) for i in range(n)], [i / fps for i in range(n)], rate=fps)


def recorded_screening(folder, bursts, offsets=(0.0, 2.0), seconds: int = 40, overrides=()) -> dict:
    """Screen a `seconds` long episode with one recording per offset (cam0, cam1, ..., each starting that many
    seconds into the episode) whose viewer reacts in `bursts` [(start, end, emotion)] of episode time; returns
    moments' result, with output_dir `folder/out`."""
    source = episode(folder / "episode.mp4", seconds=seconds, rate=EPISODE_FPS, tone_hz=330)
    records = folder / "frames"
    records.mkdir()
    rows = ["viewer,path,offset_s"]
    for i, offset in enumerate(offsets):
        name = f"cam{i}"
        recording(folder / f"{name}.mp4", seconds - offset)
        write_viewer(records / f"{name}.csv", int(seconds - offset),
                     [(start - offset, end - offset, emotion) for start, end, emotion in bursts], seed=i)
        rows.append(f"{name},{name}.mp4,{offset}")
    (folder / "viewers.csv").write_text("\n".join(rows) + "\n")
    return moments(make_cfg(["stage=score", f"frames_dir={records}", f"manifest={folder / 'viewers.csv'}",
                             f"episode={source}", f"output_dir={folder / 'out'}",
                             f"tracking.uri=sqlite:///{folder}/mlflow.db", "shots=none", *overrides],
                            config_name="moments"))
