#!/usr/bin/python3
"""Writes the weight-loader test fixtures into OUTDIR (test-weights.c reads them).

Usage: make_fixtures.py OUTDIR [STAMP]

Good files hold torchvision's vgg19 with seeded random weights, in every format the loader
reads; reference.bin holds the 13 convs' 26 tensors as raw little-endian float32, in
bw_vgg19_convs order (weight then bias), and reference-f16.bin the same values rounded
through float16. Bad files are truncated, crafted or mismatched copies.

The "evil" pickles are written byte by byte and never loaded. They name os.system but are
also built so that nothing could run even if Python's own pickle loaded them: the call's
REDUCE comes after an invalid opcode, where any unpickler stops.

Needs torch and torchvision (no download: weights=None) and numpy; no safetensors package.
"""

import collections
import io
import json
import os
import pickle
import pickletools
import random
import shutil
import struct
import sys
import zipfile

import torch
import torchvision

# module index, in, out: src/engine/vgg19/bw-vgg19-layers.c
CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256),
         (12, 256, 256), (14, 256, 256), (16, 256, 256), (19, 256, 512), (21, 512, 512),
         (23, 512, 512), (25, 512, 512), (28, 512, 512)]

OUT = None


def path(name):
    return os.path.join(OUT, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def st_dtype(t):
    return {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64",
            torch.int32: "I32", torch.bfloat16: "BF16"}[t.dtype]


def safetensors_bytes(tensors, header_extra=None):
    """tensors: ordered name -> tensor; written as is (contiguous, little-endian)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": st_dtype(t), "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if header_extra:
        header.update(header_extra)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def prefixed(features_sd):
    return collections.OrderedDict(("features." + k, v) for k, v in features_sd.items())


def truncate(src, dst, keep):
    """keep: a fraction of the file, or a byte count."""
    data = open(path(src), "rb").read()
    write(dst, data[: int(len(data) * keep) if isinstance(keep, float) else keep])


def legacy_prefix(name):
    """The magic, protocol and sys-info pickles of a legacy file, and where its state dict's
    pickle starts. pickletools only parses; nothing is loaded."""
    with open(path(name), "rb") as f:
        for _ in range(3):
            for _ in pickletools.genops(f):
                pass
        head_end = f.tell()
        for _ in range(2):
            for _ in pickletools.genops(f):
                pass
        storages_start = f.tell()
    data = open(path(name), "rb").read()
    return data, head_end, storages_start


def replace_in_zip(src, dst, member_suffix, new_bytes, compress=None):
    """Copies a zip, replacing the member whose name ends with member_suffix."""
    with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith(member_suffix):
                if new_bytes is not None:
                    data = new_bytes
                ctype = compress if compress is not None else zipfile.ZIP_STORED
            else:
                ctype = zipfile.ZIP_STORED
            zout.writestr(zipfile.ZipInfo(info.filename), data, compress_type=ctype,
                          compresslevel=1 if ctype == zipfile.ZIP_DEFLATED else None)


class OldStylePickle:
    """A pickle module for torch.save's legacy writer that reduces as old versions did."""

    dump = staticmethod(pickle.dump)

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if type(obj) is collections.OrderedDict:
                state = dict(vars(obj)) or None
                return (collections.OrderedDict, ([[k, v] for k, v in obj.items()],), state)
            if isinstance(obj, torch.Tensor):
                return (torch._utils._rebuild_tensor,
                        (obj.storage(), obj.storage_offset(), tuple(obj.size()), obj.stride()))
            return NotImplemented


# os.system("true"), but an invalid opcode (0xff) stops any unpickler before the call
EVIL_GLOBAL = (b"\x80\x02" + b"cos\nsystem\n" + b"X\x04\x00\x00\x00true" + b"\x85" + b"\xff"
               + b"R" + b".")


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)

    torch.manual_seed(20240611)
    model = torchvision.models.vgg19(weights=None)
    with torch.no_grad():
        # torchvision zeroes conv biases: give every tensor distinct values, and put values
        # that test float16 conversion (subnormals, near max, signed zero) in one bias
        for name, p in model.named_parameters():
            if name.startswith("features."):
                if name.endswith("weight"):
                    p.normal_(0.0, 0.05)
                else:
                    p.uniform_(-0.5, 0.5)
        b = model.features[0].bias
        b[0:8] = torch.tensor([1e-6, -3e-5, 6.1e-5, 60000.0, -65000.0, -0.0, 1e-9, 0.3333333])

    full = model.state_dict()
    features = model.features.state_dict()          # keys "0.weight"
    features_p = prefixed(features)                 # keys "features.0.weight"

    ref = []
    ref16 = []
    for module, _, _ in CONVS:
        for kind in ("weight", "bias"):
            t = features["%d.%s" % (module, kind)].contiguous()
            ref.append(t.numpy().astype("<f4").tobytes())
            ref16.append(t.half().float().numpy().astype("<f4").tobytes())
    write("reference.bin", b"".join(ref))
    write("reference-f16.bin", b"".join(ref16))

    # Good files
    torch.save(full, path("vgg19-full.pth"))
    torch.save(full, path("vgg19-full-legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(features, path("vgg19-features.pth"))
    torch.save(features, path("vgg19-features-legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(features_p, path("vgg19-features-p4.pth"), pickle_protocol=4)
    torch.save(collections.OrderedDict((k, v.half()) for k, v in features_p.items()),
               path("vgg19-half.pth"))
    torch.save({"epoch": 3, "state_dict": features_p, "optimizer": {"lr": 0.1}},
               path("vgg19-checkpoint.pth"))

    # Strided and offset views of storages: the loader must honour strides and offsets
    strided = collections.OrderedDict(features_p)
    w = strided["features.2.weight"]
    strided["features.2.weight"] = w.permute(1, 0, 2, 3).contiguous().permute(1, 0, 2, 3)
    w = strided["features.7.weight"]
    strided["features.7.weight"] = w.transpose(2, 3).contiguous().transpose(2, 3)
    b = strided["features.5.bias"]
    big = torch.cat([torch.randn(10), b, torch.randn(7)])
    strided["features.5.bias"] = big[10:10 + b.numel()]
    assert not strided["features.2.weight"].is_contiguous()
    assert strided["features.5.bias"].storage_offset() == 10
    torch.save(strided, path("vgg19-strided.pth"))
    torch.save(strided, path("vgg19-strided-legacy.pth"), _use_new_zipfile_serialization=False)

    # As torch 0.3 under Python 2 wrote (torchvision's own vgg19-dcbb9e9d.pth is that old):
    # OrderedDict([[key, value], ...]) and the 4-argument torch._utils._rebuild_tensor
    torch.save(features_p, path("vgg19-old-legacy.pth"), pickle_module=OldStylePickle,
               _use_new_zipfile_serialization=False)

    # safetensors, with extra tensors the loader must skip (an I64, a later conv)
    st = collections.OrderedDict(features_p)
    st["extra.step"] = torch.tensor([7], dtype=torch.int64)
    write("vgg19-f32.safetensors", safetensors_bytes(st))
    write("vgg19-f16.safetensors",
          safetensors_bytes(collections.OrderedDict((k, v.half()) for k, v in features_p.items())))

    # Tiny files for the fuzz loop: any float tensor loads with BW_WEIGHTS_LOAD_ALL_TENSORS
    torch.manual_seed(7)
    tiny = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3))
    tsd = tiny.state_dict()
    torch.save(tsd, path("tiny.pth"))
    torch.save(tsd, path("tiny-legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save(tsd, path("tiny-p4.pth"), pickle_protocol=4)
    tstr = collections.OrderedDict(tsd)
    tstr["0.weight"] = tsd["0.weight"].permute(1, 0, 2, 3).contiguous().permute(1, 0, 2, 3)
    tstr["2.bias"] = torch.cat([torch.randn(3), tsd["2.bias"]])[3:]
    torch.save(tstr, path("tiny-strided-legacy.pth"), _use_new_zipfile_serialization=False)
    write("tiny.safetensors", safetensors_bytes(tsd))
    write("tiny-f16.safetensors",
          safetensors_bytes(collections.OrderedDict((k, v.half()) for k, v in tsd.items())))

    # Bad files: FORMAT. Those refused before any storage is read are built on the tiny files
    write("empty.pth", b"")
    rng = random.Random(99)
    garbage = bytes(rng.randrange(256) for _ in range(4096))
    write("garbage.bin", b"\x13" + garbage[1:8] + b"\x00" + garbage[9:])
    truncate("vgg19-features.pth", "truncated.pth", 0.1)
    truncate("vgg19-features-legacy.pth", "truncated-legacy.pth", 0.1)
    truncate("vgg19-features-legacy.pth", "truncated-pickle.pth", 300)
    truncate("vgg19-f32.safetensors", "truncated.safetensors", 0.1)
    truncate("vgg19-f32.safetensors", "truncated-header.safetensors", 100)

    replace_in_zip("tiny.pth", "evil-global.pth", "/data.pkl", EVIL_GLOBAL)
    data, head_end, _ = legacy_prefix("tiny-legacy.pth")
    write("evil-global-legacy.pth", data[:head_end] + EVIL_GLOBAL)
    write("evil-global.pkl", EVIL_GLOBAL)
    # numpy's reconstructor: allowed by torch's weights_only=False, not by us
    write("evil-numpy.pth",
          data[:head_end] + b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n\xff.")
    # INT in text form: harmless, but no saved state dict uses it
    replace_in_zip("tiny.pth", "evil-opcode.pth", "/data.pkl", b"\x80\x02I1\n.")
    replace_in_zip("tiny.pth", "deflate.pth", "/data.pkl", None,
                   compress=zipfile.ZIP_DEFLATED)

    # Legacy file whose first storage's element count disagrees with its pickle
    data, _, storages_start = legacy_prefix("tiny-legacy.pth")
    count = struct.unpack_from("<Q", data, storages_start)[0]
    data = bytearray(data)
    struct.pack_into("<Q", data, storages_start, count + 1)
    write("bad-count-legacy.pth", bytes(data))

    # safetensors headers that claim too much
    write("huge-header.safetensors", struct.pack("<Q", 0xFFFFFFFFFFFFFFF0) + b"{}")
    write("huge-offsets.safetensors", safetensors_bytes({}, {
        "features.0.weight": {"dtype": "F32", "shape": [64, 3, 3, 3],
                              "data_offsets": [0, 6912]}}) + b"\0" * 100)
    write("huge-shape.safetensors", safetensors_bytes({}, {
        "features.0.weight": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40, 2 ** 20],
                              "data_offsets": [0, 0]}}))
    write("huge-offsets2.safetensors", safetensors_bytes({}, {
        "features.0.weight": {"dtype": "F32", "shape": [64, 3, 3, 3],
                              "data_offsets": [2 ** 64 - 6912, 2 ** 64 - 1]}}))
    bomb = b'{"__metadata__":' + b"[" * 100000 + b"]" * 100000 + b"}"
    write("json-bomb.safetensors", struct.pack("<Q", len(bomb)) + bomb)
    bad_json = b'{"features.0.weight": {"dtype": "F32", "shape": [64, 3, 3, 3'
    write("bad-json.safetensors", struct.pack("<Q", len(bad_json)) + bad_json + b"\0" * 64)

    # Bad files: NETWORK
    # VGG16's features alone (its convs sit at other module indices): no classifier to build
    vgg16_features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])
    torch.save(vgg16_features.state_dict(), path("vgg16-features.pth"))
    # Checked in VGG19's order before any data is read: the convs before the wrong one suffice
    wrong = collections.OrderedDict((k, v) for k, v in features_p.items()
                                    if int(k.split(".")[1]) < 5)
    wrong["features.5.weight"] = torch.randn(128, 64, 5, 5)
    write("wrong-shape.safetensors", safetensors_bytes(wrong))
    nan = collections.OrderedDict((k, v.clone()) for k, v in features_p.items())
    nan["features.10.weight"][3, 2, 1, 0] = float("nan")
    torch.save(nan, path("nan-legacy.pth"), _use_new_zipfile_serialization=False)
    inf = collections.OrderedDict((k, v.half()) for k, v in features_p.items())
    inf["features.28.bias"][5] = float("inf")
    write("inf-f16.safetensors", safetensors_bytes(inf))
    wrong_dtype = collections.OrderedDict()
    wrong_dtype["features.0.weight"] = torch.zeros(64, 3, 3, 3, dtype=torch.int32)
    write("wrong-dtype.safetensors", safetensors_bytes(wrong_dtype))
    # A dict holding a list that holds itself: no tensors, and a cycle for the arena to free
    cyc = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02h\x02as."
    replace_in_zip("tiny.pth", "cycle.pth", "/data.pkl", cyc)

    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("ok\n")


if __name__ == "__main__":
    main()
