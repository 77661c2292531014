"""Sliding windows of 1-second buckets, as the in-process backend keeps them (the Lua mirrors this)."""

from __future__ import annotations


def window_sum(buckets: dict[int, int], second: int, window_s: int) -> int:
    """Drop buckets that left the window; return the sum of the rest."""
    floor = second - window_s
    for old in [s for s in buckets if s <= floor]:
        del buckets[old]
    return sum(buckets.values())


def wait_until_free(buckets: dict[int, int], need: int, now: float, window_s: int) -> float:
    """Seconds until ``need`` units have left the window (oldest buckets leave first)."""
    freed = 0
    for second in sorted(buckets):
        freed += buckets[second]
        if freed >= need:
            return max(0.001, second + window_s - now)
    return float(window_s)


def reset_after(buckets: dict[int, int], now: float, window_s: int) -> float:
    """Seconds until the whole window is empty again (the x-ratelimit-reset-* value)."""
    return max(0.0, max(buckets) + window_s - now) if buckets else 0.0
