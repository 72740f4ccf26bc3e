#!/usr/bin/env python3
"""Structural check of a glTF 2.0 file (.glb, or .gltf with data: or relative buffer URIs), for the
GLB export: what Blender or a game engine would trip over, checked against the binary data itself.

    python3 Scripts/check-gltf.py FILE.glb

Prints one summary line and exits 0, or prints one line `check-gltf: FILE: reason` and exits 1.
Needs pygltflib and numpy (`pip install pygltflib numpy`). The Khronos glTF-Validator is not in
reach here: it is published on npm only (gltf-validator, Dart compiled to JS), and npm's registry
cannot be reached from the project's machines (PyPI and Debian can; neither packages it).

Checked:
- GLB: magic, version 2, declared length = file length, a JSON chunk first (4-byte padded), an
  optional BIN chunk second that holds buffer 0 (padding at most 3 bytes), nothing after;
- indices in range: scene nodes, node children/mesh/skin, skin joints and skeleton, animation
  channel targets and samplers, accessors' bufferViews, bufferViews' buffers; nodes form a forest
  (no node with two parents, no cycle);
- every bufferView fits its buffer; every accessor (stride and matrix column padding included, and
  sparse parts) fits its bufferView, aligned to its component size;
- min/max present on POSITION attributes and animation sampler inputs, and wherever present equal to
  the data's own min/max (as float32 for float components; the stored integers for normalised ones,
  as the spec says; sparse substitutions applied), as the Khronos validator requires;
- animation samplers: input a float SCALAR with times >= 0 and strictly increasing; output count =
  input count (LINEAR, STEP) or 3x (CUBICSPLINE), times the morph target count for `weights`;
  rotation outputs VEC4 of unit length (within 1e-5), translation/scale VEC3;
- skins: inverseBindMatrices a float MAT4 accessor with one matrix per joint;
- skinned primitives: JOINTS_n/WEIGHTS_n in pairs, the node that uses the mesh has a skin, every
  joint index < the skin's joint count, every vertex's weights (all sets) sum to 1 within 1e-5
  (one step of the component type for normalised integers); indices < the vertex count.
"""
import json
import math
import os
import struct
import sys
import urllib.parse
import warnings

try:
    import numpy as np
    import pygltflib
except ImportError as e:  # pragma: no cover - environment
    print(f"check-gltf: needs numpy and pygltflib (pip install pygltflib numpy): {e}")
    sys.exit(2)

COMPONENT = {  # componentType: (numpy dtype, size, normalisation divisor for normalized=true)
    5120: (np.int8, 1, 127.0), 5121: (np.uint8, 1, 255.0),
    5122: (np.int16, 2, 32767.0), 5123: (np.uint16, 2, 65535.0),
    5125: (np.uint32, 4, None), 5126: (np.float32, 4, None),
}
NUM = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


class Bad(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Bad(msg)


def in_range(i, seq, what):
    need(isinstance(i, int) and seq is not None and 0 <= i < len(seq), f"{what} {i} out of range (have {len(seq or [])})")


def element_layout(acc):
    """(bytes one element occupies, list of (byte offset, component count) of its columns)."""
    _, size, _ = COMPONENT[acc.componentType]
    n = NUM[acc.type]
    if acc.type.startswith("MAT"):
        rows = int(math.isqrt(n))
        col = rows * size
        padded = (col + 3) // 4 * 4  # matrix columns start on 4-byte boundaries
        return padded * rows, [(c * padded, rows) for c in range(rows)]
    return n * size, [(0, n)]


def read_view(gl, buffers, view_index, offset, count, acc_like):
    """The elements of an accessor-like (componentType, type) stored in a bufferView, as a
    count x components float64/int64 array; checks that they fit."""
    in_range(view_index, gl.bufferViews, "bufferView")
    view = gl.bufferViews[view_index]
    dtype, size, _ = COMPONENT[acc_like.componentType]
    elem, columns = element_layout(acc_like)
    stride = view.byteStride or elem
    need(stride >= elem, f"bufferView {view_index}: byteStride {stride} < element size {elem}")
    need(offset % size == 0 and ((view.byteOffset or 0) + offset) % size == 0,
         f"bufferView {view_index}: accessor offset {offset} not aligned to its {size}-byte components")
    need(count >= 1, "accessor count < 1")
    end = offset + stride * (count - 1) + elem
    need(end <= view.byteLength,
         f"bufferView {view_index}: accessor needs bytes {offset}..{end} but the view has {view.byteLength}")
    base = (view.byteOffset or 0) + offset
    raw = buffers[view.buffer]
    out = np.empty((count, NUM[acc_like.type]), dtype=np.float64 if dtype == np.float32 else np.int64)
    k = 0
    for col_off, n in columns:
        a = np.ndarray(shape=(count, n), dtype=np.dtype(dtype).newbyteorder("<"), buffer=raw,
                       offset=base + col_off, strides=(stride, size))
        out[:, k:k + n] = a
        k += n
    return out


class Acc:
    def __init__(self, componentType, type):
        self.componentType, self.type = componentType, type


def read_accessor(gl, buffers, i, cache):
    if i in cache:
        return cache[i]
    in_range(i, gl.accessors, "accessor")
    acc = gl.accessors[i]
    need(acc.componentType in COMPONENT, f"accessor {i}: componentType {acc.componentType} unknown")
    need(acc.type in NUM, f"accessor {i}: type {acc.type} unknown")
    need(isinstance(acc.count, int) and acc.count >= 1, f"accessor {i}: count {acc.count}")
    try:
        if acc.bufferView is not None:
            data = read_view(gl, buffers, acc.bufferView, acc.byteOffset or 0, acc.count, acc)
        else:
            data = np.zeros((acc.count, NUM[acc.type]))
        if acc.sparse is not None:
            sp = acc.sparse
            need(1 <= sp.count <= acc.count, f"sparse count {sp.count}")
            idx = read_view(gl, buffers, sp.indices.bufferView, sp.indices.byteOffset or 0, sp.count,
                            Acc(sp.indices.componentType, "SCALAR"))[:, 0]
            need(np.all(np.diff(idx) > 0) and idx.max() < acc.count, "sparse indices not increasing or out of range")
            vals = read_view(gl, buffers, sp.values.bufferView, sp.values.byteOffset or 0, sp.count, acc)
            data = data.astype(vals.dtype)
            data[idx.astype(np.int64)] = vals
    except Bad as e:
        raise Bad(f"accessor {i}: {e}")
    cache[i] = data
    return data


def read_values(gl, buffers, i, cache):
    """The accessor's values as the data means them: normalised integers mapped to [-1, 1] / [0, 1]."""
    data = read_accessor(gl, buffers, i, cache)
    acc = gl.accessors[i]
    if acc.normalized:
        div = COMPONENT[acc.componentType][2]
        need(div is not None, f"accessor {i}: normalized with a component type that cannot be")
        data = np.maximum(data / div, -1.0)
    return data


def check_bounds(gl, buffers, cache, required):
    for i, acc in enumerate(gl.accessors or []):
        if i in required:
            need(acc.min is not None and acc.max is not None, f"accessor {i} ({required[i]}): min/max missing (required)")
        if acc.min is None and acc.max is None:
            continue
        data = read_accessor(gl, buffers, i, cache)
        for name, declared, actual in (("min", acc.min, data.min(axis=0)), ("max", acc.max, data.max(axis=0))):
            need(declared is not None and len(declared) == data.shape[1],
                 f"accessor {i}: {name} has {len(declared or [])} values for {data.shape[1]} components")
            d = np.asarray(declared, dtype=np.float64)
            if acc.componentType == 5126:
                d, a = d.astype(np.float32), actual.astype(np.float32)
            else:
                a = actual
            if not np.array_equal(d, a):
                j = int(np.argmax(np.abs(d.astype(np.float64) - a.astype(np.float64))))
                raise Bad(f"accessor {i}: {name}[{j}] declared {declared[j]!r} but the data's is {float(actual[j])!r}")


def load_buffers(path, blob, gl):
    buffers = []
    for i, b in enumerate(gl.buffers or []):
        if b.uri is None:
            need(i == 0 and blob is not None, f"buffer {i} has no uri and is not the GLB's BIN chunk")
            need(len(blob) >= b.byteLength and len(blob) - b.byteLength <= 3,
                 f"BIN chunk of {len(blob)} bytes for buffer 0 of {b.byteLength}")
            data = blob[:b.byteLength]
        elif b.uri.startswith("data:"):
            data = gl.decode_data_uri(b.uri)
        else:
            with open(os.path.join(os.path.dirname(path), urllib.parse.unquote(b.uri)), "rb") as f:
                data = f.read()
        need(len(data) >= b.byteLength, f"buffer {i}: {len(data)} bytes, declares {b.byteLength}")
        buffers.append(bytes(data))
    return buffers


def parse_glb(raw):
    need(len(raw) >= 20, "shorter than a GLB header and one chunk")
    magic, version, length = struct.unpack_from("<4sII", raw, 0)
    need(magic == b"glTF", f"magic {magic!r}, not b'glTF'")
    need(version == 2, f"GLB version {version}")
    need(length == len(raw), f"header length {length} but the file has {len(raw)} bytes")
    chunks, pos = [], 12
    while pos < length:
        need(pos + 8 <= length, f"truncated chunk header at byte {pos}")
        clen, ctype = struct.unpack_from("<II", raw, pos)
        need(clen % 4 == 0, f"chunk at byte {pos}: length {clen} not a multiple of 4")
        need(pos + 8 + clen <= length, f"chunk at byte {pos} runs past the end")
        chunks.append((ctype, raw[pos + 8:pos + 8 + clen]))
        pos += 8 + clen
    need(chunks and chunks[0][0] == 0x4E4F534A, "first chunk is not JSON")
    need(len(chunks) <= 2, f"{len(chunks)} chunks (JSON and at most one BIN)")
    blob = None
    if len(chunks) == 2:
        need(chunks[1][0] == 0x004E4942, f"second chunk type {chunks[1][0]:#x} is not BIN")
        blob = chunks[1][1]
    text = chunks[0][1].rstrip(b" ").decode("utf-8")
    return json.loads(text), blob


def check(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] == b"glTF":
        doc, blob = parse_glb(raw)
    else:
        doc, blob = json.loads(raw.decode("utf-8")), None
    need(str(doc.get("asset", {}).get("version", "")).startswith("2."), "asset.version is not 2.x")
    with warnings.catch_warnings():  # dataclasses_json warns about every optional field left out
        warnings.simplefilter("ignore")
        gl = pygltflib.GLTF2.from_dict(doc)
    for acc, raw_acc in zip(gl.accessors or [], doc.get("accessors", [])):
        acc.min, acc.max = raw_acc.get("min"), raw_acc.get("max")  # pygltflib turns "absent" into []
    buffers = load_buffers(path, blob, gl)
    cache = {}

    for i, v in enumerate(gl.bufferViews or []):
        in_range(v.buffer, gl.buffers, f"bufferView {i}: buffer")
        end = (v.byteOffset or 0) + v.byteLength
        need(end <= gl.buffers[v.buffer].byteLength,
             f"bufferView {i}: bytes {v.byteOffset or 0}..{end} past buffer {v.buffer}'s {gl.buffers[v.buffer].byteLength}")
        if v.byteStride is not None:
            need(4 <= v.byteStride <= 252 and v.byteStride % 4 == 0, f"bufferView {i}: byteStride {v.byteStride}")
    for i in range(len(gl.accessors or [])):
        read_accessor(gl, buffers, i, cache)  # fits its view, aligned

    nodes = gl.nodes or []
    parent = {}
    for i, n in enumerate(nodes):
        for c in n.children or []:
            in_range(c, nodes, f"node {i}: child")
            need(c not in parent, f"node {c} has two parents ({parent.get(c)} and {i})")
            parent[c] = i
        if n.mesh is not None:
            in_range(n.mesh, gl.meshes, f"node {i}: mesh")
        if n.skin is not None:
            in_range(n.skin, gl.skins, f"node {i}: skin")
            need(n.mesh is not None, f"node {i}: skin without a mesh")
    for i in range(len(nodes)):  # no cycles
        seen, j = set(), i
        while j in parent:
            need(j not in seen, f"node {i}: cycle in the hierarchy")
            seen.add(j)
            j = parent[j]
    for s, sc in enumerate(gl.scenes or []):
        for r in sc.nodes or []:
            in_range(r, nodes, f"scene {s}: node")
            need(r not in parent, f"scene {s}: node {r} is not a root")
    if gl.scene is not None:
        in_range(gl.scene, gl.scenes, "scene")

    required = {}
    joints_total = 0
    for s, skin in enumerate(gl.skins or []):
        need(skin.joints, f"skin {s}: no joints")
        for j in skin.joints:
            in_range(j, nodes, f"skin {s}: joint")
        need(len(set(skin.joints)) == len(skin.joints), f"skin {s}: a joint listed twice")
        if skin.skeleton is not None:
            in_range(skin.skeleton, nodes, f"skin {s}: skeleton")
        if skin.inverseBindMatrices is not None:
            acc = gl.accessors[skin.inverseBindMatrices] if 0 <= skin.inverseBindMatrices < len(gl.accessors or []) else None
            need(acc is not None, f"skin {s}: inverseBindMatrices accessor out of range")
            need(acc.type == "MAT4" and acc.componentType == 5126, f"skin {s}: inverseBindMatrices is {acc.type}/{acc.componentType}, not float MAT4")
            need(acc.count == len(skin.joints), f"skin {s}: {acc.count} inverse bind matrices for {len(skin.joints)} joints")
        joints_total += len(skin.joints)

    mesh_skins = {}
    for i, n in enumerate(nodes):
        if n.mesh is not None:
            mesh_skins.setdefault(n.mesh, []).append(n.skin)
    vertices = 0
    for m, mesh in enumerate(gl.meshes or []):
        for p, prim in enumerate(mesh.primitives or []):
            where = f"mesh {m} primitive {p}"
            attrs = prim.attributes if isinstance(prim.attributes, dict) else vars(prim.attributes)
            attrs = {k: v for k, v in attrs.items() if v is not None}
            need("POSITION" in attrs, f"{where}: no POSITION")
            for k, a in attrs.items():
                in_range(a, gl.accessors, f"{where}: {k} accessor")
            nverts = gl.accessors[attrs["POSITION"]].count
            vertices += nverts
            required[attrs["POSITION"]] = f"{where} POSITION"
            for k, a in attrs.items():
                need(gl.accessors[a].count == nverts, f"{where}: {k} has {gl.accessors[a].count} elements for {nverts} vertices")
            if prim.indices is not None:
                idx = read_accessor(gl, buffers, prim.indices, cache)
                need(idx.max() < nverts, f"{where}: index {int(idx.max())} >= {nverts} vertices")
            sets = sorted(int(k.split("_")[1]) for k in attrs if k.startswith("JOINTS_"))
            wsets = sorted(int(k.split("_")[1]) for k in attrs if k.startswith("WEIGHTS_"))
            need(sets == wsets, f"{where}: JOINTS sets {sets} and WEIGHTS sets {wsets} differ")
            if not sets:
                continue
            for skin_index in mesh_skins.get(m, []):
                need(skin_index is not None, f"{where}: skinned mesh used by a node without a skin")
            total = np.zeros(nverts)
            for k in sets:
                jnt = read_accessor(gl, buffers, attrs[f"JOINTS_{k}"], cache)
                need(gl.accessors[attrs[f"JOINTS_{k}"]].componentType in (5121, 5123), f"{where}: JOINTS_{k} is not unsigned byte/short")
                for skin_index in mesh_skins.get(m, []):
                    nj = len(gl.skins[skin_index].joints)
                    need(jnt.max() < nj, f"{where}: JOINTS_{k} index {int(jnt.max())} >= skin {skin_index}'s {nj} joints")
                wacc = gl.accessors[attrs[f"WEIGHTS_{k}"]]
                w = read_values(gl, buffers, attrs[f"WEIGHTS_{k}"], cache)
                need(w.min() >= 0, f"{where}: WEIGHTS_{k} has a negative weight")
                total += w.sum(axis=1)
            tol = 1e-5 if wacc.componentType == 5126 else 1.0 / COMPONENT[wacc.componentType][2] * 1.01
            bad = int(np.argmax(np.abs(total - 1.0)))
            need(abs(total[bad] - 1.0) <= tol, f"{where}: vertex {bad}'s weights sum to {total[bad]:.7f}")

    channels = keys = 0
    t_end = 0.0
    for a, anim in enumerate(gl.animations or []):
        need(anim.channels and anim.samplers, f"animation {a}: no channels or samplers")
        for s, smp in enumerate(anim.samplers):
            where = f"animation {a} sampler {s}"
            in_range(smp.input, gl.accessors, f"{where}: input")
            in_range(smp.output, gl.accessors, f"{where}: output")
            ia = gl.accessors[smp.input]
            need(ia.type == "SCALAR" and ia.componentType == 5126, f"{where}: input is not float SCALAR")
            required[smp.input] = f"{where} input"
            t = read_accessor(gl, buffers, smp.input, cache)[:, 0]
            need(t[0] >= 0, f"{where}: first time {t[0]} < 0")
            d = np.diff(t)
            need(np.all(d > 0), f"{where}: times not strictly increasing at key {int(np.argmin(d > 0)) + 1}")
            t_end = max(t_end, float(t[-1]))
        targeted = set()
        for c, ch in enumerate(anim.channels):
            where = f"animation {a} channel {c}"
            in_range(ch.sampler, anim.samplers, f"{where}: sampler")
            need(ch.target.node is not None, f"{where}: no target node")
            in_range(ch.target.node, nodes, f"{where}: target node")
            key = (ch.target.node, ch.target.path)
            need(key not in targeted, f"{where}: node {key[0]} {key[1]} targeted twice")
            targeted.add(key)
            smp = anim.samplers[ch.sampler]
            interp = smp.interpolation or "LINEAR"
            need(interp in ("LINEAR", "STEP", "CUBICSPLINE"), f"{where}: interpolation {interp}")
            n_in = gl.accessors[smp.input].count
            oa = gl.accessors[smp.output]
            per = 1
            if ch.target.path == "weights":
                mesh = gl.meshes[nodes[ch.target.node].mesh] if nodes[ch.target.node].mesh is not None else None
                need(mesh is not None, f"{where}: weights on a node without a mesh")
                per = len(mesh.primitives[0].targets or [])
                need(oa.type == "SCALAR", f"{where}: weights output is {oa.type}")
            else:
                want = {"rotation": "VEC4", "translation": "VEC3", "scale": "VEC3"}.get(ch.target.path)
                need(want is not None, f"{where}: path {ch.target.path}")
                need(oa.type == want, f"{where}: {ch.target.path} output is {oa.type}, not {want}")
                need(oa.componentType == 5126 or (ch.target.path == "rotation" and oa.normalized),
                     f"{where}: {ch.target.path} output component type {oa.componentType}")
            expect = n_in * per * (3 if interp == "CUBICSPLINE" else 1)
            need(oa.count == expect, f"{where}: {oa.count} outputs for {n_in} times ({interp}{', x%d targets' % per if per != 1 else ''}: {expect})")
            if ch.target.path == "rotation":
                q = read_values(gl, buffers, smp.output, cache)
                if interp == "CUBICSPLINE":
                    q = q[1::3]
                norm = np.linalg.norm(q, axis=1)
                k = int(np.argmax(np.abs(norm - 1)))
                need(abs(norm[k] - 1) <= 1e-5, f"{where}: quaternion {k} has length {norm[k]:.7f}")
            channels += 1
            keys += n_in

    check_bounds(gl, buffers, cache, required)
    return (f"{len(nodes)} nodes, {len(gl.meshes or [])} meshes ({vertices} vertices), {len(gl.skins or [])} skins "
            f"({joints_total} joints), {len(gl.animations or [])} animations ({channels} channels, {keys} keys, "
            f"to {t_end:.3f} s), {len(gl.accessors or [])} accessors, {sum(len(b) for b in buffers)} buffer bytes")


def main():
    if len(sys.argv) != 2:
        print("usage: check-gltf.py FILE.glb")
        sys.exit(2)
    path = sys.argv[1]
    try:
        summary = check(path)
    except Bad as e:
        print(f"check-gltf: {os.path.basename(path)}: {e}")
        sys.exit(1)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, struct.error) as e:
        print(f"check-gltf: {os.path.basename(path)}: unreadable: {type(e).__name__}: {e}")
        sys.exit(1)
    print(f"check-gltf: {os.path.basename(path)} OK: {summary}")


if __name__ == "__main__":
    main()
