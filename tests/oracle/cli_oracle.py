#!/usr/bin/python3
"""PyTorch oracle for brushwork-cli: writes seeded random VGG19 weights with torch.save, a
content and a style PNG already at the working size, and the seed recipe's per-step losses
and final image (normalised, raw float32) for the same inputs.

Usage: cli_oracle.py OUTDIR [--steps N] [--seed S] [--legacy]
"""
import argparse
import io
import os
import struct
import sys
import zlib

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_oracle as so  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def smooth_image(h, w, generator):
    """Colour blobs: low-resolution noise upsampled, so the network sees structure."""
    low = torch.rand(1, 3, max(2, h // 8), max(2, w // 8), generator=generator)
    return torch.nn.functional.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)


def save_png(path, image):
    array = (image[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(array, "RGB").save(path)


def load_png(path):
    array = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", type=int, default=48)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--legacy", action="store_true", help="write the pre-1.6 .pth format")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(2)

    vgg = so.make_network(args.seed)
    state = {"features." + k: v for k, v in vgg.state_dict().items()}
    torch.save(state, os.path.join(args.outdir, "vgg19.pth"),
               _use_new_zipfile_serialization=not args.legacy)

    g = torch.Generator().manual_seed(args.seed + 7)
    save_png(os.path.join(args.outdir, "content.png"), smooth_image(args.height, args.width, g))
    save_png(os.path.join(args.outdir, "style.png"), smooth_image(args.height * 5 // 6, args.width, g))
    content = (load_png(os.path.join(args.outdir, "content.png")) - MEAN) / STD
    style = (load_png(os.path.join(args.outdir, "style.png")) - MEAN) / STD

    content_features = so.get_features(content, vgg)
    style_grams = {k: so.gram_matrix(v) for k, v in so.get_features(style, vgg).items()}
    target = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([target], lr=so.LR)
    with open(os.path.join(args.outdir, "values.txt"), "w") as f:
        for step in range(1, args.steps + 1):
            feats = so.get_features(target, vgg)
            c_loss, s_loss, total = so.seed_losses(feats, content_features, style_grams)
            optimizer.zero_grad()
            total.backward()
            optimizer.step()
            f.write("step%d_total %.17g\n" % (step, total.item()))
    # what the seed writes: denormalised and clipped to [0, 1]
    so.write(args.outdir, "final.bin", (target.detach() * STD + MEAN).clamp(0, 1))
    write_bad_files(args.outdir)


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def write_bad_files(outdir):
    """Inputs a user might hand over by mistake, or an attacker on purpose."""
    def put(name, data):
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)

    put("empty.png", b"")
    put("notimage.png", b"This is a shopping list, not a picture.\n" * 20)
    with open(os.path.join(outdir, "content.png"), "rb") as f:
        good = f.read()
    put("truncated.png", good[: len(good) // 2])
    buf = io.BytesIO()
    Image.open(os.path.join(outdir, "content.png")).save(buf, "JPEG", quality=95)
    put("truncated.jpg", buf.getvalue()[: len(buf.getvalue()) * 2 // 3])
    # a valid header that declares 60000 x 60000 pixels, then a few bytes of data
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    put("huge.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
        png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""))
    put("garbage.pth", bytes(range(256)) * 64)


if __name__ == "__main__":
    main()
