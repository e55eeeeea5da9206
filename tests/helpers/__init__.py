"""What the tests make: data folders, per-frame records and videos, written where a test says."""
