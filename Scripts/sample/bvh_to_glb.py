"""Makes a reference skinned GLB with Blender alone: imports a BVH (the stock importer), adds one box
per bone (8 vertices, weight 1 to that bone, an Armature modifier) and exports GLB with Blender's own
glTF exporter (every frame sampled, +Y up). Used to test FBX converters and to compare with
mhformer's own GLB writer.

    blender -b --factory-startup --python Scripts/sample/bvh_to_glb.py -- IN.bvh OUT.glb

Blender's exporter writes key times t = blender_frame / fps: a BVH's frame i (0-based, Blender frame
i + 1) lands at t = (i + 1) / fps, not i / fps. Its nodes: the bones, the mesh, and the armature
object as the bones' parent node (named Armature).
"""
import builtins
import sys

import bmesh
import bpy
from mathutils import Vector

# As in import_rig.py: open()'s 'U' mode for the BVH importer, np.bool for the glTF add-on.
_open = builtins.open
builtins.open = lambda f, mode="r", *a, **k: _open(f, mode.replace("U", ""), *a, **k)
import numpy  # noqa: E402  (python3-numpy: the glTF exporter needs it)
if "bool" not in numpy.__dict__:
    numpy.bool = bool

src, dst = sys.argv[sys.argv.index("--") + 1:][:2]
for ob in list(bpy.data.objects):
    bpy.data.objects.remove(ob)
bpy.ops.import_anim.bvh(filepath=src, update_scene_fps=True, update_scene_duration=True)
arm = bpy.context.object
arm.name = "Armature"

mesh = bpy.data.meshes.new("Body")
body = bpy.data.objects.new("Body", mesh)
bpy.context.collection.objects.link(body)
bm = bmesh.new()
owners = []
r = 0.02
for b in arm.data.bones:
    head, tail = arm.matrix_world @ b.head_local, arm.matrix_world @ b.tail_local
    v = [bm.verts.new(p + Vector(d)) for p in (head, tail) for d in ((r, r, 0), (-r, r, 0), (-r, -r, 0), (r, -r, 0))]
    for face in ((0, 1, 2, 3), (4, 7, 6, 5), (0, 4, 5, 1), (1, 5, 6, 2), (2, 6, 7, 3), (3, 7, 4, 0)):
        bm.faces.new([v[i] for i in face])
    owners += [b.name] * 8
bm.to_mesh(mesh)
bm.free()
for name in dict.fromkeys(owners):
    body.vertex_groups.new(name=name)
for i, name in enumerate(owners):
    body.vertex_groups[name].add([i], 1.0, 'REPLACE')
body.modifiers.new("Armature", 'ARMATURE').object = arm
body.parent = arm

bpy.ops.export_scene.gltf(filepath=dst, export_format='GLB', export_animations=True,
                          export_force_sampling=True, export_yup=True, export_skins=True)
print(f"MHFORMER_GLB {dst}: {len(arm.data.bones)} bones, action {list(arm.animation_data.action.frame_range)}, "
      f"fps {bpy.context.scene.render.fps}")
