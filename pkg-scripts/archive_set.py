"""An archive to segment, for `pkg-scripts/bench-archive`: COUNT photos of WIDTHxHEIGHT JPEG,
made from the wide-field development set (each photo cropped to the frame's aspect ratio and
scaled to it; the set's photos are used in turn, every other round mirrored). Names are
photo_NNNNN.jpg, so every photo has its own mask name.

Usage: python archive_set.py DEVSET OUT COUNT WIDTH HEIGHT"""
import glob
import os
import sys

from PIL import Image, ImageOps


def main():
    devset, out, count, width, height = sys.argv[1:6]
    count, width, height = int(count), int(width), int(height)
    sources = sorted(
        p for p in glob.glob(os.path.join(devset, "*.jpg")) if not p.endswith("_segmentation.png")
    )
    if not sources:
        sys.exit(f"no photos in {devset}: run pkg-scripts/dev-sets first")
    os.makedirs(out, exist_ok=True)
    frames = [ImageOps.fit(Image.open(p).convert("RGB"), (width, height)) for p in sources]
    for i in range(count):
        target = os.path.join(out, f"photo_{i:05d}.jpg")
        if os.path.exists(target):
            continue
        frame = frames[i % len(frames)]
        if (i // len(frames)) % 2 == 1:
            frame = ImageOps.mirror(frame)
        frame.save(target, quality=90)


if __name__ == "__main__":
    main()
