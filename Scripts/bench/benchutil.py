"""Helpers shared by the benchmark scripts."""
import time


def cpu_busy_fraction(seconds=1.0):
    """Share of all CPU time that was busy over a short interval (from /proc/stat): benchmarks print
    it before and after, since two BLAS threads collapse when another process is busy."""
    def snap():
        v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = snap()
    time.sleep(seconds)
    t1, i1 = snap()
    return 1 - (i1 - i0) / max(t1 - t0, 1)
