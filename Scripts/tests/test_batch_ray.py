"""Scripts/batch-ray.py against a real local Ray cluster (a head and two worker nodes, each its own
`ray start --block` process) and the real mhformer binary.

    MHFORMER_BIN=.build/release/mhformer python3 -m pytest -q Scripts/tests/test_batch_ray.py

Skipped when MHFORMER_BIN is unset or not executable, or when `import ray` fails (install it with
pip install -r Scripts/requirements-ray.txt; Scripts/test.sh does). MHFORMER_MODELS, when set, tells
the binary where Models/ is (as for mhformer itself).
"""
import calendar
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # Scripts/tests/ -> root
SCRIPT = os.path.join(REPO, "Scripts", "batch-ray.py")
WALK = os.path.join(REPO, "Samples", "cmu131_walk.mp4")
PUNCH = os.path.join(REPO, "Samples", "cmu02_punch_closeup.mp4")
MHFORMER = os.environ.get("MHFORMER_BIN", "")

if not MHFORMER or not os.access(MHFORMER, os.X_OK):
    pytest.skip(f"MHFORMER_BIN is {'unset' if not MHFORMER else MHFORMER + ', not an executable'}: "
                "set it to a built mhformer (e.g. .build/release/mhformer)", allow_module_level=True)
MHFORMER = os.path.realpath(MHFORMER)
# The driver and `ray start` need Ray in this Python; the test does not install it.
pytest.importorskip("ray", reason="Ray is not installed (pip install -r Scripts/requirements-ray.txt)")
sys.path.insert(0, os.path.join(REPO, "Scripts"))
from local_ray_cluster import LocalRayCluster  # noqa: E402

# Quicker runs: no flip augmentation (the outputs' correctness is mhformer's own tests' business).
RUN_OPTIONS = ["--no-flip"]


def is_mhformer(pid):
    """Whether pid runs the mhformer binary under test (its executable, or the script an
    interpreter runs, for a stand-in)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")[:2]
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    return MHFORMER in [exe] + [os.path.realpath(a.decode(errors="replace")) for a in argv if a]


@pytest.fixture
def cluster():
    """A head without CPUs and two worker nodes with one CPU each (Scripts/local_ray_cluster.py),
    stopped however the test ends."""
    c = LocalRayCluster(workers=2, cpus_per_worker=1)
    try:
        yield c
    finally:
        c.stop()


def driver(cluster, args, env=None, timeout=600):
    """Runs batch-ray.py; returns the CompletedProcess."""
    return subprocess.run([sys.executable, SCRIPT, "--mhformer", MHFORMER] + args, capture_output=True, text=True,
                          env=env or cluster.env, timeout=timeout, cwd=REPO)


def all_files(folder):
    found = {}
    for root, dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            found[path] = os.stat(path).st_mtime_ns
    return found


def csv_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def check_complete(result):
    """An ok video: its outputs exist, the CSV has a header and one full row per frame."""
    assert result["status"] in ("ok", "skipped"), result
    assert result["frames"] > 0 or result["status"] == "skipped", result
    assert os.path.exists(result["record"]), result
    for out in result["outputs"]:
        assert os.path.exists(out), out
        if out.endswith(".csv"):
            header, rows = csv_rows(out)
            assert header[0] in ("frame", "time_s"), header
            assert rows and all(len(r) == len(header) for r in rows), out
            with open(result["record"]) as f:
                assert len(rows) == json.load(f)["frames"], out


def test_folder_of_good_and_broken_videos(cluster, tmp_path):
    """Case A: a folder with good videos (one in a subfolder), a truncated one and a text file
    named .mp4; then the same batch again, which must run nothing and touch no output."""
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    shutil.copy(WALK, inputs / "walk.mp4")
    shutil.copy(PUNCH, inputs / "sub" / "punch.mp4")
    with open(WALK, "rb") as f:   # cut inside the header (the moov atom is at the front)
        (inputs / "truncated.mp4").write_bytes(f.read(1024))
    (inputs / "fake.mp4").write_text("not a video\n")
    out = tmp_path / "out"

    # --address auto with RAY_ADDRESS: how a job on a cluster node usually finds its cluster.
    env = dict(cluster.env, RAY_ADDRESS=cluster.address)
    t0 = time.monotonic()
    r = driver(cluster, ["--address", "auto", "-o", str(out), str(inputs)] + RUN_OPTIONS, env=env)
    first_seconds = time.monotonic() - t0
    assert r.returncode == 1, f"exit {r.returncode}: {r.stderr[-3000:]}"
    with open(out / "batch-summary.json") as f:
        summary = json.load(f)
    assert set(summary) == {"tool", "outdir", "videos", "totals"}
    assert summary["tool"].startswith("mhformer ")
    assert summary["outdir"] == str(out)
    by_name = {os.path.relpath(v["input"], inputs): v for v in summary["videos"]}
    assert sorted(by_name) == ["fake.mp4", "sub/punch.mp4", "truncated.mp4", "walk.mp4"]
    assert [v["input"] for v in summary["videos"]] == sorted(v["input"] for v in summary["videos"])
    for name in ("walk.mp4", "sub/punch.mp4"):
        v = by_name[name]
        assert v["status"] == "ok", v
        check_complete(v)
    # Outputs mirror the input tree.
    assert (out / "walk.csv").exists() and (out / "sub" / "punch.csv").exists()
    assert (out / "sub" / "punch.record.json").exists()
    for name in ("truncated.mp4", "fake.mp4"):
        v = by_name[name]
        assert v["status"] == "failed" and v["error"] and not v["error"].startswith("ray:"), v
        assert not (out / name.replace(".mp4", ".csv")).exists()
    t = summary["totals"]
    assert (t["videos"], t["ok"], t["skipped"], t["failed"]) == (4, 2, 0, 2), t
    assert t["frames"] == by_name["walk.mp4"]["frames"] + by_name["sub/punch.mp4"]["frames"]
    assert 0 < t["seconds"] <= first_seconds
    assert "videos/hour" in r.stderr

    # Again, with the address given directly: nothing runs, nothing but the summary changes.
    before = all_files(out)
    r = driver(cluster, ["--address", cluster.address, "-o", str(out), str(inputs)] + RUN_OPTIONS)
    assert r.returncode == 1, f"exit {r.returncode}: {r.stderr[-3000:]}"
    with open(out / "batch-summary.json") as f:
        again = json.load(f)
    statuses = {os.path.relpath(v["input"], inputs): v["status"] for v in again["videos"]}
    assert statuses == {"walk.mp4": "skipped", "sub/punch.mp4": "skipped", "truncated.mp4": "failed", "fake.mp4": "failed"}
    for v in again["videos"]:
        if v["status"] == "failed":
            assert v["error"] == by_name[os.path.relpath(v["input"], inputs)]["error"], v
    after = all_files(out)
    summary_path = str(out / "batch-summary.json")
    assert {p for p in after if p != summary_path} == {p for p in before if p != summary_path}
    changed = [p for p in after if p != summary_path and after[p] != before[p]]
    assert changed == [], f"the second run touched {changed}"

    # The same summary as `mhformer batch` itself writes for that batch (all done: it runs nothing),
    # but for the times.
    r = subprocess.run([MHFORMER, "batch", str(inputs), "-o", str(out)] + RUN_OPTIONS, capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 1, r.stderr
    with open(out / "batch-summary.json") as f:
        own = json.load(f)

    def timeless(summary):
        return {**summary, "videos": [{k: v for k, v in video.items() if k != "seconds"} for video in summary["videos"]],
                "totals": {k: v for k, v in summary["totals"].items() if k != "seconds"}}
    assert timeless(again) == timeless(own)


def start_driver(cluster, inputs, out, *extra):
    return subprocess.Popen([sys.executable, SCRIPT, "--mhformer", MHFORMER, "--address", cluster.address, *extra,
                             "-o", str(out), str(inputs), "--json-lines"] + RUN_OPTIONS,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=cluster.env)


def kill_node_mid_video(cluster, p, node="w1"):
    """Waits until `node` has run mhformer for a second, SIGKILLs the node's Ray processes (not
    mhformer), checks that mhformer then ends by itself at once; returns the video it was running
    and the time of the kill."""
    end = time.monotonic() + 120
    running = []
    while time.monotonic() < end and not running and p.poll() is None:
        running = [pid for pid in cluster.node_pids(node) if is_mhformer(pid)]
        time.sleep(0.2)
    assert running, f"node {node} never ran mhformer (driver exit {p.poll()}): {p.stderr.read() if p.poll() is not None else ''}"
    with open(f"/proc/{running[0]}/cmdline", "rb") as f:   # mhformer batch VIDEO -o ...
        video = f.read().split(b"\0")[2].decode()
    time.sleep(1.0)
    killed_at = time.time()
    assert cluster.kill_node(node, spare=is_mhformer)
    # mhformer gets SIGTERM from the kernel (PR_SET_PDEATHSIG: its worker died) and ends, at once:
    # a video takes several seconds, so ending within 5 s is not finishing it.
    end = time.monotonic() + 5
    while time.monotonic() < end and any(is_mhformer(pid) for pid in running):
        time.sleep(0.2)
    orphans = [pid for pid in running if is_mhformer(pid)]
    assert not orphans, f"mhformer {orphans} outlived its Ray worker"
    return video, killed_at


def finish(p, timeout=400):
    try:
        return p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_killed_worker_node(cluster, tmp_path):
    """Case B: a worker node is SIGKILLed while it runs a video; Ray reruns its task on the other
    node and every video ends with exactly one complete output, no staged file left."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    names = [f"walk{i}.mp4" for i in range(4)]
    for name in names:
        shutil.copy(WALK, inputs / name)
    out = tmp_path / "out"

    p = start_driver(cluster, inputs, out)
    try:
        video, killed_at = kill_node_mid_video(cluster, p)
    finally:
        stdout, stderr = finish(p)
    assert p.returncode == 0, f"exit {p.returncode}: {stderr[-3000:]}"

    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert sorted(os.path.basename(v["input"]) for v in lines) == names
    with open(out / "batch-summary.json") as f:
        summary = json.load(f)
    assert [v["status"] for v in summary["videos"]] == ["ok"] * 4, summary["videos"]
    assert summary["totals"]["ok"] == 4 and summary["totals"]["failed"] == 0
    frames = set()
    for v in summary["videos"]:
        check_complete(v)
        with open(v["record"]) as f:
            record = json.load(f)
        frames.add(record["frames"])
        if v["input"] == video:   # the killed video was run again, after the kill
            finished = calendar.timegm(time.strptime(record["finished"], "%Y-%m-%dT%H:%M:%SZ"))
            assert finished >= int(killed_at), (record["finished"], killed_at)
    assert len(frames) == 1, f"copies of one video gave different frame counts: {frames}"
    # Exactly the expected files: one CSV and one record per video, the summary; nothing staged.
    expected = {"batch-summary.json"} | {n.replace(".mp4", ".csv") for n in names} | {n.replace(".mp4", ".record.json") for n in names}
    found = {os.path.relpath(path, out) for path in all_files(out)}
    assert found == expected, f"unexpected files: {sorted(found - expected)}, missing: {sorted(expected - found)}"


def test_lost_node_without_retries(cluster, tmp_path):
    """Case C: with --max-retries 0 the video of a lost node is failed with a "ray:" error (exit 1)
    and has no output; the whole batch again then runs just that video."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(WALK, inputs / name)
    out = tmp_path / "out"

    p = start_driver(cluster, inputs, out, "--max-retries", "0")
    try:
        video, _ = kill_node_mid_video(cluster, p)
    finally:
        stdout, stderr = finish(p)
    assert p.returncode == 1, f"exit {p.returncode}: {stderr[-3000:]}"
    with open(out / "batch-summary.json") as f:
        summary = json.load(f)
    by_input = {v["input"]: v for v in summary["videos"]}
    lost = by_input.pop(video)
    assert lost["status"] == "failed" and lost["error"].startswith("ray: "), lost
    assert lost["outputs"] == [] and not os.path.exists(lost["record"])
    assert not os.path.exists(lost["record"][:-len(".record.json")] + ".csv")
    [other] = by_input.values()
    assert other["status"] == "ok", other
    assert f"failed   {video}: ray: " in stderr

    r = driver(cluster, ["--address", cluster.address, "-o", str(out), str(inputs)] + RUN_OPTIONS)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-3000:]}"
    with open(out / "batch-summary.json") as f:
        statuses = {v["input"]: v["status"] for v in json.load(f)["videos"]}
    assert statuses == {video: "ok", other["input"]: "skipped"}


def test_interrupted_driver(cluster, tmp_path):
    """Case D: SIGTERM to the driver while videos run: it cancels the tasks, mhformer stops and
    removes its staged files, the driver exits 143 and leaves no partial output; a rerun finishes."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        shutil.copy(WALK, inputs / name)
    out = tmp_path / "out"

    p = start_driver(cluster, inputs, out)
    try:
        end = time.monotonic() + 120
        running = []
        while time.monotonic() < end and len(running) < 2 and p.poll() is None:
            running = [pid for node in ("w1", "w2") for pid in cluster.node_pids(node) if is_mhformer(pid)]
            time.sleep(0.2)
        assert running, f"no mhformer ran (driver exit {p.poll()})"
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        stdout, stderr = p.communicate(timeout=90)
    finally:
        finish(p)
    assert p.returncode == 143, f"exit {p.returncode}: {stderr[-3000:]}"
    assert "interrupted" in stderr
    left = [pid for pid in running if is_mhformer(pid)]
    assert not left, f"mhformer {left} still runs after the driver left"
    # Nothing staged, and any output that is there is a complete video's (its record beside it).
    files = {os.path.relpath(path, out) for path in all_files(out)} if out.exists() else set()
    assert not [f for f in files if os.path.basename(f).startswith(".")], files
    for f in files:
        if f.endswith(".csv"):
            assert f[:-len(".csv")] + ".record.json" in files, files

    r = driver(cluster, ["--address", cluster.address, "-o", str(out), str(inputs)] + RUN_OPTIONS)
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-3000:]}"
    with open(out / "batch-summary.json") as f:
        summary = json.load(f)
    assert {v["status"] for v in summary["videos"]} <= {"ok", "skipped"} and summary["totals"]["videos"] == 3
    for v in summary["videos"]:
        check_complete(v)
