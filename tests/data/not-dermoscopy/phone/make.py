"""Pictures that stand in for phone photos of skin, which are not dermoscopy: a forearm, a hand or a
leg with a small mole against a wall, and drawn faces; the skin shaded as a limb is, lit from
one side. Made here (no such photos under a free licence are at hand), seeded, and written at
1024x768 or 768x1024 as phone-KIND-NN.jpg beside this file (or into the folder given), for
src/photo_check.rs's tests and the model card's measurement (`lesionlab check-photos`).
Needs Pillow and numpy (pkg-scripts/dev-sets installs them). Usage: python make.py [OUT]"""
import math, random, sys, os
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SKINS = [(224, 172, 140), (198, 134, 96), (241, 194, 170), (141, 85, 54), (232, 180, 150), (176, 118, 80)]
WALLS = [(235, 232, 225), (200, 200, 205), (214, 196, 160), (120, 150, 190), (90, 110, 90), (60, 60, 65), (245, 245, 245), (170, 60, 50)]

def limb(rng, w, h, skin, wall, kind):
    img = Image.new("RGB", (w, h), wall)
    # Wall texture and light falloff.
    a = np.asarray(img).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    a *= (0.85 + 0.2 * (xx / w))[..., None]
    a += np.random.RandomState(rng.randrange(1 << 30)).normal(0, 4, a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    mask = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(mask)
    if kind == "arm":
        ang = rng.uniform(-0.5, 0.5)
        width = rng.uniform(0.35, 0.6) * h
        cx, cy = w / 2, h / 2
        dx, dy = math.cos(ang) * w, math.sin(ang) * w
        nx, ny = -math.sin(ang) * width / 2, math.cos(ang) * width / 2
        d.polygon([(cx - dx + nx, cy - dy + ny), (cx + dx + nx * 0.8, cy + dy + ny * 0.8), (cx + dx - nx * 0.8, cy + dy - ny * 0.8), (cx - dx - nx, cy - dy - ny)], fill=255)
    elif kind == "hand":
        d.rounded_rectangle([w * 0.3, h * 0.35, w * 0.7, h * 1.1], radius=h * 0.1, fill=255)
        for i in range(4):
            x0 = w * (0.31 + i * 0.1)
            d.rounded_rectangle([x0, h * 0.05 + (i % 2) * h * 0.05, x0 + w * 0.08, h * 0.5], radius=w * 0.04, fill=255)
        d.rounded_rectangle([w * 0.12, h * 0.45, w * 0.36, h * 0.58], radius=w * 0.05, fill=255)
    elif kind == "face":
        d.ellipse([w * 0.3, h * 0.1, w * 0.7, h * 0.95], fill=255)
    else:  # leg
        d.polygon([(w * 0.35, 0), (w * 0.7, 0), (w * 0.62, h), (w * 0.42, h)], fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(3))
    m = np.asarray(mask).astype(np.float32)[..., None] / 255
    # Skin with shading across the limb (a cylinder lit from one side) and fine texture.
    shade = np.asarray(mask.filter(ImageFilter.GaussianBlur(h * 0.08))).astype(np.float32)[..., None] / 255
    skin_a = np.array(skin, np.float32) * (0.7 + 0.35 * shade) * (0.9 + 0.15 * (yy / h))[..., None]
    skin_a += np.random.RandomState(rng.randrange(1 << 30)).normal(0, 3, skin_a.shape)
    out = np.asarray(img).astype(np.float32) * (1 - m) + skin_a * m
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    dr = ImageDraw.Draw(img)
    if kind == "face":
        for ex in (0.42, 0.58):
            dr.ellipse([w * ex - w * 0.03, h * 0.4, w * ex + w * 0.03, h * 0.45], fill=(40, 30, 30))
        dr.arc([w * 0.42, h * 0.6, w * 0.58, h * 0.75], 20, 160, fill=(150, 60, 60), width=6)
        dr.chord([w * 0.28, h * 0.02, w * 0.72, h * 0.35], 180, 360, fill=(60, 40, 25))
    # The mole: a few millimetres, dark brown, somewhere on the skin.
    ys, xs = np.nonzero(np.asarray(mask) > 200)
    k = rng.randrange(len(xs))
    r = rng.uniform(0.008, 0.02) * w
    dr.ellipse([xs[k] - r, ys[k] - r * 0.85, xs[k] + r, ys[k] + r * 0.85], fill=(rng.randint(50, 90), rng.randint(30, 55), rng.randint(20, 40)))
    return img.filter(ImageFilter.GaussianBlur(0.8))

def main(out):
    rng = random.Random(7)
    os.makedirs(out, exist_ok=True)
    kinds = ["arm", "arm", "arm", "hand", "hand", "leg", "leg", "face", "face", "arm", "leg", "hand"]
    for i, kind in enumerate(kinds):
        w, h = rng.choice([(1024, 768), (768, 1024)])
        img = limb(rng, w, h, rng.choice(SKINS), rng.choice(WALLS), kind)
        img.save(os.path.join(out, f"phone-{kind}-{i:02d}.jpg"), quality=85)

main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
