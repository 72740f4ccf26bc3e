"""Blender scene pieces shared by render_blender.py (one person) and render_crowd.py (several people).

Render settings, sky, brick floor, back wall, sun, the OpenCV camera of the ground truth, the
mannequin's materials and mesh, the per-frame render loop and the H.264 encode. Only Blender's
Python can import this module (it needs bpy); the numpy-only pieces are in synth_gt.py / figure.py.
Everything here is deterministic: the same inputs give the same pixels.
"""
import os
import subprocess
import time

import bpy
import numpy as np
from mathutils import Matrix, Vector

import figure

ENGINES = {"EEVEE": "BLENDER_EEVEE", "CYCLES": "CYCLES", "WORKBENCH": "BLENDER_WORKBENCH"}


def add_render_args(ap):
    """The render options both renderers take (frames folder, engine, samples, light, H.264 quality)."""
    ap.add_argument("--frames-dir", default=None, help="PNG frames (default: <out-dir>/<name>_frames)")
    ap.add_argument("--engine", default="WORKBENCH", choices=["WORKBENCH", "EEVEE", "CYCLES"])
    ap.add_argument("--samples", type=int, default=8, help="EEVEE/Cycles samples per pixel")
    ap.add_argument("--studio-light", default="outdoor.sl", help="Workbench studio light: Default, basic.sl, outdoor.sl, "
                    "paint.sl, rim.sl, studio.sl")
    ap.add_argument("--crf", type=int, default=18, help="H.264 quality (lower = better, bigger)")


def parse_style(text):
    """figure.py style overrides from "face=0,hair=0,sleeves=long" (numbers but for sleeves)."""
    style = {}
    for kv in filter(None, text.split(",")):
        k, v = kv.split("=")
        style[k] = v if k == "sleeves" else float(v)
    return style


# mocap world (m, Y up) -> Blender world (m, Z up): (x, y, z) -> (x, -z, y)
MB = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], float)


def to_bl(p):
    return np.asarray(p) @ MB.T


def srgb(c):
    """sRGB 0-255 (tuple or 'r,g,b') -> linear RGBA, as Blender's colour sockets want."""
    c = np.array([float(x) for x in c.split(",")] if isinstance(c, str) else c) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return (*lin, 1.0)


# ---------------------------------------------------------------- render settings, sky
def setup_render(W, H, fps, engine, samples=8, studio_light="outdoor.sl"):
    """Empties the file and sets resolution, engine and colour management. -> the scene."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.resolution_x, sc.render.resolution_y, sc.render.resolution_percentage = W, H, 100
    sc.render.fps = fps
    sc.render.image_settings.file_format = "PNG"
    sc.render.engine = ENGINES[engine]
    workbench = engine == "WORKBENCH"
    if engine == "CYCLES":
        sc.cycles.device = "CPU"
        sc.cycles.samples = samples
        sc.cycles.use_denoising = False       # Debian's Blender has no OpenImageDenoise
        sc.cycles.max_bounces = 3
    elif engine == "EEVEE":
        ee = sc.eevee
        ee.taa_render_samples = samples
        ee.use_gtao = True
        ee.gtao_distance = 0.4
        ee.use_soft_shadows = True
        ee.shadow_cube_size = "1024"
        ee.shadow_cascade_size = "2048"
    else:
        sh = sc.display.shading
        sh.light = "STUDIO"
        sh.studio_light = studio_light
        sh.color_type = "TEXTURE"             # image textures where a material has one, else diffuse_color
        sh.show_shadows = True
        sh.shadow_intensity = 0.4
        sh.show_cavity = False
        sh.show_specular_highlight = False    # no plastic-looking highlights on the clothes
    if workbench:
        sc.view_settings.view_transform = "Standard"
    else:
        sc.view_settings.view_transform = "Filmic"
        sc.view_settings.look = "Medium High Contrast"

    world = bpy.data.worlds.new("world")
    sc.world = world
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    bg.inputs[0].default_value = srgb((200, 212, 228))
    bg.inputs[1].default_value = 0.9
    world.color = srgb((200, 205, 212))[:3]
    return sc


def material(name, rgb, rough=0.6, sss=0.0):
    m = bpy.data.materials.new(name)
    m.use_nodes = True
    p = m.node_tree.nodes["Principled BSDF"]
    p.inputs["Base Color"].default_value = srgb(rgb)
    p.inputs["Roughness"].default_value = rough
    p.inputs["Specular"].default_value = 0.3
    if sss:
        p.inputs["Subsurface"].default_value = sss
        p.inputs["Subsurface Color"].default_value = srgb((230, 120, 100))
        p.inputs["Subsurface Radius"].default_value = (0.01, 0.004, 0.002)
    m.diffuse_color = p.inputs["Base Color"].default_value   # the colour Workbench shows
    return m


def brick_floor(workbench):
    m = bpy.data.materials.new("floor")
    m.use_nodes = True
    nt = m.node_tree
    p = nt.nodes["Principled BSDF"]
    br = nt.nodes.new("ShaderNodeTexBrick")
    br.inputs["Color1"].default_value = srgb((150, 140, 128))
    br.inputs["Color2"].default_value = srgb((128, 120, 110))
    br.inputs["Mortar"].default_value = srgb((95, 90, 85))
    br.inputs["Scale"].default_value = 1.5
    br.inputs["Mortar Size"].default_value = 0.01
    br.inputs["Brick Width"].default_value = 1.0
    br.inputs["Row Height"].default_value = 0.5
    tc = nt.nodes.new("ShaderNodeTexCoord")
    nt.links.new(tc.outputs["Object"], br.inputs["Vector"])
    nt.links.new(br.outputs["Color"], p.inputs["Base Color"])
    p.inputs["Roughness"].default_value = 0.8
    m.diffuse_color = srgb((140, 130, 120))
    if workbench:   # Workbench cannot show procedural textures, only images: paint the same bricks
        img = nt.nodes.new("ShaderNodeTexImage")
        img.image = brick_image()
        nt.nodes.active = img               # the texture Workbench shows
    return m


def brick_image(px=512, tile_m=2.0, brick_m=(2 / 3, 1 / 3), mortar_m=0.012, seed=0):
    """A seamless tile_m x tile_m image of running-bond bricks (like the EEVEE brick texture), for
    Workbench. The floor's UVs repeat it every tile_m metres."""
    rng = np.random.default_rng(seed)
    ppm = px / tile_m
    bw, bh = brick_m[0] * ppm, brick_m[1] * ppm
    y, x = np.mgrid[0:px, 0:px] + 0.5
    row = np.floor(y / bh).astype(int)
    xs = x + (row % 2) * bw / 2
    col = np.floor(xs / bw).astype(int) % int(round(px / bw))
    shade = rng.uniform(0, 1, (row.max() + 1, col.max() + 1))[row, col]
    c1, c2, mortar = np.array([190, 180, 166]), np.array([165, 156, 144]), np.array([120, 114, 106])
    rgb = (c1[None, None] * shade[..., None] + c2[None, None] * (1 - shade[..., None])) / 255.0
    m = mortar_m * ppm / 2
    edge = (np.minimum(y % bh, bh - y % bh) < m) | (np.minimum(xs % bw, bw - xs % bw) < m)
    rgb[edge] = mortar / 255.0
    im = bpy.data.images.new("bricks", px, px, alpha=False)
    im.pixels.foreach_set(np.concatenate([rgb, np.ones((px, px, 1))], -1).astype(np.float32).ravel())
    im.pack()
    return im


# ---------------------------------------------------------------- floor, back wall, light
def add_stage(sc, cam_center, workbench):
    """Brick floor (40 m), a 14 m x 5 m back wall 4.5 m behind the world origin (seen from the camera),
    and a sun from the camera's side. cam_center: camera centre in the mocap world."""
    bpy.ops.mesh.primitive_plane_add(size=40, location=(0, 0, 0))
    floor = bpy.context.object
    floor.data.materials.append(brick_floor(workbench))
    uv = floor.data.uv_layers.active.data              # 0..1 over 40 m -> the 2 m brick tile repeats
    uv.foreach_set("uv", np.array([d.uv[:] for d in uv], np.float32).ravel() * 20.0)
    cp = to_bl(cam_center)
    back = -np.array([cp[0], cp[1], 0.0])
    back /= np.linalg.norm(back)                      # horizontal, from the camera through the clip centre
    bpy.ops.mesh.primitive_plane_add(size=1, location=tuple(back * 4.5 + np.array([0, 0, 2.5])))
    wall = bpy.context.object                         # 4.5 m behind the clip centre, 14 m x 5 m
    wall.scale = (14, 5, 1)
    wall.rotation_mode = "XYZ"
    wall.rotation_euler = (np.pi / 2, 0, np.arctan2(back[1], back[0]) + np.pi / 2)
    wall_mat = material("wall", (205, 200, 188), rough=0.9)
    if workbench:
        wall_mat.diffuse_color = (0.9, 0.88, 0.84, 1)
    wall.data.materials.append(wall_mat)

    sun = bpy.data.lights.new("sun", "SUN")           # EEVEE/Cycles only; Workbench uses its studio light
    sun.energy = 3.5
    sun.angle = np.radians(6)
    so = bpy.data.objects.new("sun", sun)
    sc.collection.objects.link(so)
    side = np.cross(back, [0, 0, 1.0])
    sd = -back * 0.6 + side * 0.6 + np.array([0, 0, 1.2])     # from the camera's side, above
    so.rotation_mode = "QUATERNION"
    so.rotation_quaternion = Vector(tuple(-sd)).to_track_quat("-Z", "Y")


# ---------------------------------------------------------------- camera
def add_camera(sc, cam, W):
    """The ground truth's OpenCV camera (synth_gt.place_camera) as the scene camera.

    OpenCV rows (right, down, forward) in the mocap world -> Blender camera axes (x right, y up,
    looking along -z) in the Blender world. A 36 mm sensor fitted horizontally gives fx exactly;
    Blender's principal point is the image centre, as cx = W/2, cy = H/2 of K."""
    R = cam["R"]
    cp = to_bl(cam["center"])
    cols = np.stack([MB @ R[0], -(MB @ R[1]), -(MB @ R[2])], 1)
    camd = bpy.data.cameras.new("cam")
    camd.sensor_fit = "HORIZONTAL"
    camd.sensor_width = 36.0
    camd.lens = cam["K"][0, 0] * 36.0 / W
    camd.clip_start = 0.05
    camd.clip_end = 100
    co = bpy.data.objects.new("cam", camd)
    sc.collection.objects.link(co)
    Mw = Matrix.Identity(4)
    for i in range(3):
        for j in range(3):
            Mw[i][j] = cols[i, j]
        Mw[i][3] = cp[i]
    co.matrix_world = Mw
    sc.camera = co
    return co


# ---------------------------------------------------------------- the figure
def figure_materials(shirt, trousers, workbench, suffix=""):
    """The mannequin's materials, in figure.MATS order by name. suffix makes the names unique per person."""
    return dict(skin=material("skin" + suffix, (222, 170, 138), rough=0.55, sss=0.0 if workbench else 0.15),
                shirt=material("shirt" + suffix, shirt, rough=0.85),
                trousers=material("trousers" + suffix, trousers, rough=0.8),
                shoes=material("shoes" + suffix, (35, 32, 30), rough=0.5),
                hair=material("hair" + suffix, (45, 32, 24), rough=0.7),
                eye_white=material("eye_white" + suffix, (235, 232, 225), rough=0.3),
                eye_dark=material("eye_dark" + suffix, (25, 18, 14), rough=0.2),
                lips=material("lips" + suffix, (165, 85, 80), rough=0.5))


def add_figure(sc, J0, style, mats, name="body"):
    """The mannequin posed as J0 (17x3, mocap world) as a mesh object. -> its mesh (for update_figure)."""
    V0, F0, FM0 = figure.build_figure(J0, style)
    me = bpy.data.meshes.new(name)
    me.from_pydata(to_bl(V0).tolist(), [], F0.tolist())
    for mname in figure.MATS:
        me.materials.append(mats[mname])
    me.polygons.foreach_set("material_index", FM0.astype(np.int32))
    me.polygons.foreach_set("use_smooth", np.ones(len(F0), bool))
    me.update()
    body = bpy.data.objects.new(name, me)
    sc.collection.objects.link(body)
    return me


def update_figure(me, J, style):
    """Pose the mesh as J: same topology every frame, so only the vertices move."""
    V, _, _ = figure.build_figure(J, style)
    me.vertices.foreach_set("co", to_bl(V).astype(np.float32).ravel())
    me.update()


# ---------------------------------------------------------------- render, encode
def render_frames(sc, todo, pose_frame, frames_dir, n_total, verbose_every=25, verbose_all=False):
    """For each frame index i in todo: pose_frame(i) moves the figures, then <frames_dir>/%05d.png is
    rendered. Prints progress and a RENDER_TIME line; returns the per-frame seconds."""
    os.makedirs(frames_dir, exist_ok=True)
    times = []
    for i in todo:
        t0 = time.time()
        pose_frame(i)
        sc.frame_set(i + 1)
        sc.render.filepath = os.path.join(frames_dir, "%05d.png" % i)
        bpy.ops.render.render(write_still=True)
        times.append(time.time() - t0)
        if i % verbose_every == 0 or verbose_all:
            print("frame %d/%d %.2f s" % (i, n_total, times[-1]), flush=True)
    rest = times[1:] if len(times) > 1 else times
    print("RENDER_TIME %d frames, mean %.2f s/frame (first frame %.2f s), total %.0f s"
          % (len(todo), float(np.mean(rest)), times[0], sum(times)), flush=True)
    return times


def encode_mp4(frames_dir, fps, crf, out_mp4):
    """The PNG frames -> H.264 yuv420p mp4 (ffmpeg CLI), no metadata, faststart."""
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-framerate", str(fps),
                    "-i", os.path.join(frames_dir, "%05d.png"), "-c:v", "libx264", "-preset", "medium",
                    "-crf", str(crf), "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                    "-map_metadata", "-1", out_mp4], check=True)
    print("wrote %s (%.0f kB)" % (out_mp4, os.path.getsize(out_mp4) / 1000), flush=True)
