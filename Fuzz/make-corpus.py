#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into Fuzz/Corpus/<target>/ (committed; rerun after changing it).

Each target gets a handful of small valid inputs (so libFuzzer starts from deep inside the reader)
and near-valid ones (one thing wrong). The TFLite models are built here with a minimal FlatBuffers
writer: no Google model bytes are committed. Standard library only.

Usage: python3 Fuzz/make-corpus.py
"""
import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "Corpus")

H36M = ["pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "spine",
        "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
        "right_wrist"]
MEDIAPIPE = ["nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
             "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
             "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
             "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
             "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
             "left_foot_index", "right_foot_index"]

rng = random.Random(13)


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def num(v):
    return f"{v:.3f}".rstrip("0").rstrip(".")


# --- keypoints2d-csv ---------------------------------------------------------------------------

def csv_2d(rows, scores=False, time=True, size=(640, 480)):
    header = ["frame"] + (["time_s"] if time else []) + ["width", "height"]
    header += [f"{j}_{a}" for j in H36M for a in "xy"]
    if scores:
        header += [f"{j}_score" for j in H36M]
    lines = [",".join(header)]
    for f, present in rows:
        cells = [str(f)] + ([num(f / 30)] if time else []) + [str(size[0]), str(size[1])]
        cells += [num(rng.uniform(0, size[k % 2])) if present else "" for k in range(34)]
        if scores:
            cells += [num(rng.uniform(0, 1)) if present else "" for _ in range(17)]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def keypoints2d_csv():
    t = "keypoints2d-csv"
    write(t, "minimal.csv", csv_2d([(0, True)], time=False))
    write(t, "scores-gap.csv", csv_2d([(0, True), (1, False), (3, True)], scores=True))
    valid = csv_2d([(0, True), (1, True)], scores=True)
    write(t, "bom-crlf.csv", "\ufeff" + valid.replace("\n", "\r\n"))
    lines = valid.splitlines()
    write(t, "near-short-row.csv", "\n".join(lines[:2] + [lines[2].rsplit(",", 1)[0]]) + "\n")
    write(t, "near-hex-number.csv", "\n".join(lines[:2] + [lines[2].replace(",640,", ",0x1p9,", 1)]) + "\n")
    write(t, "near-decreasing.csv", "\n".join([lines[0], lines[2], lines[1]]) + "\n")
    # The dialect's corners: quoted cells (one with a doubled quote in a refused column name), header
    # names in capitals, CR-only line ends, a blank line.
    quoted = ",".join(f'"{c.upper()}"' for c in lines[0].split(",")) + "\r\r" + \
        ",".join(f'"{c}"' if k % 5 == 0 else c for k, c in enumerate(lines[1].split(","))) + "\r"
    write(t, "quoted-cr.csv", quoted)
    write(t, "near-quote-in-name.csv", lines[0].replace("frame", '"fra""me"', 1) + "\n" + lines[1] + "\n")


# --- safetensors -------------------------------------------------------------------------------

def safetensors(tensors, metadata=None, gap=0, header_extra=None):
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw + b"\0" * gap
    if metadata:
        header["__metadata__"] = metadata
    if header_extra:
        header.update(header_extra)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_corpus():
    t = "safetensors"
    f32 = struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 7)
    f16 = struct.pack("<4e", 1, -0.5, 65504, 6e-8)
    bf16 = struct.pack("<3H", 0x3F80, 0xC000, 0x7F80)
    f64 = struct.pack("<2d", 1.25, -3)
    i64 = struct.pack("<2q", 5, -1)
    tensors = [("a.weight", "F32", [2, 3], f32), ("a.bias", "F16", [4], f16), ("b", "BF16", [3], bf16),
               ("c", "F64", [2], f64), ("steps", "I64", [2], i64), ("scalar", "F32", [], struct.pack("<f", 2))]
    write(t, "all-dtypes.safetensors", safetensors(tensors, metadata={"format": "pt"}))
    write(t, "one-tensor.safetensors", safetensors([("w", "F32", [2], struct.pack("<2f", 1, 2))]))
    write(t, "empty-tensor.safetensors", safetensors([("e", "F32", [0, 4], b""), ("w", "F32", [1], f32[:4])]))
    write(t, "near-gap.safetensors", safetensors(tensors[:2], gap=4))
    write(t, "near-truncated.safetensors", safetensors(tensors)[:-5])
    write(t, "near-bad-dtype.safetensors", safetensors([("q", "F8_E4M3", [2], b"\1\2")]))


# --- tflite ------------------------------------------------------------------------------------
# A minimal FlatBuffers writer that lays every object out front to back: a table's vtable right before
# it, its children after it, so every uoffset points forward as the format requires.

class Table:
    def __init__(self, **slots):   # slot number → (kind, value); see Writer.table
        self.fields = sorted((int(k[1:]), v) for k, v in slots.items())


class Writer:
    def __init__(self):
        self.out = bytearray()

    def align(self, n=4):
        self.out += b"\0" * (-len(self.out) % n)

    def u32_at(self, pos, value):
        self.out[pos:pos + 4] = struct.pack("<I", value)

    def table(self, t):
        """Writes table t (and then its children); returns the table's position."""
        inline, refs = bytearray(), []
        offsets = {}
        for slot, (kind, value) in t.fields:
            if kind in ("u8", "bool", "i8"):
                fmt = {"u8": "<B", "bool": "<B", "i8": "<b"}[kind]
                body = struct.pack(fmt, value)
            elif kind in ("i32", "u32"):
                body = struct.pack("<i" if kind == "i32" else "<I", value)
            elif kind == "u64":
                body = struct.pack("<Q", value)
            else:                                     # a reference, patched once the child is written
                body = b"\0\0\0\0"
                refs.append((4 + len(inline), kind, value))
            offsets[slot] = 4 + len(inline)
            inline += body
        slots = (max(offsets) + 1) if offsets else 0
        self.align(2)
        vtable = len(self.out)
        self.out += struct.pack("<HH", 4 + 2 * slots, 4 + len(inline))
        self.out += b"".join(struct.pack("<H", offsets.get(i, 0)) for i in range(slots))
        self.align(4)
        pos = len(self.out)
        self.out += struct.pack("<i", pos - vtable) + inline
        for at, kind, value in refs:
            self.u32_at(pos + at, self.child(kind, value) - (pos + at))
        return pos

    def child(self, kind, value):
        self.align(4)
        if kind == "table":
            return self.table(value)
        if kind == "tables":
            start = len(self.out)
            self.out += struct.pack("<I", len(value)) + b"\0" * (4 * len(value))
            for i, t in enumerate(value):
                self.u32_at(start + 4 + 4 * i, self.table(t) - (start + 4 + 4 * i))
            return start
        start = len(self.out)
        if kind == "i32s":
            self.out += struct.pack(f"<I{len(value)}i", len(value), *value)
        elif kind == "u16s":
            self.out += struct.pack(f"<I{len(value)}H", len(value), *value)
        elif kind in ("bytes", "string"):
            raw = value.encode() if kind == "string" else bytes(value)
            self.out += struct.pack("<I", len(raw)) + raw + (b"\0" if kind == "string" else b"")
        else:
            raise ValueError(kind)
        return start


def tflite(ops, tensors, buffers, inputs, outputs):
    """ops: [(builtin code, inputs, outputs, options tag, options Table or None)];
    tensors: [(name, shape, type, buffer index, sparsity Table or None)]; buffers: [bytes]."""
    codes = sorted({op[0] for op in ops})
    model = Table(
        s0=("u32", 3),
        s1=("tables", [Table(s0=("i8", min(c, 127)), s2=("i32", 1), s3=("i32", c)) for c in codes]),
        s2=("tables", [Table(
            s0=("tables", [Table(s0=("i32s", shape), s1=("u8", ttype), s2=("u32", buf), s3=("string", name),
                                 **({"s6": ("table", sp)} if sp else {}))
                           for name, shape, ttype, buf, sp in tensors]),
            s1=("i32s", inputs), s2=("i32s", outputs),
            s3=("tables", [Table(s0=("u32", codes.index(code)), s1=("i32s", ins), s2=("i32s", outs),
                                 **({"s3": ("u8", tag), "s4": ("table", opt)} if opt else {}))
                           for code, ins, outs, tag, opt in ops]),
            s4=("string", "main"))]),
        s3=("string", "mhformer fuzz seed"),
        s4=("tables", [Table(s0=("bytes", b)) if b else Table() for b in buffers]),
    )
    w = Writer()
    w.out += b"\0\0\0\0TFL3"
    w.u32_at(0, w.table(model))
    return bytes(w.out)


F32, F16, I32 = 0, 1, 2
ADD, CONCAT, CONV, DWCONV, D2S, DEQUANT, LOGISTIC, MAXPOOL, RESHAPE, RESIZE, PAD, DENSIFY = \
    0, 2, 3, 4, 5, 6, 14, 17, 22, 23, 34, 124


def floats(n, fmt="f"):
    return struct.pack(f"<{n}{fmt}", *[round(rng.uniform(-1, 1), 3) for _ in range(n)])


def tflite_corpus():
    t = "tflite"
    # LOGISTIC only.
    write(t, "logistic.tflite", tflite(
        [(LOGISTIC, [0], [1], 0, None)],
        [("x", [1, 2, 2, 1], F32, 0, None), ("y", [1, 2, 2, 1], F32, 0, None)], [b""], [0], [1]))

    # CONV_2D (weights, bias) → ADD → MAX_POOL_2D → RESHAPE; CONCATENATION of the pool with itself.
    conv_opts = Table(s0=("u8", 0), s1=("i32", 1), s2=("i32", 1), s3=("u8", 3))
    pool_opts = Table(s0=("u8", 1), s1=("i32", 2), s2=("i32", 2), s3=("i32", 2), s4=("i32", 2), s5=("u8", 0))
    write(t, "conv-add-pool-concat.tflite", tflite(
        [(CONV, [0, 1, 2], [3], 1, conv_opts),
         (ADD, [3, 3], [4], 11, Table(s0=("u8", 1))),
         (MAXPOOL, [4], [5], 5, pool_opts),
         (CONCAT, [5, 5], [6], 10, Table(s0=("i32", -1), s1=("u8", 0))),
         (RESHAPE, [6], [7], 0, None)],
        [("x", [1, 4, 4, 2], F32, 0, None), ("w", [4, 1, 1, 2], F32, 1, None), ("b", [4], F32, 2, None),
         ("conv", [1, 4, 4, 4], F32, 0, None), ("sum", [1, 4, 4, 4], F32, 0, None),
         ("pool", [1, 2, 2, 4], F32, 0, None), ("cat", [1, 2, 2, 8], F32, 0, None), ("flat", [1, 32], F32, 0, None)],
        [b"", floats(8), floats(4)], [0], [7]))

    # fp16 weights → DEQUANTIZE → DEPTHWISE_CONV_2D; PAD; RESIZE_BILINEAR; DEPTH_TO_SPACE.
    dw_opts = Table(s0=("u8", 1), s1=("i32", 1), s2=("i32", 1), s3=("i32", 1), s4=("u8", 0))
    write(t, "fp16-depthwise-pad-resize.tflite", tflite(
        [(DEQUANT, [1], [2], 0, None),
         (PAD, [0, 3], [4], 22, Table()),
         (DWCONV, [4, 2, 5], [6], 2, dw_opts),
         (RESIZE, [6, 7], [8], 15, Table(s2=("bool", 0), s3=("bool", 1))),
         (D2S, [8], [9], 94, Table(s0=("i32", 2)))],
        [("x", [1, 3, 3, 4], F32, 0, None), ("w16", [1, 3, 3, 4], F16, 1, None), ("w", [1, 3, 3, 4], F32, 0, None),
         ("pads", [4, 2], I32, 2, None), ("padded", [1, 5, 5, 4], F32, 0, None), ("bias", [4], F32, 3, None),
         ("dw", [1, 3, 3, 4], F32, 0, None), ("size", [2], I32, 4, None), ("big", [1, 6, 6, 4], F32, 0, None),
         ("d2s", [1, 12, 12, 1], F32, 0, None)],
        [b"", floats(36, "e"), struct.pack("<8i", 0, 0, 1, 1, 1, 1, 0, 0), floats(4), struct.pack("<2i", 6, 6)],
        [0], [9]))

    # A CSR-sparse constant (dense rows, sparse columns) → DENSIFY → CONV_2D weights.
    csr = Table(
        s0=("i32s", [0, 1, 2, 3]), s2=("tables", [
            Table(s0=("u8", 0), s1=("i32", 2)),
            Table(s0=("u8", 1), s2=("u8", 1), s3=("table", Table(s0=("i32s", [0, 1, 2]))),
                  s4=("u8", 1), s5=("table", Table(s0=("i32s", [0, 1])))),
            Table(s0=("u8", 0), s1=("i32", 1)),
            Table(s0=("u8", 0), s1=("i32", 1))]))
    write(t, "sparse-densify-conv.tflite", tflite(
        [(DENSIFY, [1], [2], 99, Table()),
         (CONV, [0, 2], [3], 1, Table(s0=("u8", 1), s1=("i32", 1), s2=("i32", 1), s3=("u8", 0)))],
        [("x", [1, 2, 2, 1], F32, 0, None), ("ws", [2, 2, 1, 1], F32, 1, csr), ("w", [2, 2, 1, 1], F32, 0, None),
         ("y", [1, 1, 2, 2], F32, 0, None)],
        [b"", floats(2)], [0], [3]))

    # Near-valid: the identifier missing, a buffer index out of range, a truncated model.
    good = tflite([(LOGISTIC, [0], [1], 0, None)],
                  [("x", [1, 2, 2, 1], F32, 0, None), ("y", [1, 2, 2, 1], F32, 0, None)], [b""], [0], [1])
    write(t, "near-no-identifier.tflite", good[:4] + b"TFL2" + good[8:])
    write(t, "near-bad-buffer.tflite", tflite([(LOGISTIC, [0], [1], 0, None)],
                                              [("x", [1, 2], F32, 7, None), ("y", [1, 2], F32, 0, None)],
                                              [b""], [0], [1]))
    write(t, "near-truncated.tflite", good[:len(good) * 2 // 3])


# --- keypoint-files ----------------------------------------------------------------------------

def coco_points(v=None):
    out = []
    for _ in range(17):
        out += [round(rng.uniform(0, 640), 1), round(rng.uniform(0, 480), 1),
                v if v is not None else round(rng.uniform(0, 1), 2)]
    return out


def keypoint_files():
    t = "keypoint-files"
    results = [{"image_id": 0, "category_id": 1, "keypoints": coco_points(), "score": 0.9},
               {"image_id": 0, "category_id": 1, "keypoints": coco_points(), "score": 0.4},
               {"image_id": "clip/000002.jpg", "category_id": 1, "keypoints": coco_points()},
               {"image_id": 3, "category_id": 2, "keypoints": coco_points(), "score": 0.8}]
    write(t, "coco-results.json", json.dumps(results))
    dataset = {"images": [{"id": i, "width": 640, "height": 480, "file_name": f"{i:06d}.jpg"} for i in range(3)],
               "annotations": [{"image_id": 0, "category_id": 1, "keypoints": coco_points(2)},
                               {"image_id": 2, "category_id": 1, "keypoints": coco_points(0)}]}
    write(t, "coco-dataset.json", json.dumps(dataset))
    write(t, "near-coco-short.json", json.dumps([{"image_id": 1, "keypoints": coco_points()[:50]}]))
    body25 = [round(rng.uniform(0, 400), 1) if k % 3 != 2 else 0.8 for k in range(75)]
    coco18 = [round(rng.uniform(0, 400), 1) if k % 3 != 2 else 0.6 for k in range(54)]
    write(t, "openpose-body25.json", json.dumps({"version": 1.3, "people": [
        {"person_id": [-1], "pose_keypoints_2d": body25, "face_keypoints_2d": []},
        {"pose_keypoints_2d": [0.0] * 75}]}))
    write(t, "openpose-coco18-old.json", json.dumps({"version": 1.2, "people": [{"pose_keypoints": coco18}]}))
    write(t, "openpose-nobody.json", json.dumps({"version": 1.3, "people": []}))
    header = ["frame", "time_s", "width", "height"]
    for name in MEDIAPIPE:
        header += [f"{name}_x", f"{name}_y", f"{name}_z", f"{name}_visibility"]
    rows = [",".join(header)]
    for f in range(3):
        cells = [str(f), num(f / 30), "640", "480"]
        for _ in MEDIAPIPE:
            cells += ([num(rng.uniform(0, 1)), num(rng.uniform(0, 1)), num(rng.uniform(-0.5, 0.5)), num(rng.uniform(0, 1))]
                      if f != 1 else ["", "", "", ""])
        rows.append(",".join(cells))
    write(t, "mediapipe-size.csv", "\n".join(rows) + "\n")
    plain = ["frame"] + [f"{n}_{a}" for n in MEDIAPIPE for a in "xy"]
    write(t, "mediapipe-plain.csv", ",".join(plain) + "\n" + ",".join(["4"] + ["0.5"] * 66) + "\n")


# --- video-geometry ----------------------------------------------------------------------------
# Records of Fuzz/VideoGeometryFuzz.swift: width-1, height-1 (u16 LE), encoding, rotation, frames,
# then pixel bytes. The encodings' order is that of `encodings` there.

VIDEO_ENCODINGS = ["raw-yuv420p", "raw-yuvj420p", "raw-yuv422p", "raw-yuv444p", "raw-yuv420p10le", "raw-nv12",
                   "raw-gray", "raw-rgb24", "raw-rgba", "raw-pal8", "ffv1-yuv420p", "ffv1-yuv444p",
                   "ffv1-yuv420p10le", "ffv1-gray", "png-rgb24", "png-rgba", "png-pal8", "mjpeg-yuvj420p",
                   "mjpeg-yuvj422p", "mjpeg-yuvj444p"]


def video_geometry():
    # The frame-geometry matrix's shapes: 1-3 pixel sides, widths 8 more than a multiple of 16 (the
    # ones that overran swscale's destination: 40, 1000, 1080), 33-39 (overran too), odd and even.
    shapes = [(1, 1), (2, 3), (3, 2), (36, 17), (40, 18), (1000, 18), (1080, 3), (1081, 2), (16, 16), (333, 251),
              (64, 1), (1, 64)]
    for i, (w, h) in enumerate(shapes):
        for j, encoding in enumerate(VIDEO_ENCODINGS):
            if (i + j) % 5 != 0:      # a fifth of the pairs: every shape and every encoding, 48 seeds
                continue
            rotation, no_durations = (i + j) % 4, (i + j) % 8 >= 4
            frames = 1 + (i * 7 + j) % 3
            pixels = bytes(rng.randrange(256) for _ in range(61))
            record = struct.pack("<HHBBB", w - 1, h - 1, j, rotation | (4 if no_durations else 0), frames) + pixels
            write("video-geometry", f"{w}x{h}-{encoding}-cw{rotation * 90}{'-nodur' if no_durations else ''}.bin", record)
    # Found by fuzzing: a one-frame MOV without packet durations has an empty edit list that hides its
    # only packet; the MJPEG decoder still returns the frame, which the reader once called dropped.
    record = struct.pack("<HHBBB", 2, 1, VIDEO_ENCODINGS.index("mjpeg-yuvj422p"), 4 | 3, 0) + bytes(range(7, 64))
    write("video-geometry", "crash-one-frame-mov-hidden-but-decoded.bin", record)


keypoints2d_csv()
safetensors_corpus()
tflite_corpus()
keypoint_files()
video_geometry()
for target in sorted(os.listdir(CORPUS)):
    files = os.listdir(os.path.join(CORPUS, target))
    size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
    print(f"{target}: {len(files)} seeds, {size} bytes")
