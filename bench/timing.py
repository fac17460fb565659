"""The one timing helper of the benchmarks."""
import time


def best_of(fn, runs=3, clock=time.perf_counter):
    """(the shortest of ``runs`` timings of ``fn()`` by ``clock``, the last result)."""
    times, out = [], None
    for _ in range(runs):
        start = clock()
        out = fn()
        times.append(clock() - start)
    return min(times), out
