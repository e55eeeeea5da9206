"""The customer's per-frame budget, judged on a run's summary: met, breached (exit 3 under strict) or, with too
few timed frames, not judged (exit 5 under strict)."""

from __future__ import annotations

OVER_BUDGET = 3
NOT_JUDGED = 5


def check_budget(summary: dict, budget_s: float, min_timed_frames: int) -> tuple[int, str | None]:
    """(exit code under strict, a line) when the budget is breached or cannot be judged; (0, None) when it holds.

    With fewer than `min_timed_frames` timed frames (after warm-up) a p95 means
    nothing, so the budget is neither met nor breached: it is not judged.
    Records `budget_s` and `within_budget` in the summary.
    """
    summary["budget_s"] = budget_s
    timed = summary["timed_frames"]
    if timed < min_timed_frames:
        summary["within_budget"] = None
        return NOT_JUDGED, (f"the budget cannot be judged: {timed} timed frame(s) after "
                            f"{summary['warmup_frames_excluded']} warm-up frame(s), min_timed_frames is "
                            f"{min_timed_frames}")
    p95 = summary["latency_ms"]["total"]["p95"]
    summary["within_budget"] = p95 <= budget_s * 1000
    if summary["within_budget"]:
        return 0, None
    stage = max(("detect", "classify"), key=lambda s: summary["latency_ms"][s]["p95"])
    return OVER_BUDGET, (f"p95 frame latency {p95:.1f} ms exceeds the budget of {budget_s * 1000:.1f} ms; "
                         f"slowest stage: {stage} (p95 {summary['latency_ms'][stage]['p95']:.1f} ms)")
