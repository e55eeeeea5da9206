"""A live screening of N cameras on this machine: does classification keep up, does recording drop frames?

    python experiments/bench_screen.py [--cameras 1 2 4] [--seconds 60] [--model URI --tracking-uri URI]

N copies of a recorded clip are played as real-time cameras (paced at their frame rate, through a ring of 4
frames that drops what the recorder does not take in time, as a camera driver does) into `python -m
emotion.screen stage=record`, with the default detector and engine. The clip is WolfgangLanger_Pexels.mp4
(640x360, 23.98 fps, one face) repeated to `--seconds`, with a made-up soundtrack (its own is digital silence).
Without `--model`, the model is the FER+ recipe's compact network with random weights (speed does not depend on
them), exported to LiteRT int8 as `python -m emotion.export` does and registered in a store of its own.

Per N, from the page's event stream (/events) and the run's live/summary.json: the samples classified per second
over the live window against the samples due (N x fps), samples missed, how far classification lagged (p95),
frames recorded and dropped, the process's CPU share of the machine's cores over the window, and the page's
update delay (from a sample's capture to the page receiving it: p50 / p95).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from emotion.core.process import cores, cpu_name

CLIP = "../shared/media/WolfgangLanger_Pexels.mp4"
SOUND_RATE = 48000


def long_clip(source: Path, seconds: float, out: Path) -> Path:
    """`source`'s video packets repeated with shifted times (nothing re-encoded) and a made-up soundtrack."""
    if out.is_file():
        return out
    with av.open(str(source)) as clip:
        stream = clip.streams.video[0]
        packets = [(p.pts, p.dts, p.is_keyframe, bytes(p)) for p in clip.demux(stream) if p.size]
        rate, time_base = stream.average_rate, stream.time_base
        length = max(p[0] for p in packets) + round(1 / (rate * time_base))
        rng = np.random.default_rng(0)
        sound = rng.normal(0, 0.05, int(seconds * SOUND_RATE)).astype(np.float32)
        for start in rng.integers(0, len(sound) - SOUND_RATE, int(seconds)):  # a burst a second: speech, laughter
            sound[start:start + SOUND_RATE // 4] *= 8
        with av.open(str(out), "w") as container:
            copy = container.add_stream_from_template(stream)
            audio = container.add_stream("aac", rate=SOUND_RATE, layout="mono")
            for r in range(int(np.ceil(seconds / float(length * time_base)))):
                for pts, dts, key, data in packets:
                    packet = av.Packet(data)
                    packet.pts, packet.dts, packet.time_base = pts + r * length, dts + r * length, time_base
                    packet.is_keyframe, packet.stream = key, copy
                    container.mux(packet)
            for start in range(0, len(sound), 1024):
                frame = av.AudioFrame.from_ndarray(np.clip(sound[None, start:start + 1024], -1, 1), format="fltp",
                                                   layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = SOUND_RATE, start, Fraction(1, SOUND_RATE)
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return out


def random_model(work: Path, clip: Path) -> tuple[str, str]:
    """(tracking URI, model URI) of the FER+ compact network with random weights, registered with its LiteRT int8
    export (what emotion.export leaves), so that the screen's default engine (auto) runs it on LiteRT."""
    work = work.resolve()
    store = f"sqlite:///{work / 'mlflow.db'}"
    if (work / "model.txt").is_file():
        return store, (work / "model.txt").read_text().strip()
    import cv2
    import mlflow

    from emotion.core.config import build, compose_config
    from emotion.core.images import model_batch
    from emotion.deploy.convert import convert
    from emotion.inference.detectors import square_crop
    from emotion.inference.litert import artifact_path
    from emotion.model.assemble import build_model
    from emotion.tracking.registry import log_model

    cfg = compose_config("train", ["experiment=ferplus_cpu", "runtime.precision=float32"])
    model, _ = build_model(cfg.backbone, cfg.head, 9, cfg.paths.cache_dir)
    detector = build(compose_config("infer", []).detector, "detector")
    capture, crops = cv2.VideoCapture(str(clip)), []
    while len(crops) < 100:
        ok, frame = capture.read()
        if not ok:
            break
        crops += [square_crop(frame, found.box, 0.1)[0] for found in detector(frame)]
    mlflow.set_tracking_uri(store)
    experiment = mlflow.create_experiment("bench_screen", artifact_location=(work / "mlruns").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        version = log_model(model, list(cfg.data.classes), "bench-screen", cfg.backbone.input_size,
                            cfg.backbone.preprocessing, "random weights")
        tflite = work / "int8.tflite"
        tflite.write_bytes(convert(model, "int8", model_batch(crops, cfg.backbone.input_size)))
        mlflow.log_artifact(str(tflite), Path(artifact_path("int8")).parent.as_posix())
        mlflow.set_tag("litert.variants", "int8")
    uri = f"models:/bench-screen/{version}"
    (work / "model.txt").write_text(uri)
    return store, uri


class Listener(threading.Thread):
    """The page's event stream, as a browser receives it: (arrival time, update) pairs."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.updates = url, []

    def run(self) -> None:
        host, port = re.match(r"http://([^:/]+):(\d+)/", self.url).groups()
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", "/events")
        response = connection.getresponse()
        try:
            for line in response:
                if line.startswith(b"data: "):
                    self.updates.append((time.time(), json.loads(line[6:])))
        except (OSError, http.client.HTTPException):
            return


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def screen(n: int, clip: Path, seconds: float, fps: float, store: str, model: str, work: Path) -> dict:
    out = work / f"run-{n}"
    command = [sys.executable, "-m", "emotion.screen", f"sources=[{','.join([str(clip)] * n)}]",
               f"names=[{','.join(f'cam{i + 1}' for i in range(n))}]", "stage=record", f"max_s={seconds}",
               f"fps={fps}", "page.port=0", f"model={model}", f"tracking.uri={store}", f"output_dir={out}",
               f"hydra.run.dir={work / 'hydra' / str(n)}"]
    run = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(run.stderr), daemon=True).start()
    while not any("the page: " in line for line in lines):
        if run.poll() is not None:
            raise SystemExit(f"error: emotion.screen with {n} cameras failed: {''.join(lines)[-2000:]}")
        time.sleep(0.1)
    listener = Listener(next(line for line in lines if "the page: " in line).split("the page: ")[1].strip())
    listener.start()
    cpu = []
    while run.poll() is None:
        cpu.append((time.time(), cpu_seconds(run.pid)))
        time.sleep(1)
        if listener.updates and listener.updates[-1][1]["phase"] != "live":
            break
    run.wait()
    summary = json.loads((out / "live" / "summary.json").read_text())
    live = [(t, u) for t, u in listener.updates if u["phase"] == "live" and all(c["frames"] for c in u["cameras"])]
    (t0, first), (t1, last) = live[0], live[-1]
    window = t1 - t0
    classified = sum(c["samples"]["classified"] for c in last["cameras"]) - sum(
        c["samples"]["classified"] for c in first["cameras"])
    delays, seen = [], set()
    for t, update in live:
        for c in update["cameras"]:
            if c["sample_wall"] and (c["viewer"], c["sample_wall"]) not in seen:
                seen.add((c["viewer"], c["sample_wall"]))
                delays.append(t - c["sample_wall"])
    lags = [c["lag_s"] for _, u in live for c in u["cameras"] if c["lag_s"] is not None]
    inside = [(t, s) for t, s in cpu if t0 <= t <= t1]
    share = (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]) / os.cpu_count()
    cameras = summary["cameras"]
    return {"cameras": n, "due_per_s": round(n * fps, 2), "classified_per_s": round(classified / window, 2),
            "due": sum(c["samples_due"] for c in cameras), "classified": sum(c["samples_classified"] for c in cameras),
            "missed": sum(c["samples_missed"] for c in cameras), "lag_p95_s": round(float(np.percentile(lags, 95)), 2),
            "frames": sum(c["frames"] for c in cameras), "dropped": sum(c["dropped"] for c in cameras),
            "cpu_share": round(share, 3), "delay_p50_s": round(float(np.percentile(delays, 50)), 3),
            "delay_p95_s": round(float(np.percentile(delays, 95)), 3), "window_s": round(window, 1),
            "exit_code": run.returncode}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--fps", type=float, default=3)
    parser.add_argument("--clip", type=Path, default=Path(CLIP))
    parser.add_argument("--model", help="a model URI (default: the FER+ compact network, random weights, int8)")
    parser.add_argument("--tracking-uri", help="the store that holds --model")
    parser.add_argument("--work", type=Path, default=Path(".cache/bench_screen"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    clip = long_clip(args.clip, args.seconds + 10, args.work / f"clip{round(args.seconds + 10)}.mp4")
    store, model = (args.tracking_uri, args.model) if args.model else random_model(args.work, args.clip)
    rows = [screen(n, clip, args.seconds, args.fps, store, model, args.work) for n in args.cameras]
    print(f"{cpu_name()}, {cores()} cores\n")
    print("| cameras | samples due /s | classified /s | due / classified / missed | lag p95 s | frames recorded "
          "| dropped | CPU share | page delay p50 / p95 s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['cameras']} | {r['due_per_s']} | {r['classified_per_s']} | {r['due']} / {r['classified']} / "
              f"{r['missed']} | {r['lag_p95_s']} | {r['frames']} | {r['dropped']} | {r['cpu_share']:.0%} | "
              f"{r['delay_p50_s']} / {r['delay_p95_s']} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
