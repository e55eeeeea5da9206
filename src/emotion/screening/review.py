"""The review page, what the people who choose trailers look at, and where they change the moments.

`report.html` is one self-contained file (opens from disk: no server, no
internet): the per-second timeline of every emotion and of the score as inline
SVG, each moment with a strip of thumbnails from the episode, its time range,
score, dominant emotion and the faces of the viewers reacting (the evidence),
and a player for the trailer (embedded when small enough). Clicking a moment
plays it in the trailer. Each moment can be kept or dropped and its edges
nudged; the page then hands out the edited moments.json (the one it was made
with, embedded), which `stage=cut` cuts again.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import cv2
import numpy as np

from emotion.core.outputs import json_text, write_text

COLOURS = {"anger": "#d62728", "contempt": "#8c564b", "disgust": "#2ca02c", "fear": "#9467bd", "happy": "#ff7f0e",
           "neutral": "#7f7f7f", "sad": "#1f77b4", "surprise": "#e377c2", "uncertain": "#bcbd22"}
WIDTH, EMOTION_H, SCORE_H, PAD = 960, 220, 110, 36


def _polyline(values: np.ndarray, top: float, height: float, scale: float, colour: str, width: float = 1.5) -> str:
    x = PAD + np.arange(len(values)) * (WIDTH - 2 * PAD) / max(len(values) - 1, 1)
    y = top + height - np.nan_to_num(values) / scale * height
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
    return f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" points="{points}"/>'


def timeline_svg(shares: np.ndarray, classes: list[str], score: np.ndarray, moments: list[dict],
                 shots: list[float] | None = None) -> str:
    seconds = len(score)
    span = (WIDTH - 2 * PAD) / max(seconds - 1, 1)
    height = EMOTION_H + SCORE_H + 3 * PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="timeline of emotions and score">']
    for i, m in enumerate(moments):
        x = PAD + m["start_s"] * span
        parts.append(f'<rect class="moment-span" data-moment="{i}" x="{x:.1f}" y="{PAD / 2}" '
                     f'width="{max((m["end_s"] - m["start_s"]) * span, 1):.1f}" height="{height - PAD}" '
                     f'fill="#ffd27f" opacity="0.45"/>')
    for t in shots or []:
        parts.append(f'<line class="shot-cut" x1="{PAD + t * span:.1f}" x2="{PAD + t * span:.1f}" y1="{PAD / 2}" '
                     f'y2="{height - PAD / 2}" stroke="#999" stroke-width="0.8" stroke-dasharray="3,3"/>')
    for k, name in enumerate(classes):
        parts.append(_polyline(shares[:, k], PAD, EMOTION_H, 1.0, COLOURS.get(name, "#000")))
    score_top = EMOTION_H + 2 * PAD
    parts.append(_polyline(score, score_top, SCORE_H, max(float(np.nanmax(score)), 1e-9), "#000", 2.0))
    parts.append(f'<text x="{PAD}" y="{PAD - 8}" font-size="12">mean emotion share per second (0-1)</text>')
    parts.append(f'<text x="{PAD}" y="{score_top - 8}" font-size="12">spectacle score</text>')
    for t in range(0, seconds, max(1, seconds // 10)):
        parts.append(f'<text x="{PAD + t * span:.1f}" y="{height - 6}" font-size="11" text-anchor="middle">'
                     f'{t // 60}:{t % 60:02d}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _jpeg(image: np.ndarray) -> str:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode() if ok else ""


def _on_cuts(moment: dict) -> str:
    if "snapped" not in moment:
        return ""
    return f' &middot; <b>on shot cuts</b> {" and ".join(moment["snapped"]) or "neither edge"}'


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{seconds % 60:05.2f}"


def _faces(moment: dict) -> str:
    """The evidence: each reacting viewer's face and emotion at the peak; those without one, grouped by why."""
    shown, why = [], {}
    for e in moment.get("evidence", []):
        crop = Path(e["crop"]) if "crop" in e else None
        if crop is not None and crop.is_file():
            shown.append(f'<figure><img alt="{html.escape(e["viewer"])}" src="data:image/jpeg;base64,'
                         f'{base64.b64encode(crop.read_bytes()).decode()}"><figcaption>{html.escape(e["viewer"])}: '
                         f'{html.escape(e["emotion"])} ({e["confidence"]:.2f})</figcaption></figure>')
        else:
            why.setdefault(e.get("missing") or f"crop not found: {crop}", []).append(e["viewer"])
    notes = "".join(f'<p class="no-face">No face shown for {html.escape(", ".join(viewers))}: {html.escape(reason)}'
                    "</p>" for reason, viewers in why.items())
    return f'<div class="faces">{"".join(shown)}</div>{notes}' if shown or notes else ""


def _editor(moment: dict, episode_s: float) -> str:
    """Keep or drop the moment; its edges in seconds."""
    edges = " ".join(f'<label>{edge} <input type="number" class="{edge}" step="0.1" min="0" max="{episode_s}" '
                     f'value="{moment[edge + "_s"]}"> s</label>' for edge in ("start", "end"))
    return f'<div class="edit"><label><input type="checkbox" class="keep" checked> keep</label> {edges}</div>'


EDITING = """
var doc = JSON.parse(document.getElementById("moments-json").textContent);
function edited() {
  var kept = [];
  document.querySelectorAll(".moment").forEach(function (card) {
    if (!card.querySelector(".keep").checked) { return; }
    var m = Object.assign({}, doc.moments[parseInt(card.dataset.index, 10)]);
    m.start_s = parseFloat(card.querySelector(".start").value);
    m.end_s = parseFloat(card.querySelector(".end").value);
    kept.push(m);
  });
  return Object.assign({}, doc, {moments: kept});
}
function summarise() {
  var kept = edited().moments, total = 0;
  kept.forEach(function (m) { total += m.end_s - m.start_s; });
  document.getElementById("kept").textContent = kept.length + " of " + doc.moments.length + " moments kept, " +
    total.toFixed(1) + " s";
}
document.querySelectorAll(".edit").forEach(function (panel) {
  panel.addEventListener("click", function (event) { event.stopPropagation(); });
  panel.addEventListener("input", summarise);
});
var button = document.getElementById("download");
if (button) {
  button.addEventListener("click", function () {
    var blob = new Blob([JSON.stringify(edited(), null, 1) + "\\n"], {type: "application/json"});
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "moments-edited.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
  summarise();
}
"""


def write_report(path: Path, timeline: dict, classes: list[str], result: dict, thumbnails: list[list],
                 trailer: Path | None, embed_trailer_mb: float) -> Path:
    """The review page of `result` (what moments.json holds: the moments, the shots, why none stood out);
    `thumbnails[i]` are the BGR frames shown for moment i."""
    moments, shots = result["moments"], result.get("shots")
    legend = "".join(f'<span class="key" style="border-color:{COLOURS.get(c, "#000")}">{html.escape(c)}</span>'
                     for c in classes)
    offsets = np.cumsum([0.0] + [m["end_s"] - m["start_s"] for m in moments])
    cards = []
    for i, m in enumerate(moments):
        strip = "".join(f'<img alt="frame of moment {i + 1}" src="{_jpeg(frame)}">' for frame in thumbnails[i])
        who = ", ".join(html.escape(v) for v in m.get("reacting", [])) or "none"
        cards.append(
            f'<section class="moment" id="moment-{i + 1}" data-index="{i}" data-offset="{offsets[i]:.3f}">'
            f'<h3>Moment {i + 1}: {_clock(m["start_s"])} to {_clock(m["end_s"])}</h3>'
            f'<p><b>score</b> {m["score"]:.3f} &middot; <b>dominant emotion</b> '
            f'{html.escape(str(m.get("dominant_emotion") or "none"))} &middot; <b>viewers reacting</b> '
            f'{m.get("viewers_reacting", 0)} ({who}){_on_cuts(m)}</p><div class="strip">{strip}</div>'
            f'{_faces(m)}{_editor(m, result.get("episode_s", 0))}</section>')
    player = ("<p>No trailer: no moment stood out.</p>" if not moments else
              "<p>No trailer: no episode video was given.</p>")
    if trailer is not None and trailer.is_file():
        small = trailer.stat().st_size <= embed_trailer_mb * 2**20
        source = ("data:video/mp4;base64," + base64.b64encode(trailer.read_bytes()).decode()) if small \
            else html.escape(trailer.name)
        player = f'<video id="trailer" controls preload="metadata" src="{source}"></video>'
    summary = {"moments": len(moments), "trailer_s": float(offsets[-1])}
    edit = ('<p id="edit"><button id="download" type="button">Download the edited moments.json</button> '
            '<span id="kept"></span>: untick a moment to drop it, move its edges, then cut it again with '
            '<code>python -m emotion.moments stage=cut moments_json=moments-edited.json episode=... '
            'output_dir=...</code></p>') if moments else ""
    # Inside <script> only "</" could end the element early: "<" is escaped the way JSON allows.
    document = json_text(result, "the review page's moments").replace("<", "\\u003c")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Trailer moments</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}
svg {{ width: 100%; height: auto; border: 1px solid #ddd; }}
.key {{ border-left: 14px solid; padding: 0 8px 0 4px; margin-right: 6px; font-size: 13px; }}
.moment {{ border: 1px solid #ddd; border-radius: 6px; padding: 0.5em 1em; margin: 1em 0; cursor: pointer; }}
.moment:hover {{ background: #fff7e6; }}
.strip img {{ height: 90px; margin-right: 4px; }}
.faces figure {{ display: inline-block; margin: 0 8px 0 0; font-size: 12px; text-align: center; }}
.no-face {{ font-size: 13px; color: #666; }}
.edit input[type=number] {{ width: 6em; }}
video {{ width: 100%; max-height: 480px; background: #000; }}
</style></head>
<body>
<h1>Trailer moments</h1>
<p id="summary" data-summary='{json.dumps(summary)}'>{len(moments)} moments, trailer {offsets[-1]:.1f} s.
Click a moment to play it in the trailer.</p>
<h2>Timeline</h2><p>{legend}</p>
{timeline_svg(timeline["shares"], classes, timeline["score"], moments, shots)}
{f"<p id='shots'>{len(shots) + 1} shots (dashed: the cuts between them); moments start and end on them where "
 "the segment rules allow.</p>" if shots is not None else ""}
<h2>Trailer</h2>{player}
<h2>Moments</h2>{edit}{"".join(cards) or
                       f'<p id="nothing">No moment stood out: {html.escape(result.get("reason") or "")}</p>'}
<script type="application/json" id="moments-json">{document}</script>
<script>
document.querySelectorAll(".moment").forEach(function (card) {{
  card.addEventListener("click", function () {{
    var video = document.getElementById("trailer");
    if (video) {{ video.currentTime = parseFloat(card.dataset.offset); video.play().catch(function () {{}}); }}
  }});
}});
{EDITING}
document.body.dataset.ready = "yes";
</script>
</body></html>
"""
    return write_text(path, page)
