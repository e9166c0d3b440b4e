"""Fault injection: make the next N matching requests fail, stall or lose their connection."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["401", "429", "500", "503", "drop", "slow"]
FaultPhase = Literal["before", "after"]
FAULT_KINDS: tuple[str, ...] = ("401", "429", "500", "503", "drop", "slow")


@dataclass
class Fault:
    """One armed fault and how many more requests it will hit.

    ``kind``:
      - ``"429"``, ``"500"``, ``"503"``: answer that status with an Azure error body (and
        ``Retry-After`` when ``retry_after`` is set) instead of handling the request;
      - ``"401"``: answer as Azure Resource Manager does for an expired token
        (``ExpiredAuthenticationToken``, with a ``WWW-Authenticate`` challenge);
      - ``"drop"``: close the connection without any answer. With ``phase="before"`` the
        request is not handled; with ``phase="after"`` it is handled (state changes) and the
        answer is lost, as when a network link fails on the way back;
      - ``"slow"``: wait ``delay`` seconds, then handle and answer as usual.
    """

    kind: str
    method: str | None
    path_regex: str | None
    remaining: int
    retry_after: float | None = None
    delay: float = 0.0
    phase: str = "before"
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request with ``method`` and decoded ``path``."""
        if self.remaining <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path_regex and not re.search(self.path_regex, path))


class FaultInjector:
    """Thread-safe set of armed faults; each request takes at most one (the oldest that matches)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(
        self,
        *,
        kind: FaultKind,
        method: str | None = None,
        path_regex: str | None = None,
        count: int = 1,
        retry_after: float | None = None,
        delay: float = 0.0,
        phase: FaultPhase = "before",
    ) -> Fault:
        """Arm a fault for the next ``count`` requests matching ``method`` and ``path_regex``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if kind == "slow" and delay <= 0:
            raise ValueError("a 'slow' fault needs delay > 0 seconds")
        if phase not in ("before", "after"):
            raise ValueError(f"phase must be 'before' or 'after', got {phase!r}")
        if path_regex is not None:
            try:
                re.compile(path_regex)
            except re.error as error:
                raise ValueError(
                    f"path_regex {path_regex!r} is not a regular expression"
                ) from error
        fault = Fault(
            kind=kind,
            method=method,
            path_regex=path_regex,
            remaining=count,
            retry_after=retry_after,
            delay=delay,
            phase=phase,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one hit of the first armed fault matching this request, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    fault.fired += 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """Faults that have hits left."""
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()
