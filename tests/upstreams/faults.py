"""Fault mode for the provider stand-ins: what a real provider does on a bad day, drawn per call and counted.

Off unless a test hands a Faults to a stand-in (`upstream.fault_mode(faults, slow=…)`). Then each API call
(file downloads excepted: they are the provider's CDN) draws from one seeded generator:
- 30 % a 5xx in the provider's own error shape;
- 10 % a timeout: the stand-in waits `slow` seconds (longer than the product's PROVIDER_TIMEOUT) before it
  does the work and answers, so the product has given up on an answer whose work happened anyway;
- 5 % malformed JSON: the answer is cut off half way;
and each nanobanana task (whose callback the stand-in then sends itself) draws 5 % a duplicate or
out-of-order callback (sent before the generate call has answered, then again on time).
A seed makes the sequence of draws reproducible (the threads' interleaving can still reorder who gets
which); `injected` counts each kind and `log` records (stand-in, fault, path) for the test's report.
"""
import random
import threading
from collections import Counter

SERVER_ERROR, TIMEOUT, MALFORMED = "5xx", "timeout", "malformed JSON"
DUPLICATE_CALLBACK, EARLY_CALLBACK = "duplicate callback", "out-of-order callback"
CALL_RATES = ((SERVER_ERROR, 0.30), (TIMEOUT, 0.10), (MALFORMED, 0.05))
CALLBACK_RATE = 0.05


class Faults:
    """One seeded source of faults shared by the stand-ins of a test, with the count of what it injected."""

    def __init__(self, seed: int, call_rates=CALL_RATES, callback_rate: float = CALLBACK_RATE):
        self.seed, self.call_rates, self.callback_rate = seed, call_rates, callback_rate
        self.injected: Counter = Counter()
        self.log: list[tuple[str, str, str]] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def for_call(self, upstream: str, path: str) -> str | None:
        """The fault this API call suffers, or None."""
        with self._lock:
            draw = self._random.random()
        for fault, rate in self.call_rates:
            if draw < rate:
                return self._record(upstream, fault, path)
            draw -= rate
        return None

    def for_callback(self, upstream: str, task_id: str) -> str | None:
        """How this task's completion callback misbehaves, or None."""
        with self._lock:
            draw, early = self._random.random(), self._random.random() < 0.5
        if draw >= self.callback_rate:
            return None
        return self._record(upstream, EARLY_CALLBACK if early else DUPLICATE_CALLBACK, task_id)

    def pick(self, choices):
        """A seeded choice (which 5xx status to answer)."""
        with self._lock:
            return self._random.choice(choices)

    def _record(self, upstream: str, fault: str, where: str) -> str:
        with self._lock:
            self.injected[fault] += 1
            self.log.append((upstream, fault, where))
        return fault


def malformed(payload: bytes) -> bytes:
    """A JSON answer cut off half way, as a dropped connection or a broken proxy leaves it."""
    return payload[: max(1, len(payload) // 2)]
