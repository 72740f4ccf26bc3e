"""Imports a rig (BVH, glTF/GLB or FBX) with Blender's stock importer for its extension and prints
what Blender sees as ONE line `MHFORMER_RIG {json}`:

    blender -b --factory-startup --python Scripts/sample/import_rig.py -- FILE.(bvh|glb|gltf|fbx) [--fps F] [FRAME ...]

JSON keys: file, format, armatures (how many), armature (its object name), bones (names, Blender's
order), bone_count, action (name), frame_range (of the armature's action, [first, last] keyframe),
scene_fps (render.fps / fps_base), scene_frames ([frame_start, frame_end]), scale (the armature
object's world scale), heads ({frame: {bone: [x, y, z]}}: matrix_world @ pose_bone.head, Blender's
Z-up world, metres as Blender reports them), meshes (how many mesh objects), skinned (whether one is
deformed by the armature: an Armature modifier pointing at it, or parented to it with an armature
parent type), mesh_details ([{name, vertices, vertex_groups, armature_modifier, parent, armature_parent}]), frame_map.

Frames may be fractional (1.5): the scene is evaluated at the subframe.

--fps F (glTF): sets the scene rate to F before importing (render.fps = round(F), fps_base =
round(F) / F), so keys at multiples of 1/F land on whole frames. A BVH sets the scene rate from its
Frame Time (update_scene_fps), and the FBX importer from the file (below), whatever --fps says.

How each importer maps the file's times to Blender frames (Debian's Blender 3.4.1, measured with
keys at t = k/30 s; `frame_map` in the JSON repeats the rule for the format):
- BVH: the file's frame i (0-based) is Blender frame i + 1 (the importer's frame_start=1).
- glTF/GLB (io_import_scene_gltf2 3.4.50): frame = t * scene_fps, with NO offset: the key at t = 0
  is frame 0, so video frame i (0-based, t = i/fps) is Blender frame i. The importer neither reads
  nor changes the scene rate (glTF has none): without --fps the factory 24 fps applies (keys at
  k/30 s came in at frames 0.8 k). Blender's own glTF exporter writes t = frame / fps (frame 1 is
  t = 1/fps), the inverse. The file's first animation becomes the armature's action (named
  ANIMATION_ARMATURE). Axes: glTF's Y-up (x, y, z) is Blender's (x, -z, y) (the importer's fixed
  conversion), metres, armature scale 1; bones keep the joint nodes' names.
- FBX (io_scene_fbx 4.37.1): frame = t * scene_fps + anim_offset, anim_offset defaulting to 1: the
  key at t = 0 is frame 1, so video frame i is Blender frame i + 1, as with BVH. The importer always
  sets the scene rate from the file's GlobalSettings: TimeMode (11 = 24 fps, 10 = 25, 6 = 30, 14 =
  custom), for 14 CustomFrameRate, 25 when neither gives a positive rate.
  Axes and units, import defaults (use_manual_orientation=False, global_scale=1.0): the axes come
  from the file's UpAxis/FrontAxis/CoordAxis (axis_forward='-Z', axis_up='Y' apply only with manual
  orientation); a Y-up file (UpAxis 1, FrontAxis 2, CoordAxis 0, signs +1) maps (x, y, z) to
  (x, -z, y) as glTF does. The armature object is scaled UnitScaleFactor / 100 (FBX counts in
  centimetres): a file that stores metres must declare UnitScaleFactor 100, one declaring 1 comes in
  100x too small. The bone heads reported here include that object scale.
"""
import builtins
import json
import os
import sys

import bpy

# Debian's Blender 3.4 runs on Python 3.11, which removed open()'s 'U' mode that its BVH importer
# still passes: drop the 'U' so the stock importer runs unchanged otherwise.
_open = builtins.open
builtins.open = lambda f, mode="r", *a, **k: _open(f, mode.replace("U", ""), *a, **k)

# Its glTF importer needs numpy, which Debian's blender package does not pull in (apt-get install
# python3-numpy), and builds meshes with np.bool, an alias that Debian 12's numpy 1.24 removed: put
# the alias back (it is the builtin bool) so the stock importer runs unchanged otherwise.
try:
    import numpy
    if "bool" not in numpy.__dict__:
        numpy.bool = bool
except ImportError:
    pass

FRAME_MAP = {
    "bvh": "blender_frame = file_frame + 1 (0-based file frame)",
    "gltf": "blender_frame = time_s * scene_fps (no offset: video frame i is Blender frame i)",
    "fbx": "blender_frame = time_s * scene_fps + 1 (anim_offset 1: video frame i is Blender frame i + 1; scene_fps from the file)",
}


def parse(argv):
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    if not args:
        sys.exit("usage: blender -b --factory-startup --python import_rig.py -- FILE [--fps F] [FRAME ...]")
    path, fps, frames, rest = args[0], None, [], args[1:]
    i = 0
    while i < len(rest):
        if rest[i] == "--fps":
            fps = float(rest[i + 1])
            i += 2
        else:
            frames.append(float(rest[i]))
            i += 1
    return path, fps, frames


def set_fps(fps):
    scene = bpy.context.scene
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps


def import_file(path, fps):
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext == "bvh":
        bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True)
        return "bvh"
    if fps:
        set_fps(fps)
    if ext in ("glb", "gltf"):
        bpy.ops.import_scene.gltf(filepath=path)
        return "gltf"
    if ext == "fbx":
        bpy.ops.import_scene.fbx(filepath=path)
        return "fbx"
    sys.exit(f"import_rig: unknown extension .{ext}")


def skinned_by(mesh, arm):
    modifier = any(m.type == "ARMATURE" and m.object == arm for m in mesh.modifiers)
    parent = mesh.parent == arm and mesh.parent_type == "ARMATURE"
    return modifier, parent


def main():
    path, fps, frames = parse(sys.argv)
    # The factory scene's cube, camera and light would count as meshes/objects: start empty.
    for ob in list(bpy.data.objects):
        bpy.data.objects.remove(ob)
    fmt = import_file(path, fps)
    scene = bpy.context.scene
    arms = [o for o in scene.objects if o.type == "ARMATURE"]
    if not arms:
        sys.exit("import_rig: no armature imported")
    arm = max(arms, key=lambda o: len(o.data.bones))
    action = arm.animation_data.action if arm.animation_data else None
    heads = {}
    for f in frames:
        whole = int(f // 1)
        scene.frame_set(whole, subframe=f - whole)
        key = str(whole) if f == whole else str(f)
        heads[key] = {pb.name: [round(v, 7) for v in arm.matrix_world @ pb.head] for pb in arm.pose.bones}
    meshes = [o for o in scene.objects if o.type == "MESH"]
    details = []
    for m in meshes:
        modifier, parent = skinned_by(m, arm)
        details.append({
            "name": m.name, "vertices": len(m.data.vertices), "vertex_groups": len(m.vertex_groups),
            "armature_modifier": modifier, "parent": m.parent.name if m.parent else None,
            "armature_parent": parent,
        })
    print("MHFORMER_RIG " + json.dumps({
        "file": os.path.basename(path),
        "format": fmt,
        "armatures": len(arms),
        "armature": arm.name,
        "bones": [b.name for b in arm.data.bones],
        "bone_count": len(arm.data.bones),
        "action": action.name if action else None,
        "frame_range": list(action.frame_range) if action else None,
        "scene_fps": scene.render.fps / scene.render.fps_base,
        "scene_frames": [scene.frame_start, scene.frame_end],
        "scale": list(arm.matrix_world.to_scale()),
        "objects": sorted(o.name for o in scene.objects),
        "heads": heads,
        "meshes": len(meshes),
        "skinned": any(d["armature_modifier"] or d["armature_parent"] for d in details),
        "mesh_details": details,
        "frame_map": FRAME_MAP[fmt],
    }))


main()
