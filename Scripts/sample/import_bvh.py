"""Imports a BVH with Blender's own importer and prints what Blender sees, as one JSON line:
the armature's bone names, the action's frame range, the scene fps, and the world position of every
bone's head at a few frames (Blender's Z-up axes, the importer's default axis conversion).

    blender -b --factory-startup --python Scripts/sample/import_bvh.py -- FILE.bvh [FRAME ...]
"""
import builtins
import json
import sys

import bpy

# Debian's Blender 3.4 runs on Python 3.11, which removed open()'s 'U' mode that its BVH importer
# still passes: drop the 'U' so the stock importer runs unchanged otherwise.
_open = builtins.open
builtins.open = lambda f, mode="r", *a, **k: _open(f, mode.replace("U", ""), *a, **k)

args = sys.argv[sys.argv.index("--") + 1:]
path, frames = args[0], [int(f) for f in args[1:]]
bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True)
ob = bpy.context.object
heads = {}
for f in frames:
    bpy.context.scene.frame_set(f)
    heads[f] = {pb.name: list(ob.matrix_world @ pb.head) for pb in ob.pose.bones}
print("MHFORMER_BVH " + json.dumps({
    "type": ob.type,
    "bones": [b.name for b in ob.data.bones],
    "frame_range": list(ob.animation_data.action.frame_range),
    "fps": bpy.context.scene.render.fps,
    "heads": heads,
}))
