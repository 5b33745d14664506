"""A proxy for photos unlike the training set: the held-out ids of `train --val-fraction 0.2
--seed 0`, each enlarged to another size and aspect ratio (1024x768, 768x1024, 1200x800 or
640x640), rotated by up to 45 degrees (black corners, as in many ISIC 2017 photos), hue-shifted,
brightened or darkened and sometimes blurred; masks moved with them. Seeded: the same set every
time. Usage: python shifted_set.py DATA OUT"""
import glob
import os
import random
import sys

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

M = (1 << 64) - 1


def split_hash(seed, id_):
    """src/data/dataset.rs's id_hash: FNV-1a, then SplitMix64's finaliser."""
    x = 0xCBF29CE484222325
    for b in id_.encode():
        x = ((x ^ b) * 0x100000001B3) & M
    z = x ^ ((seed * 0x9E3779B97F4A7C15) & M)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def main(data, out):
    photos = sorted(glob.glob(os.path.join(data, "*Input*", "ISIC_*.jpg")))
    ids = [os.path.basename(p)[:12] for p in photos]
    held_out = set(sorted(ids, key=lambda i: (split_hash(0, i), i))[: round(len(ids) * 0.2)])
    os.makedirs(out, exist_ok=True)
    rng = random.Random(2018)
    for photo, id_ in zip(photos, ids):
        if id_ not in held_out:
            continue
        img = Image.open(photo).convert("RGB")
        mask = Image.open(glob.glob(os.path.join(data, "*GroundTruth*", f"{id_}_segmentation.png"))[0]).convert("L")
        size = rng.choice([(1024, 768), (768, 1024), (1200, 800), (640, 640)])
        img, mask = img.resize(size, Image.BICUBIC), mask.resize(size, Image.NEAREST)
        angle = rng.uniform(-45, 45)
        img, mask = img.rotate(angle, resample=Image.BILINEAR), mask.rotate(angle, resample=Image.NEAREST)
        hsv = np.array(img.convert("HSV")).astype(np.int16)
        hsv[..., 0] = (hsv[..., 0] + int(rng.uniform(-0.05, 0.05) * 255)) % 256
        img = Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.2))
        if rng.random() < 0.3:
            img = img.filter(ImageFilter.GaussianBlur(1.5))
        img.save(os.path.join(out, f"{id_}.jpg"), quality=90)
        mask.save(os.path.join(out, f"{id_}_segmentation.png"))
    print(f"{len(held_out)} shifted pairs in {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
