# Independent Shapes World v1 judge, written from shared/specs/shapes-world.md §7 alone (numpy + PIL), to cross-check
# the C# renderer and judge. Usage: /usr/bin/python3 independent_judge.py DIR   (DIR in GenEval's folder layout)
import json, os, sys, glob
import numpy as np
from PIL import Image
from collections import deque

PAL = {"red": (215,38,38), "orange": (240,130,20), "yellow": (230,200,25), "green": (40,160,60),
       "blue": (35,75,215), "purple": (130,50,170), "pink": (240,110,175), "brown": (120,70,35)}

def detect(img):
    a = np.asarray(img.convert("RGB")).astype(np.float64)
    H, W, _ = a.shape
    border = np.concatenate([a[0, :], a[-1, :], a[1:-1, 0], a[1:-1, -1]])
    bg = np.median(border, axis=0)
    dist = np.sqrt(((a - bg) ** 2).sum(-1))
    mask = dist > 60
    seen = np.zeros_like(mask)
    objs = []
    for y0 in range(H):
        for x0 in range(W):
            if not mask[y0, x0] or seen[y0, x0]: continue
            q = deque([(y0, x0)]); seen[y0, x0] = True; pix = []
            while q:
                y, x = q.popleft(); pix.append((y, x))
                for dy, dx in ((1,0),(-1,0),(0,1),(0,-1)):
                    yy, xx = y+dy, x+dx
                    if 0 <= yy < H and 0 <= xx < W and mask[yy, xx] and not seen[yy, xx]:
                        seen[yy, xx] = True; q.append((yy, xx))
            if len(pix) < 16: continue
            ys = np.array([p[0] for p in pix]); xs = np.array([p[1] for p in pix])
            strong = dist[ys, xs] > 90
            sel = a[ys[strong], xs[strong]] if strong.any() else a[ys, xs]
            med = np.median(sel, axis=0)
            name, d = min(((n, np.linalg.norm(med - np.array(c))) for n, c in PAL.items()), key=lambda t: t[1])
            color = name if d <= 80 else "unknown"
            x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
            w, h = x2 - x1 + 1, y2 - y1 + 1
            fill = len(pix) / (w * h)
            widths = np.bincount(ys - y1, minlength=h)
            r = (int(np.argmax(widths)) + 0.5) / h
            if not (0.6 <= w / h <= 1.67): shape = "unknown"
            elif fill >= 0.92: shape = "square"
            elif fill >= 0.68: shape = "circle"
            elif r >= 0.75: shape = "triangle"
            elif 0.3 <= r <= 0.7: shape = "diamond"
            else: shape = "unknown"
            objs.append(dict(cls=shape, color=color, cx=x1 + w / 2, cy=y1 + h / 2, w=w, h=h))
    return objs

def rel_ok(a, b, rel):
    ox, oy = a["cx"] - b["cx"], a["cy"] - b["cy"]
    sx, sy = 0.1 * (a["w"] + b["w"]), 0.1 * (a["h"] + b["h"])
    ox = np.sign(ox) * max(abs(ox) - sx, 0); oy = np.sign(oy) * max(abs(oy) - sy, 0)
    if abs(ox) < 1e-3 and abs(oy) < 1e-3: return False
    n = np.hypot(ox, oy); dx, dy = ox / n, oy / n
    return {"left of": dx < -0.5, "right of": dx > 0.5, "above": dy < -0.5, "below": dy > 0.5}[rel]

def correct(meta, objs):
    groups = []
    for c in meta["include"]:
        cand = [o for o in objs if o["cls"] == c["class"] and ("color" not in c or o["color"] == c["color"])]
        if len(cand) < c["count"]: return False
        if "position" in c:
            rel, g = c["position"]
            if not all(rel_ok(a, b, rel) for a in cand for b in groups[g]): return False
        groups.append(cand)
    for c in meta.get("exclude", []):
        if sum(o["cls"] == c["class"] for o in objs) >= c["count"]: return False
    return True

root = sys.argv[1]
tot = {}; 
for d in sorted(os.listdir(root)):
    p = os.path.join(root, d)
    if not d.isdigit(): continue
    meta = json.loads(open(os.path.join(p, "metadata.jsonl")).read())
    for f in sorted(glob.glob(os.path.join(p, "samples", "*.png"))):
        ok = correct(meta, detect(Image.open(f)))
        c = tot.setdefault(meta["tag"], [0, 0]); c[0] += ok; c[1] += 1
        if not ok: print("INCORRECT", f, meta["prompt"])
for t, (k, n) in tot.items(): print(f"{t:14s} {k}/{n}")
print("overall", np.mean([k / n for k, n in tot.values()]))
