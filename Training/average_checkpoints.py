"""Average the model weights of several train.py checkpoints (stochastic weight averaging over the end of a run).

    python3 Training/average_checkpoints.py OUT.pt A.pt B.pt ...

The checkpoints must come from one run (same architecture). Float tensors are averaged; integer tensors (the
BatchNorm counters) and everything else (optimiser, step, RNG states, args) are taken from the last one, so OUT.pt
works with `Training/export.py` and `train.py --resume --validate-only` like any checkpoint. BatchNorm running
statistics are averaged too: with --freeze-bn they are identical in every checkpoint anyway.
"""
import sys

import torch


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, paths = sys.argv[1], sys.argv[2:]
    cks = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    last = cks[-1]
    avg = {}
    for k, v in last["model"].items():
        if v.is_floating_point():
            avg[k] = sum(ck["model"][k] for ck in cks) / len(cks)
        else:
            avg[k] = v
    last["model"] = avg
    torch.save(last, out)
    print(f"{out}: mean of {len(cks)} checkpoints, steps " + ", ".join(str(ck["step"]) for ck in cks))


if __name__ == "__main__":
    main()
