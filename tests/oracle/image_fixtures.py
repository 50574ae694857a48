#!/usr/bin/python3
"""Image files with known content for tests/test-image.c, written with Pillow.

Usage: image_fixtures.py OUTDIR
"""
import os
import sys

from PIL import Image


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)

    # 16 x 8: left half red, right half blue; EXIF orientation 6 means "rotate 90 degrees
    # clockwise to display", so it shows as 8 x 16 with red on top
    img = Image.new("RGB", (16, 8), (255, 0, 0))
    img.paste((0, 0, 255), (8, 0, 16, 8))
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(os.path.join(out, "rotated.jpg"), quality=100, exif=exif.tobytes())
    img.save(os.path.join(out, "plain.png"))
    # the same orientation in a PNG's eXIf chunk (Pillow writes one from exif=)
    img.save(os.path.join(out, "rotated.png"), exif=exif.tobytes())

    # a motion photo: a JPEG followed by 5,000 bytes of something else (phones append an MP4
    # there), which may contain JPEG-looking markers; and the same JPEG cut short
    img.save(os.path.join(out, "base.jpg"), quality=100)
    with open(os.path.join(out, "base.jpg"), "rb") as f:
        jpeg = f.read()
    trailer = (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)[:5000]
    with open(os.path.join(out, "motion.jpg"), "wb") as f:
        f.write(jpeg + trailer)
    with open(os.path.join(out, "truncated.jpg"), "wb") as f:
        f.write(jpeg[: len(jpeg) * 2 // 3])

    # alpha: opaque green, fully transparent, half-transparent black
    rgba = Image.new("RGBA", (3, 1))
    rgba.putpixel((0, 0), (0, 255, 0, 255))
    rgba.putpixel((1, 0), (10, 20, 30, 0))
    rgba.putpixel((2, 0), (0, 0, 0, 128))
    rgba.save(os.path.join(out, "alpha.png"))


if __name__ == "__main__":
    main()
