"""Scoring an episode from its viewers' emotions: per second, per viewer, then together; the top moments.

Per viewer and second of the episode: mean emotion probabilities and face
share, normalised against the viewer's own baseline and strongest reactions,
so one very expressive viewer cannot dominate. The spectacle score per second
weighs the emotions, multiplies by the share of viewers reacting together and
is smoothed; the top non-overlapping segments are the moments.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from omegaconf import DictConfig


def per_second(times: np.ndarray, probabilities: np.ndarray, duration_s: int):
    """Per episode second: mean probabilities over samples with the face (NaN if none), face share."""
    k = probabilities.shape[1]
    sums, faces, samples = np.zeros((duration_s, k)), np.zeros(duration_s), np.zeros(duration_s)
    seconds = np.floor(times).astype(int)
    inside = (seconds >= 0) & (seconds < duration_s)
    for s, p in zip(seconds[inside], probabilities[inside]):
        samples[s] += 1
        if not np.isnan(p).any():
            sums[s] += p
            faces[s] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(faces[:, None] > 0, sums / np.maximum(faces, 1)[:, None], np.nan)
        share = np.where(samples > 0, faces / np.maximum(samples, 1), 0.0)
    return means, share


def reactions(means: np.ndarray, weights: np.ndarray, baseline_quantile: float, noise_floor: float,
              scale_quantile: float) -> np.ndarray:
    """A viewer's reaction per second in [0, 1].

    The weighted rise of each emotion above the viewer's own baseline (a
    quantile of their per-second probabilities over the episode), less a noise
    floor, divided by the viewer's own strongest reactions (a high quantile):
    an expressive viewer weighs no more than a quiet one.
    """
    present = ~np.isnan(means).any(axis=1)
    reaction = np.full(len(means), np.nan)
    if not present.any():
        return reaction
    baseline = np.quantile(means[present], baseline_quantile, axis=0)
    rise = np.clip((np.clip(means[present] - baseline, 0, None) * weights).sum(axis=1) - noise_floor, 0, None)
    scale = np.quantile(rise, scale_quantile)
    reaction[present] = np.clip(rise / scale, 0, 1) if scale > 1e-9 else 0.0
    return reaction


def spectacle(reaction: np.ndarray, react_threshold: float, together_power: float, smooth_s: int):
    """Per second: mean reaction of present viewers times the share of them reacting, smoothed."""
    present = ~np.isnan(reaction)
    count = present.sum(axis=0)
    with np.errstate(invalid="ignore"):
        mean = np.where(count > 0, np.nansum(reaction, axis=0) / np.maximum(count, 1), 0.0)
        together = np.where(count > 0, (np.nan_to_num(reaction) > react_threshold).sum(axis=0) / np.maximum(count, 1),
                            0.0)
    score = mean * together ** together_power
    window = min(int(smooth_s), len(score))  # an episode shorter than the window is smoothed over its length
    if window > 1:
        score = np.convolve(score, np.ones(window) / window, mode="same")
    return score, count


def select_moments(score: np.ndarray, cfg: DictConfig, duration_s: float) -> list[dict]:
    """Top non-overlapping segments, grown around peaks while the score stays above `keep` x peak.

    Each is at least `min_len_s` and at most `max_len_s`, at least `min_gap_s`
    from the others, shifted `reaction_lag_s` earlier (viewers react after what
    they see), clamped to the episode, within `budget_s` in total; returned in
    story order.
    """
    free = np.ones(len(score), dtype=bool)
    chosen, total = [], 0.0
    while len(chosen) < cfg.top_k:
        candidates = np.where(free, score, -np.inf)
        peak = int(np.argmax(candidates))
        if not np.isfinite(candidates[peak]) or candidates[peak] <= cfg.min_score:
            break
        floor = cfg.keep * score[peak]
        start = end = peak
        while start > 0 and free[start - 1] and score[start - 1] >= floor and end - start + 1 < cfg.max_len_s:
            start -= 1
        while end + 1 < len(score) and free[end + 1] and score[end + 1] >= floor and end - start + 1 < cfg.max_len_s:
            end += 1
        while end - start + 1 < cfg.min_len_s:
            right = end + 1 < len(score) and free[end + 1]
            left = start > 0 and free[start - 1]
            if not (left or right):
                break
            if right and (not left or score[end + 1] >= score[start - 1]):
                end += 1
            else:
                start -= 1
        if end - start + 1 < cfg.min_len_s:  # squeezed between chosen segments
            free[start:end + 1] = False
            continue
        free[max(0, start - cfg.min_gap_s):end + 1 + cfg.min_gap_s] = False
        length = min(end + 1 - start, float(duration_s))
        begin_s = min(max(0.0, start - cfg.reaction_lag_s), float(duration_s) - length)
        end_s = begin_s + length
        if end_s - begin_s <= 0:
            continue
        if total + (end_s - begin_s) > cfg.budget_s:
            end_s = begin_s + (cfg.budget_s - total)
            if end_s - begin_s < cfg.min_len_s:
                break
        total += end_s - begin_s
        chosen.append({"start_s": round(begin_s, 3), "end_s": round(end_s, 3), "peak_s": peak,
                       "score": round(float(score[start:end + 1].mean()), 4)})
    return without_overlaps(sorted(chosen, key=lambda m: m["start_s"]))


def without_overlaps(moments: list[dict]) -> list[dict]:
    """Story-ordered segments trimmed so that none repeats another's footage.

    Segments apart in score time can meet once shifted by the reaction lag:
    one that the episode's start stopped short of its lag starts later than
    its neighbour's shift assumed.
    """
    kept: list[dict] = []
    for m in moments:
        if kept and m["start_s"] < kept[-1]["end_s"]:
            m["start_s"] = kept[-1]["end_s"]
        if m["end_s"] > m["start_s"]:
            kept.append(m)
    return kept


def score_episode(viewers: dict, classes: list[str], duration_s: float, cfg: DictConfig):
    """(timeline, moments, viewers used, [{viewer, reason} left out]) for viewers {name: (times, probabilities)},
    scored as the `scoring` group `cfg` says.

    The timeline has, per second: the cross-viewer mean of each emotion, the score and the viewers present.
    """
    n_seconds = max(1, math.ceil(duration_s))
    weights = np.array([float(cfg.weights.get(c, 0.0)) for c in classes])
    all_means, all_reactions, used, left = [], [], [], []
    for viewer, (times, probabilities) in viewers.items():
        if not len(times) or times.max() < 0 or times.min() >= duration_s:
            left.append({"viewer": viewer, "reason": "the recording lies outside the episode (offset?)"})
            continue
        means, share = per_second(times, probabilities, n_seconds)
        if not (share > 0).any():
            left.append({"viewer": viewer, "reason": "no face inside the episode"})
            continue
        all_means.append(means)
        all_reactions.append(reactions(means, weights, cfg.baseline_quantile, cfg.noise_floor, cfg.scale_quantile))
        used.append(viewer)
    if not used:
        return None, [], used, left
    score, present = spectacle(np.stack(all_reactions), cfg.react_threshold, cfg.together_power, cfg.smooth_s)
    chosen = select_moments(score, cfg.segments, duration_s)
    stacked = np.stack(all_means)
    with warnings.catch_warnings():  # seconds where no viewer has a face stay empty
        warnings.simplefilter("ignore", RuntimeWarning)
        mean_shares = np.nanmean(stacked, axis=0)
    reacting = np.nan_to_num(np.stack(all_reactions)) > cfg.react_threshold
    lag = cfg.segments.reaction_lag_s
    for m in chosen:
        window = slice(int(m["start_s"] + lag), int(math.ceil(m["end_s"] + lag)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            shares = np.nan_to_num(np.nanmean(stacked[:, window], axis=(0, 1))) * weights
        m["dominant_emotion"] = classes[int(np.argmax(shares))] if shares.sum() > 0 else None
        who = reacting[:, window].any(axis=1)
        m["viewers_reacting"] = int(who.sum())
        m["reacting"] = [v for v, r in zip(used, who) if r]
    timeline = {"shares": mean_shares, "score": score, "present": present}
    return timeline, chosen, used, left
