#!/usr/bin/env python3
"""How far each planted ankle moves in Blender over its stance.

    python3 Scripts/sample/foot_lock_stances.py MOTION.json BLENDER.json

MOTION.json: `mhformer run --coords world -o MOTION.json` (per frame `left_foot_contact`, `right_foot_contact`);
BLENDER.json: what Scripts/sample/import_bvh.py printed for the BVH of the same run, with every frame. A stance is a
run of at least 3 contact frames of one foot; its spread is the largest distance of Blender's ankle bone head from
the bone's mean position over the stance. Prints one line per stance and a summary; exit 1 when a spread is 1 cm
or more.
"""
import json
import sys

import numpy as np


def main():
    motion, blender = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
    heads = blender["heads"]
    worst, stances = 0.0, 0
    for side, bone in [("left", "left_ankle"), ("right", "right_ankle")]:
        flags = [f.get(f"{side}_foot_contact") == 1 for f in motion["frames"]]
        start = None
        for i, planted in enumerate(flags + [False]):
            if planted and start is None:
                start = i
            elif not planted and start is not None:
                if i - start >= 3:
                    p = np.array([heads[str(k + 1)][bone] for k in range(start, i)])
                    spread = float(np.linalg.norm(p - p.mean(0), axis=1).max())
                    print(f"{side} foot, frames {start}-{i - 1}: the ankle moves {spread * 1000:.1f} mm")
                    worst, stances = max(worst, spread), stances + 1
                start = None
    print(f"{stances} stances; the planted ankle moves at most {worst * 1000:.1f} mm in Blender")
    sys.exit(1 if worst >= 0.01 or stances == 0 else 0)


if __name__ == "__main__":
    main()
