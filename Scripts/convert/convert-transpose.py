#!/usr/bin/env python3
"""Convert an official TransPose checkpoint (.pth) to safetensors, without PyTorch.

    python3 Scripts/convert/convert-transpose.py CHECKPOINT.pth OUTPUT.safetensors [--heads N]

The released TransPose files (github.com/yangsenius/TransPose/releases/tag/Hub) are plain state
dicts saved by torch.save (zip format). They are read with the restricted unpickler of
convert-mhformer.py (imported, not copied: no code from the file is ever executed), checked for
the TransPose layout (R: ResNet stem + deconv head; H: HRNet stem), and written with the official
tensor names. The number of attention heads is not visible in the tensor shapes, so it is stored
in the file's metadata (`n_head`): 8 for TransPose-R, 1 for TransPose-H unless --heads says
otherwise (all released models use these). Needs numpy only.
"""
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("convert_mhformer", os.path.join(_here, "convert-mhformer.py"))
cm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cm)


def check_transpose(sd):
    """Returns "transpose_r" or "transpose_h", or raises ConversionError."""
    for key in ("pos_embedding", "reduce.weight", "final_layer.weight", "global_encoder.layers.0.self_attn.in_proj_weight"):
        if key not in sd:
            raise cm.ConversionError(f"not a TransPose state dict (no tensor '{key}')")
    if "deconv_layers.0.weight" in sd and "layer2.0.conv1.weight" in sd:
        return "transpose_r"
    if "transition1.0.0.weight" in sd and "stage3.0.fuse_layers.0.1.0.weight" in sd:
        return "transpose_h"
    raise cm.ConversionError("TransPose state dict with neither a ResNet (R) nor an HRNet (H) stem")


def main(argv):
    args = argv[1:]
    heads = None
    if "--heads" in args:
        i = args.index("--heads")
        try:
            heads = int(args[i + 1])
        except (IndexError, ValueError):
            print("error: --heads needs a number", file=sys.stderr)
            return 2
        del args[i:i + 2]
    if len(args) != 2 or args[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src, dst = args
    try:
        sd = cm.find_state_dict(cm.load_checkpoint(src))
        kind = check_transpose(sd)
    except cm.ConversionError as e:
        print(f"error: {src}: {e}", file=sys.stderr)
        return 1
    if heads is None:
        heads = 8 if kind == "transpose_r" else 1
    d = sd["reduce.weight"].shape[0]
    if heads < 1 or d % heads:
        print(f"error: --heads {heads} does not divide the model width {d}", file=sys.stderr)
        return 1
    layers = len({k.split(".")[2] for k in sd if k.startswith("global_encoder.layers.")})
    try:
        cm.write_atomic(dst, cm.safetensors_bytes(sd, {"format": "pt", "source": os.path.basename(src),
                                                       "model": kind, "n_head": str(heads)}))
    except (OSError, cm.ConversionError) as e:
        print(f"error: {dst}: {e}", file=sys.stderr)
        return 1
    print(f"{dst}: {len(sd)} tensors, {kind}, d={d}, {layers} encoder layers, {heads} heads")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
