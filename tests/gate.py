"""A test-only provider whose runs wait at a gate the test opens, so "the job is still busy" never depends on speed.

A run reports its progress, announces itself on a Redis list (with its process id, so a test
knows which work horse is busy) and then waits for a token on another list. It waits in short
BLPOPs, so RQ's job-timeout alarm can still interrupt it. Each token the test pushes lets one
run through, into the local engine's real work on the photo.
"""
import os
import time

from app.extensions import db, redis_queues
from app.generations.models import Generation
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.providers.local import LocalProvider
from tests.factories import make_image
from tests.processes import HANG_GUARD

OPEN_KEY = "stagecraft:test-gate:open"
ENTERED_KEY = "stagecraft:test-gate:entered"
# One BLPOP; short, so a waiting run keeps returning to Python, where the job-timeout alarm is raised.
WAIT_SECONDS = 0.2


class GateProvider(LocalProvider):
    """The local engine, except that each run first waits until the test opens the gate."""

    name = "gate"

    def run(self, request, report, remember=None):
        report(0, 1, "Waiting at the gate")
        connection = redis_queues.connection
        connection.rpush(ENTERED_KEY, os.getpid())
        while connection.blpop([OPEN_KEY], timeout=WAIT_SECONDS) is None:
            pass
        return super().run(request, report)


class Gate:
    """The test's side of the gate (needs an app context, like the jobs it controls)."""

    def queue_generation(self, project) -> Generation:
        """A committed (and so queued) enhance of a small photo that the gate provider will run."""
        image = make_image(project)
        spec = GenerationSpec(preset="enhance", references=[image.id], provider=GateProvider.name)
        generation = create_generation(project, spec)
        db.session.commit()
        return generation

    def wait_until_entered(self) -> int:
        """The process id of the next run to reach the gate, however long the worker takes to start."""
        deadline = time.monotonic() + HANG_GUARD
        # Short blocking pops: the Redis client gives up on a socket read after 5 s by default.
        while (entered := redis_queues.connection.blpop([ENTERED_KEY], timeout=1)) is None:
            assert time.monotonic() < deadline, f"no job reached the gate within {HANG_GUARD} s"
        return int(entered[1])

    def entered(self) -> list[int]:
        """Process ids of the runs that reached the gate and were not waited for yet."""
        return [int(pid) for pid in redis_queues.connection.lrange(ENTERED_KEY, 0, -1)]

    def open(self, runs: int = 1) -> None:
        """Let the next `runs` runs through (now, or when they reach the gate)."""
        redis_queues.connection.rpush(OPEN_KEY, *["open"] * runs)
