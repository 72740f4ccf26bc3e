"""A throwaway Ray cluster on this machine, for the Ray driver's test and benchmark: a head with no
CPUs (so every task runs on a worker node) and worker nodes, each a `ray start --block` process of
its own, all on a loopback address, each node with its own temporary folder.

    from local_ray_cluster import LocalRayCluster
    cluster = LocalRayCluster(workers=2)      # cluster.address is "127.0.0.2:PORT"
    ...
    cluster.stop()

Each node is started as a session leader, so its processes (raylet, GCS, agents, and the Ray
workers, which the raylet puts in process groups of their own but the same session) are found by
their session id, and the programs the tasks start by their parents: that is how a node is killed
(kill_node) and how everything is stopped, without `ray stop`, which would stop every Ray process
on the machine.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


# The nodes' address. Ray replaces 127.0.0.1 (and localhost) by the machine's network address, so the
# cluster would talk over the network interface; another loopback address is kept as it is.
LOOPBACK = "127.0.0.2"


def session_pids(sid):
    """The pids of the processes in session sid, and of their descendants in other sessions (a
    program that a task started with a session of its own)."""
    parent, session = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()   # after "pid (comm)": state ppid pgrp session ...
        except OSError:
            continue
        parent[int(name)], session[int(name)] = int(fields[1]), int(fields[3])
    found = {pid for pid, s in session.items() if s == sid}
    grew = True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in found and pid not in found}
        found |= more
        grew = bool(more)
    return sorted(found)


def kill_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class LocalRayCluster:
    def __init__(self, workers=2, cpus_per_worker=1, env=None):
        self.ray = shutil.which("ray") or os.path.join(os.path.dirname(sys.executable), "ray")
        self.tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")   # short: Ray's socket paths must fit in 107 bytes
        self.port = free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        # Workers inherit the environment of their `ray start` (MHFORMER_MODELS, for one).
        self.env = dict(env if env is not None else os.environ, RAY_USAGE_STATS_ENABLED="0")
        self.env.pop("RAY_ADDRESS", None)
        self.nodes, self.killed = {}, set()
        try:
            self._start("head", ["--head", "--port", str(self.port), "--num-cpus", "0", "--include-dashboard=false"])
            self._wait_for_port()
            for i in range(workers):
                self.add_worker(cpus_per_worker, wait=False)
            self.wait_for_nodes(1 + workers)
        except BaseException:
            self.stop()
            raise

    def _start(self, name, options):
        with open(os.path.join(self.tmp, f"{name}.log"), "w") as log:
            self.nodes[name] = subprocess.Popen(
                [self.ray, "start", "--block", "--disable-usage-stats", "--node-ip-address", LOOPBACK,
                 "--temp-dir", os.path.join(self.tmp, name)] + options,
                stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)

    def add_worker(self, cpus=1, wait=True):
        """Starts one more worker node; returns its name (w1, w2, ...)."""
        name = f"w{sum(n.startswith('w') for n in self.nodes) + 1}"
        self._start(name, ["--address", self.address, "--num-cpus", str(cpus)])
        if wait:
            self.wait_for_nodes(len(self.nodes) - len(self.killed))
        return name

    def _wait_for_port(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with socket.socket() as s:
                if s.connect_ex((LOOPBACK, self.port)) == 0:
                    return
            self._check_running()
            time.sleep(0.5)
        raise RuntimeError(f"the Ray head did not listen on {self.address} within {timeout} s: {self.log('head')}")

    def wait_for_nodes(self, count, timeout=90):
        """Waits until count nodes are alive. A separate driver process asks the cluster, so the
        calling process never joins it."""
        code = ("import ray, sys, time\n"
                f"ray.init(address='{self.address}', logging_level='ERROR', log_to_driver=False)\n"
                "alive = lambda: sum(n['Alive'] for n in ray.nodes())\n"
                f"end = time.monotonic() + {timeout}\n"
                f"while alive() < {count} and time.monotonic() < end: time.sleep(0.5)\n"
                f"sys.exit(0 if alive() >= {count} else 1)\n")
        r = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True, timeout=timeout + 60)
        self._check_running()
        if r.returncode != 0:
            raise RuntimeError(f"the Ray cluster did not reach {count} nodes: {r.stderr[-2000:]}")

    def _check_running(self):
        for name, p in self.nodes.items():
            if p.poll() is not None and name not in self.killed:
                raise RuntimeError(f"ray start for {name} exited {p.returncode}: {self.log(name)}")

    def log(self, name):
        with open(os.path.join(self.tmp, f"{name}.log")) as f:
            return f.read()[-2000:]

    def node_pids(self, name):
        return session_pids(self.nodes[name].pid)

    def kill_node(self, name, spare=lambda pid: False):
        """SIGKILLs a node's processes, as if its machine were lost, except those for which
        spare(pid) is true (the programs the tasks started, to see how they cope). Returns the pids."""
        self.killed.add(name)
        victims = [p for p in self.node_pids(name) if not spare(p)]
        kill_all(victims, signal.SIGKILL)
        return victims

    def stop(self):
        """Every process of every node: SIGTERM (a clean shutdown), then SIGKILL what is left."""
        pids = [p for name in self.nodes for p in self.node_pids(name)]
        kill_all(pids, signal.SIGTERM)
        end = time.monotonic() + 10
        while time.monotonic() < end and any(os.path.exists(f"/proc/{p}") for p in pids):
            time.sleep(0.2)
        for name in self.nodes:
            kill_all(self.node_pids(name), signal.SIGKILL)
        for node in self.nodes.values():
            try:
                node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
