# Reference images for test/data/images.test.ts, written by Pillow at test time
# (nothing is committed): PNG of every colour type and bit depth Pillow writes,
# Adam7-interlaced PNG (Pillow cannot write those: encoded here by hand),
# JPEG at several qualities and subsamplings, progressive, grey, with each
# EXIF orientation, and CMYK; with the pixels Pillow decodes and resizes.
import io, json, struct, sys, zlib
import numpy as np
from PIL import Image, ImageOps

out = sys.argv[1]
rng = np.random.default_rng(7)
cases = []

def save_raw(name, arr):
    np.ascontiguousarray(arr, dtype=np.uint8).tofile(f"{out}/{name}.rgba")

def png_case(name, im, expected_rgba):
    im.save(f"{out}/{name}.png")
    save_raw(name, expected_rgba)
    cases.append({"kind": "png", "name": name})

def photo(w, h):
    # A smooth picture with some texture: what cameras give, unlike pure noise.
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([128 + 100 * np.sin(x / 9 + c) * np.cos(y / 13 - c) for c in range(3)], -1)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)

rgb = photo(23, 17)
rgba = np.concatenate([rgb, rng.integers(0, 256, (17, 23, 1), dtype=np.uint8)], -1)
grey = rgb[..., 0]
opaque = lambda a: np.full(a.shape[:2] + (1,), 255, np.uint8)
as_rgba = lambda g: np.concatenate([np.repeat(g[..., None], 3, -1), opaque(g)], -1)

png_case("rgb8", Image.fromarray(rgb), np.concatenate([rgb, opaque(rgb)], -1))
png_case("rgba8", Image.fromarray(rgba, "RGBA"), rgba)
png_case("grey8", Image.fromarray(grey), as_rgba(grey))
la = Image.fromarray(rgba[..., [0, 3]], "LA")
png_case("greyalpha8", la, np.array(la.convert("RGBA")))
bits1 = Image.fromarray(grey > 128)
png_case("grey1", bits1, np.array(bits1.convert("RGBA")))
g16 = (grey.astype(np.uint16) * 257 + rng.integers(0, 257, grey.shape)).astype(np.uint16)
Image.fromarray(g16.astype(np.int32), "I").save(f"{out}/grey16.png")
save_raw("grey16", as_rgba((g16 >> 8).astype(np.uint8)))
cases.append({"kind": "png", "name": "grey16"})
pal = Image.fromarray(rgb).quantize(200)
png_case("palette8", pal, np.array(pal.convert("RGBA")))
pal4 = Image.fromarray(rgb).quantize(12)
pal4.save(f"{out}/palette4.png", bits=4)
save_raw("palette4", np.array(pal4.convert("RGBA")))
cases.append({"kind": "png", "name": "palette4"})
palt = Image.fromarray(rgb).quantize(16)
palt.info["transparency"] = bytes([0, 128] + [255] * 14)
palt.save(f"{out}/palette-trns.png", transparency=bytes([0, 128] + [255] * 14))
save_raw("palette-trns", np.array(Image.open(f"{out}/palette-trns.png").convert("RGBA")))
cases.append({"kind": "png", "name": "palette-trns"})
key = int(grey[0, 0])
Image.fromarray(grey).save(f"{out}/grey-trns.png", transparency=key)
exp = as_rgba(grey); exp[grey == key, 3] = 0
save_raw("grey-trns", exp)
cases.append({"kind": "png", "name": "grey-trns"})
keyc = tuple(int(v) for v in rgb[3, 5])
Image.fromarray(rgb).save(f"{out}/rgb-trns.png", transparency=keyc)
exp = np.concatenate([rgb, opaque(rgb)], -1); exp[(rgb == keyc).all(-1), 3] = 0
save_raw("rgb-trns", exp)
cases.append({"kind": "png", "name": "rgb-trns"})

def chunk(t, data):
    return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xffffffff)

def adam7_png(path, samples, depth, color_type):
    # samples: h x w x channels integers at `depth` bits; every row filtered with type 0 (none).
    h, w, ch = samples.shape
    raw = b""
    for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            flat = row.reshape(-1).astype(np.uint32)
            if depth == 16:
                line = b"".join(struct.pack(">H", int(v)) for v in flat)
            elif depth == 8:
                line = bytes(int(v) for v in flat)
            else:
                bits = "".join(format(int(v), f"0{depth}b") for v in flat)
                bits += "0" * (-len(bits) % 8)
                line = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
            raw += b"\0" + line
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

adam7_png(f"{out}/rgb8-interlaced.png", rgb, 8, 2)
save_raw("rgb8-interlaced", np.concatenate([rgb, opaque(rgb)], -1))
cases.append({"kind": "png", "name": "rgb8-interlaced"})
g2 = (grey >> 6).astype(np.uint8)
adam7_png(f"{out}/grey2-interlaced.png", g2[..., None], 2, 0)
save_raw("grey2-interlaced", np.array(Image.open(f"{out}/grey2-interlaced.png").convert("RGBA")))
cases.append({"kind": "png", "name": "grey2-interlaced"})
rgba16 = rgba.astype(np.uint16) * 257
adam7_png(f"{out}/rgba16-interlaced.png", rgba16, 16, 6)
save_raw("rgba16-interlaced", rgba)
cases.append({"kind": "png", "name": "rgba16-interlaced"})

big = photo(96, 80)
for q in (50, 75, 95):
    for sub, label in ((2, "420"), (0, "444")):
        name = f"q{q}-{label}"
        Image.fromarray(big).save(f"{out}/{name}.jpg", quality=q, subsampling=sub)
        cases.append({"kind": "jpeg", "name": name})
Image.fromarray(big).save(f"{out}/progressive.jpg", quality=85, progressive=True)
cases.append({"kind": "jpeg", "name": "progressive"})
Image.fromarray(big[..., 1]).save(f"{out}/grey.jpg", quality=85)
cases.append({"kind": "jpeg", "name": "grey"})
asym = photo(40, 24)
asym[:6, :10] = [255, 0, 0]
for o in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = o
    name = f"exif{o}"
    Image.fromarray(asym).save(f"{out}/{name}.jpg", quality=95, subsampling=0, exif=exif.tobytes())
    cases.append({"kind": "jpeg", "name": name})
Image.new("CMYK", (8, 8), (0, 255, 0, 0)).save(f"{out}/cmyk.jpg")

for case in cases:
    if case["kind"] == "jpeg":
        im = ImageOps.exif_transpose(Image.open(f"{out}/{case['name']}.jpg")).convert("RGBA")
        save_raw(case["name"], np.array(im))

# Resizing: Pillow's BOX on whole-number shrink factors and BILINEAR when enlarging.
resize = []
src = photo(96, 64)
Image.fromarray(src).save(f"{out}/resize-src.png")
for (w, h, flt) in ((32, 32, Image.BOX), (48, 16, Image.BOX), (12, 8, Image.BOX), (160, 100, Image.BILINEAR), (250, 130, Image.BILINEAR)):
    name = f"resize-{w}x{h}"
    np.array(Image.fromarray(src).resize((w, h), flt)).tofile(f"{out}/{name}.rgb")
    np.array(Image.fromarray(src).convert("L").resize((w, h), flt)).tofile(f"{out}/{name}.l")
    resize.append({"name": name, "w": w, "h": h})
json.dump({"cases": cases, "resize": resize}, open(f"{out}/cases.json", "w"))
