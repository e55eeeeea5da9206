"""Live screening: several cameras recorded in segments and classified as they are captured, the live state and
the page that shows it, and the end of a screening (segments joined, per-frame records kept for moments)."""
