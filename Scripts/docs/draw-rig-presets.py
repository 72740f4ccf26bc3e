"""Draws each rig preset's rest pose as the tool writes it, for docs/rigs.md: reads the rest pose
from a .glb that `mhformer ... --rig PRESET -o X.glb` wrote (the joint nodes' rest translations and
their hierarchy) and draws it from the front and from the side, every joint labelled with its name.

    python3 Scripts/docs/draw-rig-presets.py docs/ walk.h36m.glb walk.mixamo.glb ...
writes docs/rig-<skin name>.png for each file (the skin is named after the preset). Needs matplotlib.
"""
import json
import struct
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rest_pose(path):
    """(names, parents, rest positions) of the skin's joints: rest translations chained from the root."""
    data = Path(path).read_bytes()
    length = struct.unpack("<I", data[12:16])[0]
    doc = json.loads(data[20:20 + length])
    nodes = doc["nodes"]
    joints = doc["skins"][0]["joints"]
    parent = {c: i for i, n in enumerate(nodes) for c in n.get("children", [])}
    position = {}
    for j in joints:  # parents first, as the writer orders them
        t = nodes[j].get("translation", [0, 0, 0])
        p = position.get(parent.get(j), [0, 0, 0])
        position[j] = [p[k] + t[k] for k in range(3)]
    names = [nodes[j]["name"] for j in joints]
    parents = [joints.index(parent[j]) if j in parent else -1 for j in joints]
    return doc["skins"][0]["name"], names, parents, [position[j] for j in joints]


def draw(path, out_dir):
    preset, names, parents, pos = rest_pose(path)
    fig, axes = plt.subplots(1, 2, figsize=(11, 8), gridspec_kw={"width_ratios": [3, 2]})
    for ax, (h, title) in zip(axes, [(0, "front (x: the person's left)"), (2, "side (z: forward)")]):
        for j, p in enumerate(parents):
            if p >= 0:
                side = names[j].lower()
                left = any(s in side for s in ("left", "_l", ".l")) and "pelvis" not in side
                right = any(s in side for s in ("right", "_r", ".r"))
                color = "tab:blue" if left else ("tab:red" if right else "0.3")
                ax.plot([pos[p][h], pos[j][h]], [pos[p][1], pos[j][1]], "-", color=color, lw=2)
        ax.plot([q[h] for q in pos], [q[1] for q in pos], "o", color="k", ms=3)
        if h == 0:
            # Label each joint once; joints on one spot (the clavicles start at the neck) share a line.
            spots = {}
            for j, q in enumerate(pos):
                spots.setdefault((round(q[0], 3), round(q[1], 3)), []).append(names[j].replace("mixamorig:", ""))
            for (x, y), labels in spots.items():
                # Joints on the middle line are labelled to their left, the others outwards; the
                # arms' labels slant so that neighbours along a horizontal arm do not overlap.
                middle = abs(x) < 0.03
                outwards = -1 if middle or x < 0 else 1
                arm = not middle and y > 0.5 * max(q[1] for q in pos)
                ax.annotate(", ".join(labels), (x, y), xytext=(4 * outwards, 3), textcoords="offset points", fontsize=7,
                            ha="left" if outwards > 0 else "right", rotation=40 * outwards if arm else 0,
                            rotation_mode="anchor")
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=10)
        ax.axhline(0, color="0.8", lw=1)
        ax.grid(True, color="0.92")
    fig.suptitle(f"--rig {preset}: rest pose, {len(names)} joints" + (" (names prefixed mixamorig:)" if preset == "mixamo" else ""))
    fig.tight_layout()
    out = Path(out_dir) / f"rig-{preset}.png"
    fig.savefig(out, dpi=80)
    print(out)


if __name__ == "__main__":
    for f in sys.argv[2:]:
        draw(f, sys.argv[1])
