"""Two nodes: make some numbers, then sum them up into a small report."""

from __future__ import annotations


def make_numbers(count: int) -> list[int]:
    """The numbers 1 to ``count``."""
    return list(range(1, count + 1))


def summarise(numbers: list[int], factor: int) -> dict[str, int]:
    """How many numbers there are, and their sum times ``factor``."""
    return {"count": len(numbers), "total": sum(numbers) * factor}
