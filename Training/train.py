"""Train MHFormer (or the MLP baseline) on CMU mocap seen through random virtual cameras.

One CPU thread, resumable. Everything goes under --run-dir (git-ignored Training/runs/...):
  log.txt      one line per log interval and per validation
  last.pt      checkpoint (model, optimiser, step, RNG states, args), rewritten every few minutes
  final.pt     written when the step budget is reached

Example (the shipped model, see Models/README.md for its exact history):
  OMP_NUM_THREADS=1 nohup python3 Training/train.py --run-dir Training/runs/main --frames 27 --channel 128 \
      --d-hid 256 --layers 3 --dropout off --batch 32 --lr 1e-3 --seed 1 --val-every 1000 --budget-minutes 70 \
      > Training/runs/main.out 2>&1 &
  ... and after an interruption the same command with --resume.
"""
import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # numpy's BLAS; torch gets --threads from torch.set_num_threads
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import data  # noqa: E402
import mhformer as mh  # noqa: E402
from baselines import MLPLifter  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
VAL_SEED = 1234
VAL_WINDOWS = 400


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["mhformer", "mlp"], default="mhformer")
    p.add_argument("--frames", type=int, default=27)
    p.add_argument("--channel", type=int, default=128)
    p.add_argument("--d-hid", type=int, default=256)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--dropout", choices=["official", "off"], default="official",
                   help="'off' sets every Dropout and DropPath to 0 during training (the saved model and its "
                        "inference are the same either way; a short CPU budget underfits rather than overfits)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=300, help="linear warm-up steps, then cosine decay")
    p.add_argument("--final-lr-frac", type=float, default=0.05, help="lr at the last step / --lr")
    p.add_argument("--steps", type=int, default=20000, help="total optimiser steps (fixes the schedule)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop (checkpointed) after this long; 0 = no limit")
    p.add_argument("--stop-at-step", type=int, default=0,
                   help="stop (checkpointed) at this step, as an interruption would; 0 = never (the resume test uses it)")
    p.add_argument("--budget-minutes", type=float, default=0,
                   help="time-based schedule: cosine decay over this much training time, then final.pt "
                        "(overrides --steps as the end; 0 = step-based)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=str(REPO / ".." / "shared" / "data" / "mocap"),
                   help="mocap folder (default: ../shared/data/mocap beside the repository)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (a resumed run may change it)")
    p.add_argument("--noise", choices=["random", "detector"], default="random",
                   help="2D input corruption: 'detector' = the model fitted to our BlazePose "
                        "(--detector-model), 'random' = the earlier hand-set noise")
    p.add_argument("--detector-model", default=str(REPO / "Training" / "detector_error.json"))
    p.add_argument("--closeup-p", type=float, default=0.0, help="share of windows seen by a close-up camera")
    p.add_argument("--limb-aug-p", type=float, default=0.0,
                   help="share of windows whose limbs are swung and bent to new poses (data.perturb_limbs)")
    p.add_argument("--spike-mm", type=float, default=data.SPIKE_MM,
                   help="cut training sequences at one-frame capture glitches of more than this (mm); 0 = keep all")
    p.add_argument("--daz-weight", type=float, default=1.0,
                   help="sampling weight of cgspeed Daz-converted sequences (bent-joint bias) vs the others")
    p.add_argument("--freeze-bn", choices=["auto", "on", "off"], default="auto",
                   help="keep the BatchNorm running statistics fixed (auto: on with --init-from). Fine-tuning on "
                        "new inputs (close-ups put joints far outside the image) otherwise drifts them, and the "
                        "model evaluates far worse than it trains")
    p.add_argument("--init-from", default=None,
                   help="start from these weights (.safetensors with the official names, or a train.py .pt); "
                        "a fresh optimiser and schedule")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    p.add_argument("--validate-only", action="store_true", help="with --resume: log the validation of last.pt and exit")
    p.add_argument("--ckpt-minutes", type=float, default=3.0)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--val-every", type=int, default=1000)
    return p.parse_args(argv)


def build_model(args):
    if args.model == "mlp":
        model = MLPLifter()
    else:
        model = mh.MHFormer(frames=args.frames, channel=args.channel, d_hid=args.d_hid, layers=args.layers)
    if getattr(args, "dropout", "official") == "off":
        for m in model.modules():
            if isinstance(m, (torch.nn.Dropout, mh.DropPath)):
                m.p = 0.0
    return model


def model_frames(args):
    return 1 if args.model == "mlp" else args.frames


def lr_at(step, elapsed_s, args):
    """Linear warm-up, then cosine decay from --lr to --lr * --final-lr-frac at --steps, or, with
    --budget-minutes, at the end of that much training time (the CPU is shared, so the step rate is
    not known in advance; a time-based schedule still ends fully decayed on time)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    if args.budget_minutes:
        progress = min(1.0, elapsed_s / (args.budget_minutes * 60))
    else:
        progress = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    frac = args.final_lr_frac + (1 - args.final_lr_frac) * 0.5 * (1 + math.cos(math.pi * progress))
    return args.lr * frac


def mpjpe(pred, target):
    """Mean per-joint position error over every frame and joint (same units as the inputs)."""
    return torch.linalg.vector_norm(pred - target, dim=-1).mean()


def make_val_sets(args):
    """Fixed validation windows (val subjects, no augmentation): exact 2D, the hand-set noise, and the
    fitted detector model at strength 1."""
    seqs = data.load_sequences(args.data, "val")
    frames = model_frames(args)
    detector = data.DetectorModel(args.detector_model)
    sets = {}
    for name, noise in (("clean", None), ("noisy", data.NoiseLevel()), ("detector", "detector-fixed")):
        sampler = data.WindowSampler(seqs, frames, augment=False, noise=noise, detector=detector)
        sets[name] = sampler.sample(np.random.default_rng(VAL_SEED), VAL_WINDOWS)
    return sets


def val_line(step, v):
    return f"val step {step} " + " ".join(f"mpjpe_{k}_mm {x:.1f}" for k, x in v.items())


def load_initial_weights(model, path):
    """--init-from: official-named safetensors (e.g. Models/mhformer-cmu-T27.safetensors) or a .pt checkpoint."""
    if path.endswith(".safetensors"):
        import safetensors_np
        sd = {k: torch.from_numpy(v) for k, v in safetensors_np.load(path).items()}
    else:
        sd = torch.load(path, map_location="cpu", weights_only=False)["model"]
    model.load_state_dict(sd, strict=True)


def set_train_mode(model, freeze_bn):
    """model.train(), but with frozen BatchNorm layers in eval mode (running statistics used, not updated)."""
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()


@torch.no_grad()
def validate(model, val_sets, frames, freeze_bn=False):
    """Middle-frame MPJPE in mm (root zeroed, no flip TTA: a quick monitor, not the final metric)."""
    model.eval()
    pad = (frames - 1) // 2
    out = {}
    for name, (x, y) in val_sets.items():
        errs = []
        for s in range(0, len(x), 100):
            pred = model(torch.from_numpy(x[s:s + 100]))[:, pad]
            pred = pred - pred[:, :1]
            errs.append(torch.linalg.vector_norm(pred - torch.from_numpy(y[s:s + 100, pad]), dim=-1).mean(-1))
        out[name] = float(torch.cat(errs).mean()) * 1000
    set_train_mode(model, freeze_bn)
    return out


def save_checkpoint(path, model, opt, step, rng, args, elapsed):
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "np_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "args": vars(args), "elapsed_s": elapsed}, tmp)
    os.replace(tmp, path)  # atomic: a crash mid-save never leaves a broken last.pt


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, msg):
        line = f"{time.strftime('%H:%M:%S', time.gmtime())} {msg}"
        print(line, flush=True)
        self.f.write(line + "\n")


def main(argv=None):
    args = parse_args(argv)
    run = Path(args.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    log = Log(run / "log.txt")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    torch.set_num_threads(args.threads)
    model = build_model(args)
    if args.init_from and not (args.resume and (run / "last.pt").exists()):
        load_initial_weights(model, args.init_from)
        log(f"initialised from {args.init_from}")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, elapsed_before = 0, 0.0
    if args.resume and (run / "last.pt").exists():
        ck = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        step, elapsed_before = ck["step"], ck["elapsed_s"]
        rng.bit_generator.state = ck["np_rng"]
        torch.set_rng_state(ck["torch_rng"])
        log(f"resumed from step {step} ({elapsed_before / 60:.1f} min trained)")
    else:
        log(f"start {' '.join(sys.argv)}")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model {args.model} params {n_params} args {vars(args)}")

    frames = model_frames(args)
    detector = data.DetectorModel(args.detector_model) if args.noise == "detector" else None
    train_seqs = data.load_sequences(args.data, "train")
    if args.spike_mm > 0:
        train_seqs, dropped = data.drop_spikes(train_seqs, args.spike_mm)
        log(f"glitches: {dropped} training frames dropped at joint spikes over {args.spike_mm:g} mm")
    sampler = data.WindowSampler(train_seqs, frames, noise=args.noise,
                                 detector=detector, closeup_p=args.closeup_p, daz_weight=args.daz_weight,
                                 limb_aug_p=args.limb_aug_p)
    val_sets = make_val_sets(args)

    freeze_bn = args.freeze_bn == "on" or (args.freeze_bn == "auto" and bool(args.init_from))
    if args.validate_only:
        v = validate(model, val_sets, frames, freeze_bn)
        log(val_line(step, v))
        return
    set_train_mode(model, freeze_bn)
    log(f"BatchNorm statistics {'frozen' if freeze_bn else 'updated'} during training")
    if step == 0 and args.init_from:
        log(val_line(step, validate(model, val_sets, frames, freeze_bn)) + " (the initial weights)")
    t0 = time.time()
    last_ckpt = t0
    losses = []
    elapsed = elapsed_before

    def finished():
        if args.budget_minutes:
            return elapsed >= args.budget_minutes * 60
        return step >= args.steps

    while not finished():
        for g in opt.param_groups:
            g["lr"] = lr_at(step, elapsed, args)
        x, y = sampler.sample(rng, args.batch)
        loss = mpjpe(model(torch.from_numpy(x)), torch.from_numpy(y))  # all T output frames
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(loss.item())
        elapsed = elapsed_before + time.time() - t0
        if step % args.log_every == 0:
            log(f"step {step} loss_mm {np.mean(losses) * 1000:.1f} lr {lr_at(step, elapsed, args):.2e} "
                f"elapsed_min {elapsed / 60:.1f}")
            losses = []
        if step % args.val_every == 0 or finished():
            v = validate(model, val_sets, frames, freeze_bn)
            log(val_line(step, v))
        if time.time() - last_ckpt > args.ckpt_minutes * 60 or finished():
            save_checkpoint(run / "last.pt", model, opt, step, rng, args, elapsed)
            last_ckpt = time.time()
        if args.stop_at_step and step >= args.stop_at_step:
            save_checkpoint(run / "last.pt", model, opt, step, rng, args, elapsed)
            log(f"stopped at step {step}: --stop-at-step")
            return
        if args.max_minutes and elapsed > args.max_minutes * 60:
            save_checkpoint(run / "last.pt", model, opt, step, rng, args, elapsed)
            v = validate(model, val_sets, frames, freeze_bn)
            log(val_line(step, v))
            log(f"stopped at step {step}: --max-minutes reached")
            return
    save_checkpoint(run / "final.pt", model, opt, step, rng, args, elapsed_before + time.time() - t0)
    log(f"done step {step} elapsed_min {(elapsed_before + time.time() - t0) / 60:.1f}")


if __name__ == "__main__":
    main()
