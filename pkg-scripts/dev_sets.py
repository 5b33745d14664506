"""Development sets that look like the photos people bring, made from the held-out ids of `train
--val-fraction 0.2 --seed 0` (never trained on), since no full-resolution pairs are available:

- wide-field: each held-out photo enlarged and placed in a larger frame (1024x768 to 1200x1200)
  filled with lesion-free skin of training photos, so that the lesion covers 0.7-35% of the
  frame (median about 5%, as in full-resolution ISIC 2017 photos); on some, the marks such photos
  carry: a dermatoscope's dark rim, a pen circle around the lesion, a ruler, hairs.
- wide-small: the wide-field photos whose lesion covers 0.5-2% of the frame (for the box prompt).
- small-lesion: the held-out photos at 256x256 whose lesion covers under 10% of the frame.

This generator is written apart from the training augmentation (src/data/wide_field.rs), with
its own choices of scale, skin, rim, pen, ruler and hair, so that the set is not the
augmentation's own output. Seeded: the same sets every time. A manifest (manifest.json) records
each photo's lesion share and marks.

Usage: python dev_sets.py DATA OUT"""
import glob
import json
import math
import os
import random
import shutil
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from shifted_set import split_hash

FRAMES = [(1024, 768), (768, 1024), (1200, 900), (1024, 1024), (1200, 800)]


def load(data, id_):
    img = Image.open(glob.glob(os.path.join(data, "*Input*", f"{id_}.jpg"))[0]).convert("RGB")
    mask = Image.open(glob.glob(os.path.join(data, "*GroundTruth*", f"{id_}_segmentation.png"))[0]).convert("L")
    return np.asarray(img), np.asarray(mask) > 127


def skin_patches(img, mask):
    """Lesion-free squares (at least 12 px from the lesion) of a photo, largest first."""
    h, w = mask.shape
    grown = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(25))) > 0
    out = []
    for side in (w // 2, w // 3, w // 4):
        for y0 in range(0, h - side + 1, max(1, (h - side) // 3)):
            for x0 in range(0, w - side + 1, max(1, (w - side) // 3)):
                if not grown[y0 : y0 + side, x0 : x0 + side].any():
                    patch = img[y0 : y0 + side, x0 : x0 + side]
                    if plain_skin(patch):
                        out.append(patch)
        if out:
            return out
    return out


def plain_skin(patch):
    """Skin without the marks of its own photo: not the dermatoscope's dark corners, no ruler
    or text (little contrast), no blue gel bubbles (red above blue)."""
    grey = patch.astype(np.float32).mean(2)
    r, b = patch[..., 0].astype(np.float32).mean(), patch[..., 2].astype(np.float32).mean()
    return grey.mean() > 70 and grey.std() < 14 and np.percentile(grey, 99) - np.percentile(grey, 1) < 70 and r > b + 8


def skin_field(rng, donors, size, scale, target):
    """A frame of skin: a donor patch enlarged like the photo, mirrored to fill the frame, its
    mean colour moved to `target`."""
    w, h = size
    patch = None
    while patch is None:
        patches = donors[rng.randrange(len(donors))]
        if patches:
            patch = patches[rng.randrange(len(patches))]
    side = max(8, int(patch.shape[0] * scale))
    big = np.asarray(Image.fromarray(patch).resize((side, side), Image.BICUBIC)).astype(np.float32)
    # Mirror-tile: a 2x2 block of the patch and its mirror images repeats without seams.
    block = np.concatenate([np.concatenate([big, big[:, ::-1]], 1), np.concatenate([big[::-1], big[::-1, ::-1]], 1)], 0)
    reps = (h // block.shape[0] + 2, w // block.shape[1] + 2, 1)
    tiled = np.tile(block, reps)
    oy, ox = rng.randrange(block.shape[0]), rng.randrange(block.shape[1])
    field = tiled[oy : oy + h, ox : ox + w]
    # Softened, and shaded by a slow random light, so that the mirrored tiles do not show.
    field = np.asarray(Image.fromarray(field.astype(np.uint8)).filter(ImageFilter.GaussianBlur(max(1.0, scale)))).astype(np.float32)
    light = np.asarray(Image.fromarray((np.random.RandomState(rng.randrange(1 << 30)).rand(6, 8) * 255).astype(np.uint8)).resize((w, h), Image.BICUBIC))
    field *= (0.92 + 0.16 * light / 255.0)[..., None]
    return np.clip(field - field.reshape(-1, 3).mean(0) + target, 0, 255)


def draw_rim(rng, frame, mask):
    """A dark dermatoscope rim: outside an ellipse around the frame's centre, fading to black,
    placed so the lesion stays inside."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    cx, cy = w / 2 + rng.uniform(-0.04, 0.04) * w, h / 2 + rng.uniform(-0.04, 0.04) * h
    ax_ratio = rng.uniform(0.9, 1.15)
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.sqrt(((xx - cx) / ax_ratio) ** 2 + (yy - cy) ** 2)
    reach = np.sqrt(((xs - cx) / ax_ratio) ** 2 + (ys - cy) ** 2).max()
    soft = rng.uniform(0.01, 0.05) * min(w, h)
    low, high = max(reach + 2 * soft, 0.4 * min(w, h)), 0.62 * max(w, h)
    if low >= high:
        return False
    radius = rng.uniform(low, high)
    t = np.clip((dist - radius) / soft, 0, 1)[..., None]
    dark = np.array([rng.uniform(0, 25)] * 3)
    frame[:] = frame * (1 - t) + dark * t
    return True


def draw_pen(rng, draw, mask):
    """One or two pen marks around the lesion: a circle or an arc, 1.4-2.6 times its extent."""
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    rx, ry = (xs.max() - xs.min()) / 2, (ys.max() - ys.min()) / 2
    ink = rng.choice([(110, 50, 150), (60, 60, 160), (20, 20, 30), (40, 110, 70)])
    width = rng.randint(3, 9)
    for _ in range(rng.choice([1, 1, 2])):
        g = rng.uniform(1.4, 2.6)
        box = [cx - rx * g, cy - ry * g, cx + rx * g, cy + ry * g]
        start = rng.uniform(0, 360)
        end = start + rng.uniform(280, 370)
        draw.arc(box, start, end, fill=ink, width=width)


def draw_ruler(rng, draw, mask):
    """A ruler along the edge with the most room, light with dark ticks and some numbers."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    room = {"top": ys.min(), "bottom": h - ys.max(), "left": xs.min(), "right": w - xs.max()}
    edge = max(room, key=room.get)
    band = rng.randint(40, 70)
    if room[edge] < band + 20:
        return False
    inset = rng.randint(0, max(1, room[edge] - band - 10))
    colour = rng.choice([(235, 232, 215), (245, 245, 245), (230, 220, 150)])
    pitch = rng.randint(9, 14)
    horizontal = edge in ("top", "bottom")
    length = w if horizontal else h
    a0 = inset if edge in ("top", "left") else (h if horizontal else w) - inset - band
    if horizontal:
        draw.rectangle([0, a0, w, a0 + band], fill=colour)
    else:
        draw.rectangle([a0, 0, a0 + band, h], fill=colour)
    for i, pos in enumerate(range(rng.randint(0, pitch), length, pitch)):
        depth = band * (0.6 if i % 10 == 0 else 0.45 if i % 5 == 0 else 0.25)
        if horizontal:
            draw.line([pos, a0, pos, a0 + depth], fill=(15, 15, 15), width=2)
            if i % 10 == 0:
                draw.text((pos + 3, a0 + band * 0.62), str(i // 10), fill=(15, 15, 15))
        else:
            draw.line([a0, pos, a0 + depth, pos], fill=(15, 15, 15), width=2)
            if i % 10 == 0:
                draw.text((a0 + band * 0.62, pos + 3), str(i // 10), fill=(15, 15, 15))
    return True


def draw_hair(rng, draw, size):
    """Three to fifteen hairs: curved polylines, dark brown to black, 2-4 px wide."""
    w, h = size
    for _ in range(rng.randint(3, 15)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(0.2, 0.7) * max(w, h)
        bend = rng.uniform(-0.004, 0.004)
        points = []
        for _ in range(40):
            points.append((x, y))
            x, y = x + math.cos(angle) * length / 40, y + math.sin(angle) * length / 40
            angle += bend * length / 40 * 10
        shade = rng.randint(15, 70)
        draw.line(points, fill=(shade + 15, shade + 5, shade), width=rng.randint(2, 4))


def wide_field(rng, img, mask, donors):
    """One wide-field photo and its mask, with what was drawn on it."""
    frame_w, frame_h = rng.choice(FRAMES)
    share = mask.mean()
    # Lesion share of the frame: log-uniform over 0.5-25%, median about 4-5%.
    target = math.exp(rng.uniform(math.log(0.007), math.log(0.35)))
    scale = math.sqrt(target * frame_w * frame_h / max(share, 1e-4)) / 256
    scale = min(scale, min(frame_w, frame_h) / 256 * 0.95)
    side = max(32, int(256 * scale))
    photo = np.asarray(Image.fromarray(img).resize((side, side), Image.BICUBIC)).astype(np.float32)
    lesion = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((side, side), Image.BILINEAR)) > 127
    skin = photo[~lesion].mean(0) if (~lesion).any() else np.array([190.0, 150.0, 130.0])
    frame = skin_field(rng, donors, (frame_w, frame_h), scale, skin)
    # Near the centre, as a user frames a lesion, but not always in it.
    px = int(np.clip(rng.gauss(0.5, 0.15), 0, 1) * (frame_w - side))
    py = int(np.clip(rng.gauss(0.5, 0.15), 0, 1) * (frame_h - side))
    edge = np.zeros((side, side), np.float32)
    feather = max(3, int(side * 0.12))
    edge[feather:-feather, feather:-feather] = 1
    alpha = np.asarray(Image.fromarray((edge * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(feather / 2))) / 255.0
    alpha = np.maximum(alpha, lesion)[..., None]
    frame[py : py + side, px : px + side] = alpha * photo + (1 - alpha) * frame[py : py + side, px : px + side]
    full_mask = np.zeros((frame_h, frame_w), bool)
    full_mask[py : py + side, px : px + side] = lesion
    marks = []
    if full_mask.any() and rng.random() < 0.35 and draw_rim(rng, frame, full_mask):
        marks.append("rim")
    out = Image.fromarray(frame.astype(np.uint8))
    draw = ImageDraw.Draw(out)
    if full_mask.any() and rng.random() < 0.35:
        draw_pen(rng, draw, full_mask)
        marks.append("pen")
    if full_mask.any() and rng.random() < 0.2 and draw_ruler(rng, draw, full_mask):
        marks.append("ruler")
    if rng.random() < 0.3:
        draw_hair(rng, draw, (frame_w, frame_h))
        marks.append("hair")
    return out, full_mask, marks


def main(data, out):
    photos = sorted(glob.glob(os.path.join(data, "*Input*", "ISIC_*.jpg")))
    ids = [os.path.basename(p)[:12] for p in photos]
    order = sorted(ids, key=lambda i: (split_hash(0, i), i))
    held_out = sorted(order[: round(len(ids) * 0.2)])
    train = sorted(order[round(len(ids) * 0.2) :])
    rng = random.Random(2017)
    # Skin from 300 training photos with small lesions (most lesion-free skin).
    donors = []
    for id_ in rng.sample(train, 600):
        img, mask = load(data, id_)
        if mask.mean() < 0.2:
            donors.append(skin_patches(img, mask))
        if len(donors) == 300:
            break
    sets = {name: os.path.join(out, name) for name in ("wide-field", "wide-small", "small-lesion")}
    for path in sets.values():
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
    manifest = {name: {} for name in sets}
    for id_ in held_out:
        img, mask = load(data, id_)
        photo, full_mask, marks = wide_field(rng, img, mask, donors)
        share = float(full_mask.mean())
        entry = {"share": round(share, 5), "size": list(photo.size), "marks": marks}
        targets = ["wide-field"] + (["wide-small"] if 0.005 <= share <= 0.02 else [])
        for name in targets:
            photo.save(os.path.join(sets[name], f"{id_}.jpg"), quality=90)
            Image.fromarray(full_mask.astype(np.uint8) * 255).save(os.path.join(sets[name], f"{id_}_segmentation.png"))
            manifest[name][id_] = entry
        if mask.mean() < 0.10:
            for src, dst in [
                (glob.glob(os.path.join(data, "*Input*", f"{id_}.jpg"))[0], f"{id_}.jpg"),
                (glob.glob(os.path.join(data, "*GroundTruth*", f"{id_}_segmentation.png"))[0], f"{id_}_segmentation.png"),
            ]:
                shutil.copy(src, os.path.join(sets["small-lesion"], dst))
            manifest["small-lesion"][id_] = {"share": round(float(mask.mean()), 5), "size": [256, 256], "marks": []}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    for name, entries in manifest.items():
        shares = sorted(e["share"] for e in entries.values())
        median = shares[len(shares) // 2] if shares else float("nan")
        print(f"{name}: {len(entries)} pairs in {sets[name]}, median lesion share {median:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
