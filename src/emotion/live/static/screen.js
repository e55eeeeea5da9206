// The live screening page: server-sent events from /events redraw the cameras, the alerts and the timeline.
"use strict";
var WIDTH = 960, EMOTION_H = 220, SCORE_H = 110, PAD = 36, SVG_NS = "http://www.w3.org/2000/svg";
var shownFrame = {};

function el(tag, attributes, text) {
  var node = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function (k) { node.setAttribute(k, attributes[k]); });
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function clock(seconds) {
  var s = Math.max(0, Math.floor(seconds));
  return Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
}

function card(index, camera) {
  var box = document.getElementById("camera-" + index);
  if (box) { return box; }
  box = el("div", {"class": "camera", id: "camera-" + index});
  var title = el("h3", {}, camera.viewer + " ");
  title.appendChild(el("small", {}, camera.source));
  box.appendChild(title);
  box.appendChild(el("img", {alt: camera.viewer + ": latest sample"}));
  box.appendChild(el("div", {"class": "facts"}));
  box.appendChild(el("ul", {"class": "faces"}));
  box.appendChild(el("ul", {"class": "alerts"}));
  document.getElementById("cameras").appendChild(box);
  return box;
}

function showCamera(index, camera) {
  var box = card(index, camera);
  if (camera.preview && shownFrame[index] !== camera.preview) {
    shownFrame[index] = camera.preview;
    box.querySelector("img").src = "/frame/" + index + ".jpg?v=" + camera.preview;
  }
  var facts = box.querySelector(".facts");
  facts.textContent = camera.state + " · faces present: " + camera.faces_present + " · " + camera.fps + " fps · " +
    camera.frames + " frames, " + camera.dropped + " dropped · samples " + camera.samples.classified + "/" +
    camera.samples.due + (camera.lag_s !== null ? " (" + camera.lag_s.toFixed(1) + " s behind)" : "") + " · ";
  if (camera.sound) {
    var level = camera.level_db === null ? -120 : camera.level_db;
    facts.appendChild(document.createTextNode("sound " + (camera.level_db === null ? "-" : level.toFixed(0)) +
                                              " dBFS "));
    var meter = el("span", {"class": "meter"});
    var bar = el("span");
    bar.style.width = Math.max(0, Math.min(100, (level + 60) / 60 * 100)) + "%";
    meter.appendChild(bar);
    facts.appendChild(meter);
  } else {
    facts.appendChild(document.createTextNode("no sound"));
  }
  var faces = box.querySelector(".faces");
  faces.textContent = "";
  camera.faces.forEach(function (f) {
    faces.appendChild(el("li", {}, "#" + (f.id === null ? "?" : f.id) + " " + f.emotion + " " +
                         (100 * f.confidence).toFixed(0) + "%"));
  });
  var alerts = box.querySelector(".alerts");
  alerts.textContent = "";
  camera.alerts.forEach(function (a) { alerts.appendChild(el("li", {}, a)); });
  box.classList.toggle("alerted", camera.alerts.length > 0);
}

function svg(tag, attributes, text) {
  var node = document.createElementNS(SVG_NS, tag);
  Object.keys(attributes).forEach(function (k) { node.setAttribute(k, attributes[k]); });
  if (text !== undefined) { node.textContent = text; }
  return node;
}

function polyline(values, top, height, scale, colour, width) {
  var step = (WIDTH - 2 * PAD) / Math.max(values.length - 1, 1);
  var points = values.map(function (v, i) {
    return (PAD + i * step).toFixed(1) + "," + (top + height - (v === null ? 0 : v) / scale * height).toFixed(1);
  });
  return svg("polyline", {fill: "none", stroke: colour, "stroke-width": width, points: points.join(" ")});
}

function showTimeline(t, marked) {
  var box = document.getElementById("timeline");
  box.textContent = "";
  var note = document.getElementById("timeline-note");
  if (!t) { note.textContent = "No face classified inside the episode yet."; return; }
  note.textContent = t.seconds + " s, " + t.viewers.length + " viewer(s)" +
    (marked ? "" : " · not marked: times count from the screening's start until the episode's start is marked");
  var span = (WIDTH - 2 * PAD) / Math.max(t.seconds - 1, 1), height = EMOTION_H + SCORE_H + 3 * PAD;
  box.setAttribute("viewBox", "0 0 " + WIDTH + " " + height);  // the review page's proportions, time axis included
  t.moments.forEach(function (m) {
    box.appendChild(svg("rect", {"class": "moment-span", x: (PAD + m.start_s * span).toFixed(1), y: PAD / 2,
                                 width: Math.max((m.end_s - m.start_s) * span, 1).toFixed(1), height: height - PAD,
                                 fill: "#ffd27f", opacity: 0.45}));
  });
  var legend = document.getElementById("legend");
  legend.textContent = "";
  t.classes.forEach(function (name, k) {
    var colour = t.colours[name] || "#000";
    box.appendChild(polyline(t.shares.map(function (row) { return row[k]; }), PAD, EMOTION_H, 1, colour, 1.5));
    var item = el("span", {}, name);
    var swatch = el("i");
    swatch.style.background = colour;
    item.insertBefore(swatch, item.firstChild);
    legend.appendChild(item);
  });
  var scoreTop = EMOTION_H + 2 * PAD, top = Math.max.apply(null, t.score.concat([1e-9]));
  box.appendChild(polyline(t.score, scoreTop, SCORE_H, top, "#000", 2));
  box.appendChild(svg("text", {x: PAD, y: PAD - 8, "font-size": 12}, "mean emotion share per second (0-1)"));
  box.appendChild(svg("text", {x: PAD, y: scoreTop - 8, "font-size": 12}, "spectacle score"));
  for (var s = 0; s < t.seconds; s += Math.max(1, Math.floor(t.seconds / 10))) {
    box.appendChild(svg("text", {x: (PAD + s * span).toFixed(1), y: height - 6, "font-size": 11,
                                 "text-anchor": "middle"}, clock(s)));
  }
}

function show(update) {
  document.getElementById("phase").textContent = update.phase;
  document.getElementById("note").textContent = update.note;
  document.getElementById("clock").textContent = (update.clock.marked ? "episode " : "screening ") +
    clock(update.clock.seconds);
  document.getElementById("mark").textContent = update.clock.marked ? "Mark the episode's start again" :
    "Mark the episode's start";
  var alerts = document.getElementById("alerts");
  alerts.textContent = "";
  update.cameras.forEach(function (camera, i) {
    showCamera(i, camera);
    camera.alerts.forEach(function (a) { alerts.appendChild(el("p", {}, camera.viewer + ": " + a)); });
  });
  if ("timeline" in update) { showTimeline(update.timeline, update.clock.marked); }
  document.body.dataset.updates = String(parseInt(document.body.dataset.updates, 10) + 1);
  document.body.dataset.ready = "yes";
}

var events = new EventSource("/events");
events.onmessage = function (message) { show(JSON.parse(message.data)); };
events.onerror = function () { document.getElementById("phase").textContent = "disconnected (the screening ended?)"; };

document.getElementById("mark").addEventListener("click", function () { fetch("/mark", {method: "POST"}); });
var stopButton = document.getElementById("stop");
stopButton.addEventListener("click", function () {
  if (!stopButton.classList.contains("armed")) {  // a second click within 5 s stops: one stray click does not
    stopButton.classList.add("armed");
    stopButton.textContent = "Click again to stop";
    setTimeout(function () { stopButton.classList.remove("armed"); stopButton.textContent = "Stop the screening"; },
               5000);
    return;
  }
  stopButton.disabled = true;
  stopButton.textContent = "Stopping…";
  fetch("/stop", {method: "POST"});
});
