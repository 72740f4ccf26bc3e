#!/usr/bin/env python3
"""Convert an official MHFormer checkpoint (.pth) to safetensors, without PyTorch.

    python3 Scripts/convert/convert-mhformer.py CHECKPOINT.pth OUTPUT.safetensors

A .pth written by torch.save (PyTorch >= 1.6) is a zip archive holding `data.pkl` (a pickle of the
state dict) and one raw file per tensor storage under `data/`. This script unpickles `data.pkl` with
a *restricted* unpickler: only the handful of classes a state dict needs are allowed (OrderedDict,
torch's tensor rebuild function and storage types), each replaced by a numpy stand-in, so no code
from the file is ever executed. Anything else (an unknown class or pickle opcode, the legacy
pre-1.6 format) is a one-line error.

Accepted layouts: the plain state dict of the released checkpoints, a dict holding it under a key
such as `model` or `state_dict`, and names prefixed with `module.` (DataParallel). The output keeps
the official tensor names; floats are stored as F32 (F16 stays F16), `num_batches_tracked` as I64.
Needs numpy only.
"""
import collections
import json
import os
import pickle
import sys
import zipfile

import numpy as np

# Storage class name -> numpy dtype of its raw little-endian bytes.
STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
WRAPPER_KEYS = ("model", "state_dict", "model_state_dict", "model_pos", "net", "params")


class ConversionError(Exception):
    pass


class StorageType:
    """Stand-in for torch.FloatStorage & co.: remembers the element type."""
    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


class Ignored:
    """Stand-in for harmless non-tensor objects saved beside a state dict (argparse options)."""
    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


def rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    """numpy version of torch._utils._rebuild_tensor_v2: a strided view into the storage."""
    flat = storage
    size, stride = tuple(size), tuple(stride)
    if len(size) == 0:
        return flat[offset:offset + 1].reshape(()).copy()
    needed = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else offset
    if needed > flat.size:
        raise ConversionError(f"a tensor of shape {list(size)} reads past its storage ({needed} > {flat.size} elements)")
    view = np.lib.stride_tricks.as_strided(flat[offset:], shape=size,
                                           strides=[s * flat.itemsize for s in stride])
    return np.ascontiguousarray(view)


def rebuild_parameter(data, requires_grad=False, hooks=None, *rest):
    return data


class RestrictedUnpickler(pickle.Unpickler):
    ALLOWED = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
        ("argparse", "Namespace"): Ignored,
    }

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self.archive = archive
        self.prefix = prefix
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        if module in ("torch", "torch.storage") and name in STORAGE_DTYPES:
            return StorageType(name)
        raise ConversionError(f"the pickle refers to class {module}.{name}, which a state dict does not need "
                              "(refusing to load it)")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel)
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], StorageType)):
            raise ConversionError(f"unknown persistent id {pid!r}")
        stype, key = pid[1], str(pid[2])
        if key not in self.storages:
            try:
                raw = self.archive.read(f"{self.prefix}/data/{key}")
            except KeyError:
                raise ConversionError(f"storage data/{key} is missing from the archive")
            if stype.dtype == "bfloat16":
                bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
                self.storages[key] = bits.view(np.float32)
            else:
                self.storages[key] = np.frombuffer(raw, dtype=np.dtype(stype.dtype).newbyteorder("<"))
        return self.storages[key]


def load_checkpoint(path):
    """Returns the pickled object of a torch.save zip archive, tensors as numpy arrays."""
    if not os.path.exists(path):
        raise ConversionError("no such file")
    if not zipfile.is_zipfile(path):
        raise ConversionError("not a PyTorch zip checkpoint (files saved by torch < 1.6 are not supported: "
                              "re-save them with torch.save(torch.load(f), g))")
    with zipfile.ZipFile(path) as archive:
        pkls = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkls) != 1:
            raise ConversionError("the archive has no data.pkl (not a torch.save checkpoint)")
        prefix = pkls[0].rsplit("/", 1)[0] if "/" in pkls[0] else ""
        order = f"{prefix}/byteorder"
        if order in archive.namelist() and archive.read(order).strip() != b"little":
            raise ConversionError("big-endian checkpoints are not supported")
        with archive.open(pkls[0]) as f:
            try:
                return RestrictedUnpickler(f, archive, prefix).load()
            except ConversionError:
                raise
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
                raise ConversionError(f"corrupt or unsupported pickle in data.pkl ({e})")


def find_state_dict(obj):
    """The state dict inside a checkpoint: the object itself or one of the usual wrapper keys."""
    def is_state_dict(d):
        return isinstance(d, dict) and d and all(isinstance(k, str) for k in d) and \
            any(isinstance(v, np.ndarray) for v in d.values())
    if is_state_dict(obj) and "norm_1.weight" in {k.removeprefix("module.") for k in obj}:
        sd = obj
    elif isinstance(obj, dict) and any(is_state_dict(obj.get(k)) for k in WRAPPER_KEYS):
        sd = next(obj[k] for k in WRAPPER_KEYS if is_state_dict(obj.get(k)))
    elif is_state_dict(obj):
        sd = obj
    else:
        raise ConversionError("no state dict found in the checkpoint")
    out = collections.OrderedDict()
    for k, v in sd.items():
        if not isinstance(v, np.ndarray):
            continue
        out[k.removeprefix("module.")] = v
    return out


def check_mhformer(sd):
    if "trans_auto_1.pos_embed" in sd or "fcn.1.weight" in sd:
        raise ConversionError("this is a checkpoint of MHFormer's code before May 2022 (legacy tensor names); "
                              "use a current release checkpoint")
    for key in ("norm_1.weight", "regression.1.weight", "Transformer_hypothesis.norm.weight"):
        if key not in sd:
            raise ConversionError(f"not an MHFormer state dict (no tensor '{key}')")


def safetensors_bytes(tensors, metadata=None):
    """Serialises {name: numpy array} as safetensors (JSON header padded to 8 bytes, sorted names)."""
    names = sorted(tensors)
    header, offset, blobs = {}, 0, []
    for name in names:
        a = tensors[name]
        if a.dtype == np.float16:
            dtype, data = "F16", a.astype("<f2")
        elif a.dtype == np.int64:
            dtype, data = "I64", a.astype("<i8")
        elif np.issubdtype(a.dtype, np.floating):
            dtype, data = "F32", a.astype("<f4")
        else:
            raise ConversionError(f"tensor '{name}' has unsupported dtype {a.dtype}")
        raw = np.ascontiguousarray(data).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(blobs)


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    src, dst = argv[1], argv[2]
    try:
        sd = find_state_dict(load_checkpoint(src))
        check_mhformer(sd)
    except ConversionError as e:
        print(f"error: {src}: {e}", file=sys.stderr)
        return 1
    frames = sd["norm_1.weight"].shape[0]
    try:
        write_atomic(dst, safetensors_bytes(sd, {"format": "pt", "source": os.path.basename(src),
                                                 "frames": str(frames)}))
    except (OSError, ConversionError) as e:
        print(f"error: {dst}: {e}", file=sys.stderr)
        return 1
    print(f"{dst}: {len(sd)} tensors, T={frames}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
