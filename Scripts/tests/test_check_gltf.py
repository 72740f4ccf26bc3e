"""Scripts/check-gltf.py on a small skinned, animated GLB made here, and on copies broken one way each:
the valid file passes, every broken one fails with exit 1 and a reason naming what is wrong.

    python3 -m pytest -q Scripts/tests/test_check_gltf.py

Skipped when numpy or pygltflib is missing (pip install pygltflib numpy).
"""
import copy
import json
import os
import struct
import subprocess
import sys

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pygltflib")

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "check-gltf.py")


def make():
    """A two-joint skin (hips, knee) on a triangle, one animation of 10 keys at 30 fps: the hips'
    translation and rotation. Returns (glTF JSON dict, binary buffer, {name: accessor index})."""
    n = 10
    arrays = {
        "pos": np.array([[0, 1, 0], [0.1, 0.5, 0], [-0.1, 0.5, 0]], np.float32),
        "idx": np.array([0, 1, 2], np.uint16),
        "joints": np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]], np.uint8),
        "weights": np.array([[1, 0, 0, 0]] * 3, np.float32),
        "ibm": np.stack([np.eye(4, dtype=np.float32)] * 2),
        "time": (np.arange(n) / 30.0).astype(np.float32),
        "trans": np.stack([0.01 * np.arange(n), np.ones(n), np.zeros(n)], axis=1).astype(np.float32),
        "rot": np.stack([np.sin(np.radians(5 * np.arange(n))), np.zeros(n), np.zeros(n),
                         np.cos(np.radians(5 * np.arange(n)))], axis=1).astype(np.float32),
    }
    kinds = {"pos": (5126, "VEC3"), "idx": (5123, "SCALAR"), "joints": (5121, "VEC4"), "weights": (5126, "VEC4"),
             "ibm": (5126, "MAT4"), "time": (5126, "SCALAR"), "trans": (5126, "VEC3"), "rot": (5126, "VEC4")}
    blob, views, accessors, index = b"", [], [], {}
    for name, a in arrays.items():
        blob += b"\0" * (-len(blob) % 4)
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": a.nbytes})
        blob += a.tobytes()
        ct, ty = kinds[name]
        acc = {"bufferView": len(views) - 1, "componentType": ct, "count": len(a), "type": ty}
        if name in ("pos", "time"):
            flat = a.reshape(len(a), -1)
            acc["min"], acc["max"] = flat.min(0).tolist(), flat.max(0).tolist()
        index[name] = len(accessors)
        accessors.append(acc)
    blob += b"\0" * (-len(blob) % 4)
    doc = {
        "asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0, 2]}],
        "nodes": [{"name": "hips", "translation": [0, 1, 0], "children": [1]},
                  {"name": "knee", "translation": [0, -0.5, 0]}, {"name": "body", "mesh": 0, "skin": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": index["pos"], "JOINTS_0": index["joints"],
                                                   "WEIGHTS_0": index["weights"]}, "indices": index["idx"]}]}],
        "skins": [{"joints": [0, 1], "inverseBindMatrices": index["ibm"]}],
        "animations": [{"name": "walk",
                        "samplers": [{"input": index["time"], "output": index["trans"]},
                                     {"input": index["time"], "output": index["rot"]}],
                        "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}},
                                     {"sampler": 1, "target": {"node": 0, "path": "rotation"}}]}],
        "buffers": [{"byteLength": len(blob)}], "bufferViews": views, "accessors": accessors,
    }
    return doc, bytearray(blob), index


def glb(doc, blob):
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(blob), 0x004E4942) + bytes(blob)
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def run(tmp_path, data):
    path = tmp_path / "t.glb"
    path.write_bytes(data)
    r = subprocess.run([sys.executable, SCRIPT, str(path)], capture_output=True, text=True)
    return r.returncode, r.stdout.strip()


def put(blob, doc, accessor, row, values):
    """Overwrites one element of a float accessor in the binary buffer."""
    acc = doc["accessors"][accessor]
    view = doc["bufferViews"][acc["bufferView"]]
    n = len(values)
    struct.pack_into(f"<{n}f", blob, view["byteOffset"] + row * 4 * n, *values)


def test_valid_file_passes(tmp_path):
    doc, blob, _ = make()
    code, out = run(tmp_path, glb(doc, blob))
    assert code == 0, out
    assert "OK" in out and "2 joints" in out and "2 channels" in out and out.count("\n") == 0


def broken():
    """(what is broken, mutate(doc, blob, index) -> bytes, words the reason must contain)."""
    def json_only(f):
        def m(doc, blob, ix):
            f(doc, ix)
            return glb(doc, blob)
        return m

    def bin_only(f):
        def m(doc, blob, ix):
            f(doc, blob, ix)
            return glb(doc, blob)
        return m

    return [
        ("header length", lambda d, b, ix: glb(d, b)[:8] + struct.pack("<I", 1) + glb(d, b)[12:], "header length"),
        ("not a GLB", lambda d, b, ix: b"glTF" + b"\x01\0\0\0" + glb(d, b)[8:], "version"),
        ("accessor past its view", json_only(lambda d, ix: d["accessors"][ix["trans"]].update(count=11)), "view has"),
        ("view past the buffer", json_only(lambda d, ix: d["bufferViews"][0].update(byteLength=10 ** 6)), "past buffer"),
        ("POSITION without min/max", json_only(lambda d, ix: d["accessors"][ix["pos"]].pop("min")), "min/max missing"),
        ("time without min/max", json_only(lambda d, ix: d["accessors"][ix["time"]].pop("max")), "min/max missing"),
        ("min not the data's", json_only(lambda d, ix: d["accessors"][ix["pos"]].update(min=[-0.2, 0.5, 0])), "min[0]"),
        ("max not the data's", json_only(lambda d, ix: d["accessors"][ix["time"]].update(max=[1.0])), "max[0]"),
        ("output count", json_only(lambda d, ix: d["animations"][0]["samplers"][1].update(output=ix["trans"])), "VEC3, not VEC4"),
        ("fewer outputs", json_only(lambda d, ix: d["animations"][0]["samplers"][0].update(output=ix["pos"])), "outputs for 10 times"),
        ("times not increasing", bin_only(lambda d, b, ix: put(b, d, ix["time"], 5, [0.1])), "strictly increasing"),
        ("quaternion not unit", bin_only(lambda d, b, ix: put(b, d, ix["rot"], 3, [0.5, 0, 0, 0.5])), "length"),
        ("weights sum", bin_only(lambda d, b, ix: put(b, d, ix["weights"], 1, [0.5, 0, 0, 0])), "sum to"),
        ("joint index", bin_only(lambda d, b, ix: b.__setitem__(d["bufferViews"][d["accessors"][ix["joints"]]["bufferView"]]["byteOffset"] + 4, 2)), "JOINTS_0 index 2"),
        ("inverse bind matrices", json_only(lambda d, ix: d["skins"][0].update(joints=[0, 1, 2])), "inverse bind matrices for 3 joints"),
        ("index past the vertices", bin_only(lambda d, b, ix: struct.pack_into("<H", b, d["bufferViews"][d["accessors"][ix["idx"]]["bufferView"]]["byteOffset"], 7)), "index 7"),
        ("two parents", json_only(lambda d, ix: d["nodes"][2].update(children=[1])), "two parents"),
        ("channel target", json_only(lambda d, ix: d["animations"][0]["channels"][0]["target"].update(node=9)), "target node 9"),
    ]


@pytest.mark.parametrize("what,mutate,reason", broken(), ids=[b[0] for b in broken()])
def test_broken_file_fails(tmp_path, what, mutate, reason):
    doc, blob, ix = make()
    code, out = run(tmp_path, mutate(copy.deepcopy(doc), bytearray(blob), ix))
    assert code == 1, f"{what}: {out}"
    assert reason in out and out.count("\n") == 0, f"{what}: {out}"
