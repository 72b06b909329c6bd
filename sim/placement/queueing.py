"""Queueing theory used to validate the simulation's service points (M/M/c, Erlang C)."""

from __future__ import annotations

import math


def erlang_c_wait_s(arrivals_per_s: float, service_s: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C): Poisson arrivals at rate lambda,
    exponential service of mean `service_s`, c servers, infinite queue. Needs rho < 1."""
    offered = arrivals_per_s * service_s  # a = lambda / mu, in erlangs
    rho = offered / servers
    if not 0 <= rho < 1:
        raise ValueError(f"M/M/{servers}: utilisation {rho:.3f} is not below 1")
    tail = offered**servers / math.factorial(servers) / (1 - rho)
    head = sum(offered**k / math.factorial(k) for k in range(servers))
    p_wait = tail / (head + tail)
    return p_wait / (servers / service_s - arrivals_per_s)
