#!/usr/bin/env python3
"""Runs `mhformer batch` over a Ray cluster: one Ray task per video, the same outputs, records and
batch-summary.json as one `mhformer batch` on one machine.

    python3 Scripts/batch-ray.py --address ADDR [--mhformer PATH] [--threads N] [--max-retries N]
                                 -o OUTDIR INPUT... [mhformer batch options]

INPUT is what `mhformer batch` takes (videos, folders, list files); the options this script does not
know (--format, --weights, --no-flip, --retry-failed, ...) go to every `mhformer batch` unchanged and
must come after the INPUTs. OUTDIR, the inputs and the mhformer binary must be at the same paths on
every node (a shared filesystem).

1. Here: `mhformer batch INPUT... -o OUTDIR --plan [options]` lists the videos and the input root.
2. On the cluster: per video `mhformer batch VIDEO -o OUTDIR --input-root ROOT --no-summary
   --json-lines --threads N [options]`. Exit 0/1 is a recorded result (ok/failed) and is final; any
   other end (killed, crashed, exit 2) raises, so Ray runs the task again (--max-retries).
3. Here: OUTDIR/batch-summary.json (the schema of `mhformer batch`), exit 0 when no video failed,
   1 when one did, 2 when the batch could not start.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # Scripts/ -> repository root

# `mhformer batch` options that make no sense here: Ray's CPUs decide how many videos run at once.
REFUSED = {"--jobs": "with Ray, each node runs as many videos as it has Ray CPUs (ray start --num-cpus N); drop --jobs"}


def die(message, status=2):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def default_mhformer():
    built = os.path.join(REPO, ".build", "release", "mhformer")
    if os.access(built, os.X_OK):
        return built
    return shutil.which("mhformer") or built


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Run `mhformer batch` with one Ray task per video.",
        epilog="Every other option goes to each `mhformer batch` unchanged (see mhformer batch --help); "
               "give them after the INPUTs.",
        usage="%(prog)s --address ADDR [--mhformer PATH] -o OUTDIR INPUT... [mhformer batch options]",
        allow_abbrev=False)   # an abbreviation must not swallow a mhformer option
    ap.add_argument("--address", required=True, metavar="ADDR",
                    help="Ray cluster address (HOST:PORT of the head, or 'auto' for RAY_ADDRESS / the cluster started on this node)")
    ap.add_argument("--mhformer", default=None, metavar="PATH", help="mhformer binary, the same path on every node (default: .build/release/mhformer, else mhformer on PATH)")
    ap.add_argument("-o", "--output", dest="outdir", required=True, help="output folder, on a filesystem every node sees")
    ap.add_argument("--threads", type=int, default=1, metavar="N", help="OpenBLAS threads per video; each task reserves that many Ray CPUs (default 1)")
    ap.add_argument("--max-retries", type=int, default=3, metavar="N", help="reruns of a video whose task died (node lost, killed, crashed); default 3")
    # mhformer batch's own options that the driver sets per video, so they are the driver's: --input-root
    # and --shard go to the plan only (a --shard of one video would select nothing), the others are
    # done here.
    ap.add_argument("--input-root", default=None, metavar="DIR", help="the folder the output tree mirrors (default: the deepest folder holding every video)")
    ap.add_argument("--shard", default=None, metavar="I/N", help="I/N: only this share of the videos (summary: batch-summary.shard-I-of-N.json)")
    ap.add_argument("--plan", action="store_true", help="print the plan of `mhformer batch --plan` and run nothing")
    ap.add_argument("--json-lines", action="store_true", help="print each video's JSON line to stdout as it ends")
    ap.add_argument("--no-summary", action="store_true", help="do not write OUTDIR/batch-summary.json")
    args, rest = ap.parse_known_args(argv)

    # The INPUTs are the leading words of what argparse did not know; from the first option on,
    # everything belongs to mhformer (option values included, which cannot be told from inputs).
    first_option = next((i for i, word in enumerate(rest) if word.startswith("-")), len(rest))
    args.inputs, args.options = rest[:first_option], rest[first_option:]
    if not args.inputs:
        die("give at least one INPUT (a video, a folder or a list file) before the mhformer options")
    for word in rest:
        if word.split("=", 1)[0] in REFUSED:
            die(f"{word}: {REFUSED[word.split('=', 1)[0]]}")
    if args.threads < 1 or args.max_retries < 0:
        die("--threads must be at least 1 and --max-retries at least 0")
    args.inputs = [os.path.abspath(p) for p in args.inputs]
    args.outdir = os.path.abspath(args.outdir)
    if args.input_root:
        args.input_root = os.path.abspath(args.input_root)
    mh = args.mhformer or default_mhformer()
    # A bare name is looked up on PATH here, so every node runs the binary at that same path.
    args.mhformer = os.path.abspath(mh) if os.sep in mh else (shutil.which(mh) or mh)
    return args


def run_plan(args):
    """Step 1: the videos, their outputs and the input root, from `mhformer batch --plan`."""
    cmd = [args.mhformer, "batch", *args.inputs, "-o", args.outdir, "--plan"]
    if args.input_root:
        cmd += ["--input-root", args.input_root]
    if args.shard:
        cmd += ["--shard", args.shard]
    try:
        r = subprocess.run(cmd + args.options, capture_output=True, text=True)
    except OSError as e:
        die(f"{args.mhformer}: cannot run ({e.strerror})")
    if r.returncode != 0:
        # mhformer says why (no videos, a bad option: ArgumentParser exits 64 for those); either way
        # the batch could not start, which is status 2.
        sys.stderr.write(r.stderr)
        sys.exit(2)
    try:
        plan = json.loads(r.stdout)
    except json.JSONDecodeError:
        die(f"{args.mhformer} batch --plan printed no JSON plan (is it an mhformer with the batch command?)")

    # A word after the first option that mhformer took as an input (`--no-flip clip.mp4`) would make
    # every task run that video too: the options alone must name no video.
    check = subprocess.run([args.mhformer, "batch", "-o", args.outdir, "--plan"] + args.options, capture_output=True, text=True)
    if check.returncode == 0:
        try:
            stray = [v["input"] for v in json.loads(check.stdout)["videos"]]
        except (json.JSONDecodeError, KeyError):
            stray = ["?"]
        die(f"the mhformer options name inputs of their own ({', '.join(stray)}): put every INPUT before the options")
    return plan


def check_reachable(address):
    """ray.init retries for minutes at an address where nothing listens: a TCP connection says so at once."""
    if address == "auto":
        address = os.environ.get("RAY_ADDRESS", "")
    if not address or address in ("auto", "local") or "://" in address:
        return   # Ray looks for the cluster started on this node, or starts one, or uses Ray Client
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except (OSError, ValueError) as e:
        die(f"no Ray cluster at {address} ({getattr(e, 'strerror', None) or e}): start one with ray start --head")


def tool_version(args, plan_videos):
    """ "mhformer VERSION" from `mhformer --version`, else from a record written by this batch."""
    try:
        r = subprocess.run([args.mhformer, "--version"], capture_output=True, text=True, timeout=30)
        text = r.stdout.strip()
        if r.returncode == 0 and text:
            return text if text.startswith("mhformer") else f"mhformer {text}"
    except (OSError, subprocess.TimeoutExpired):
        pass
    for video in plan_videos:
        try:
            with open(video["record"]) as f:
                record = json.load(f)
            tool = record.get("tool") or record.get("tool_version")
            if tool:
                return tool if str(tool).startswith("mhformer") else f"mhformer {tool}"
        except (OSError, ValueError, AttributeError):
            continue
    return "mhformer unknown"


def run_video(cmd, env_extra, cwd):
    """Runs one `mhformer batch` for one video on a Ray worker; returns its JSON line.

    Runs inside the Ray worker process (this function is shipped there by value)."""
    import ctypes
    import json
    import os
    import signal
    import subprocess

    # mhformer must not outlive this worker (node lost, worker killed): PR_SET_PDEATHSIG sends it
    # SIGTERM when the worker dies, and mhformer then stops the child process it runs the video in
    # and removes its staged files. It gets a session of its own (setsid), out of the worker's
    # process group, which Ray may kill with SIGKILL along with the worker. prctl is looked up
    # before the fork, so the child only calls it (little Python runs between fork and exec).
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    worker = os.getpid()

    def die_with_worker():
        os.setsid()
        prctl(1, signal.SIGTERM, 0, 0, 0)   # 1 = PR_SET_PDEATHSIG
        if os.getppid() != worker:          # the worker died before prctl took effect
            os._exit(1)

    env = dict(os.environ, **env_extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=cwd if cwd and os.path.isdir(cwd) else None, preexec_fn=die_with_worker)
    try:
        # In steps of a second, so that ray.cancel (a KeyboardInterrupt in this thread) is seen.
        while True:
            try:
                stdout, stderr = proc.communicate(timeout=1)
                break
            except subprocess.TimeoutExpired:
                continue
    except BaseException:
        # Cancelled: SIGTERM lets mhformer stop its child and remove its staged files (subprocess
        # would send SIGKILL, and Ray kills a worker's children with SIGKILL when it exits).
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    r = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    if r.returncode in (0, 1):
        # A recorded result, ok or failed: final, never retried.
        for line in reversed(r.stdout.splitlines()):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(result, dict) and "status" in result:
                return result
        raise RuntimeError(f"mhformer exited {r.returncode} without a JSON line: {r.stderr.strip()[-300:]}")
    # Killed by a signal, crashed, or could not start the batch (2): raising makes Ray retry.
    how = f"killed by signal {-r.returncode}" if r.returncode < 0 else f"exit status {r.returncode}"
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "no error message"
    raise RuntimeError(f"mhformer {how}: {last}")


def failure_reason(error):
    """One line saying why a task gave up, from a Ray exception."""
    import ray.exceptions
    if isinstance(error, ray.exceptions.RayTaskError) and isinstance(getattr(error, "cause", None), Exception):
        # The task raised (run_video's RuntimeError on its last try): its own one-line message.
        lines = [ln.strip() for ln in str(error.cause).splitlines() if ln.strip()]
        return lines[0] if lines else type(error.cause).__name__
    # The worker or node died on the last try. Ray's explanation goes on for several sentences
    # (node ids, where to look): the first says why.
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    first = lines[0] if lines else type(error).__name__
    return first[:first.index(". ") + 1] if ". " in first else first


def stop_tasks(ray, refs):
    """Ctrl-C or SIGTERM: cancels the tasks, and waits (a minute at most, or until a second signal)
    for the running ones to stop mhformer, which removes its staged files. Exiting at once would
    not do: Ray ends a job's workers by killing them and their children with SIGKILL."""
    sys.stderr.write("\ninterrupted: stopping the videos that run (Ctrl-C again to leave at once); run again to finish them\n")
    for ref in refs:
        ray.cancel(ref)
    end = time.monotonic() + 60
    while refs and len(received) < 2 and time.monotonic() < end:
        _, refs = ray.wait(refs, num_returns=len(refs), timeout=1.0)


def progress(done, total, counts, start, terminal):
    elapsed = max(time.monotonic() - start, 1e-9)
    rate = done / elapsed * 3600
    left = (total - done) / (done / elapsed) if done else 0
    line = (f"[{done}/{total} videos] ok {counts['ok']}, skipped {counts['skipped']}, failed {counts['failed']}; "
            f"{rate:.1f} videos/hour, {int(left) // 60}:{int(left) % 60:02d} left")
    # On a terminal the line rewrites itself; in a log each update is its own line.
    sys.stderr.write(("\r\x1b[K" + line) if terminal else line + "\n")
    sys.stderr.flush()


def write_summary(path, summary):
    """Atomically: a temporary file in OUTDIR renamed over the summary."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-batch-summary-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(summary, f, indent=2, sort_keys=True)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def main(argv):
    args = parse_args(argv)
    plan = run_plan(args)
    if args.plan:
        print(json.dumps(plan, indent=2, sort_keys=True))
        return 0
    videos = sorted(plan["videos"], key=lambda v: v["input"])
    start_wall = time.monotonic()

    try:
        import ray
        import ray.exceptions
    except ImportError:
        die("Ray is not installed: pip install -r Scripts/requirements-ray.txt")
    try:
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        die(f"{args.outdir}: cannot create the output folder ({e.strerror})")
    check_reachable(args.address)
    try:
        ray.init(address=args.address, logging_level="WARNING", log_to_driver=False)
    except Exception as e:   # ConnectionError, ValueError, RuntimeError depending on what is wrong
        die(f"cannot connect to the Ray cluster at {args.address}: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}")
    # ray.init puts its own SIGTERM handler in place (it exits 1). Ours only notes the signal: an
    # exception raised inside Ray's wait would surface as a SystemError; the loop below acts on it.
    signal.signal(signal.SIGINT, note_signal)
    signal.signal(signal.SIGTERM, note_signal)

    task = ray.remote(num_cpus=args.threads, max_retries=args.max_retries, retry_exceptions=True)(run_video)
    # mhformer's own settings (MHFORMER_MODELS, ...) set here apply on every node too.
    env_extra = {k: v for k, v in os.environ.items() if k.startswith("MHFORMER_")}
    env_extra["OPENBLAS_NUM_THREADS"] = str(args.threads)
    pending = {}
    for video in videos:
        cmd = [args.mhformer, "batch", video["input"], "-o", args.outdir, "--input-root", plan["input_root"],
               "--no-summary", "--json-lines", "--threads", str(args.threads)] + args.options
        # The driver's folder as the working folder: relative paths in the options mean the same
        # on a node that sees it (shared filesystem).
        pending[task.remote(cmd, env_extra, os.getcwd())] = video

    results, counts = [], {"ok": 0, "skipped": 0, "failed": 0}
    terminal = sys.stderr.isatty()
    while pending:
        if received:
            stop_tasks(ray, list(pending))
            return 128 + received[0]
        # With a timeout, so that a signal is acted on within a second.
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
        for ref in ready:
            video = pending.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayError as e:
                result = {"input": video["input"], "status": "failed", "error": f"ray: {failure_reason(e)}",
                          "frames": 0, "seconds": 0.0, "outputs": [], "record": video["record"]}
            results.append(result)
            counts[result.get("status") if result.get("status") in counts else "failed"] += 1
            if args.json_lines:
                print(json.dumps(result), flush=True)
            progress(len(results), len(videos), counts, start_wall, terminal)
    if terminal:
        sys.stderr.write("\n")

    results.sort(key=lambda r: r["input"])
    seconds = time.monotonic() - start_wall
    # Every video's frames, skipped ones too (their record's count), as mhformer batch counts them.
    frames = sum(int(r.get("frames") or 0) for r in results)
    totals = {"videos": len(results), **counts, "frames": frames,
              "seconds": round(seconds, 3)}
    line = (f"{totals['videos']} videos: {totals['ok']} ok, {totals['skipped']} skipped, {totals['failed']} failed; "
            f"{totals['frames']} frames in {seconds:.1f} s")
    if not args.no_summary:
        name = "batch-summary.json"
        if args.shard:
            i, n = args.shard.split("/")
            name = f"batch-summary.shard-{i}-of-{n}.json"
        path = os.path.join(args.outdir, name)
        summary = {"tool": tool_version(args, videos), "outdir": args.outdir, "videos": results, "totals": totals}
        try:
            write_summary(path, summary)
        except OSError as e:
            die(f"{path}: cannot write the summary ({e.strerror})")
        line += f" -> {path}"
    print(line, file=sys.stderr)
    for r in results:
        if r.get("status") == "failed":
            print(f"failed   {r['input']}: {r.get('error')}", file=sys.stderr)
    return 1 if counts["failed"] else 0


class Interrupted(Exception):
    """Ctrl-C or SIGTERM before the tasks run; status is the shell's 128 + signal."""
    def __init__(self, signum):
        super().__init__(signum)
        self.status = 128 + signum


def on_signal(signum, _frame):
    raise Interrupted(signum)


received = []   # signals noted while the tasks run


def note_signal(signum, _frame):
    received.append(signum)


if __name__ == "__main__":
    # Ctrl-C, or SIGTERM from a scheduler ending the job: leave the cluster, which stops this job's tasks.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sys.exit(main(sys.argv[1:]))
    except Interrupted as stop:   # while planning or connecting
        sys.exit(stop.status)
