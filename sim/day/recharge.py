"""A recharge point or service window as a queueing station: c positions, a bounded queue.

Citizens arrive, join the queue if it is not too long (else they turn away: balking), wait
for a free position (a SimPy Resource), are served, and leave. The service itself is a
callable run when the service starts; its duration comes from the caller. This one class is
what the city day uses and what the Erlang C validation test measures.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy


@dataclass(slots=True)
class QueueStats:
    waits_s: list[float] = field(default_factory=list)
    served: int = 0
    balked: int = 0
    busy_s: float = 0.0


class ServicePoint:
    """One place with `positions` servers and room for `queue_limit` waiting people."""

    def __init__(self, env: simpy.Environment, name: str, positions: int, queue_limit: int) -> None:
        assert positions >= 1 and queue_limit >= 0
        self.env = env
        self.name = name
        self.positions = positions
        self.queue_limit = queue_limit
        self.resource = simpy.Resource(env, capacity=positions)
        self.stats = QueueStats()
        self._free = list(range(positions - 1, -1, -1))  # the positions nobody is using

    def visit(
        self, service_s: Callable[[int], float], serve: Callable[[int], Any]
    ) -> Generator[simpy.Event, Any, bool]:
        """A SimPy process body: queue, then be served at one of the positions (numbered from 0).
        `serve(position)` runs the transaction; returns False if the citizen balked."""
        if len(self.resource.queue) >= self.queue_limit:
            self.stats.balked += 1
            return False
        arrived = self.env.now
        with self.resource.request() as request:
            yield request
            self.stats.waits_s.append(self.env.now - arrived)
            position = self._free.pop()
            try:
                duration = service_s(position)
                serve(position)
                yield self.env.timeout(duration)
            finally:
                self._free.append(position)
            self.stats.busy_s += duration
            self.stats.served += 1
        return True
