#!/usr/bin/python3
"""Oracle for region masks and colour transfer (issue 19), written as seed_oracle.py's files
(raw little-endian float32, planar; values.txt of named scalars):

- histogram colour transfer in NumPy, straight from the formula: x -> A (x - mu_s) + mu_c,
  A = Sigma_c^(1/2) Sigma_s^(-1/2), symmetric roots by eigendecomposition, clamp to [0, 1];
- guided Gram losses (Gatys et al. 2017) and their image gradient by PyTorch autograd, on the
  seeded random VGG19 of seed_oracle.py: two styles with fractional masks over the photo, the
  second with a mask over its own painting, blend 3 : 7, for the seed's and the matched Gram;
- a brushwork-cli run of the seed recipe (Adam) with two masked styles: vgg19.pth, PNG inputs
  at the working size, and the final image; and the per-step losses of one with
  --color-transfer histogram.

Usage: regions_oracle.py OUTDIR [--steps N]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_oracle as so  # noqa: E402
import cli_oracle as co  # noqa: E402

H, W = 48, 64                  # the photo
S1H, S1W = 40, 56              # painting 1
S2H, S2W = 56, 48              # painting 2, with its own mask
BLEND = (3.0, 7.0)
LEVEL = {"relu1_1": 0, "relu2_1": 1, "relu3_1": 2, "relu4_1": 3, "relu5_1": 4}
MIN_EIGENVALUE = 1e-10         # as BW_COLOR_TRANSFER_MIN_EIGENVALUE


def histogram_transfer(painting, photo):
    """painting, photo: float64 arrays 3 x h x w."""
    def stats(img):
        x = img.reshape(3, -1)
        return x.mean(axis=1), np.cov(x, bias=True)

    def sym_power(sigma, p):
        lam, v = np.linalg.eigh(sigma)
        return (v * np.maximum(lam, MIN_EIGENVALUE) ** p) @ v.T

    mu_s, sigma_s = stats(painting)
    mu_c, sigma_c = stats(photo)
    a = sym_power(sigma_c, 0.5) @ sym_power(sigma_s, -0.5)
    x = painting.reshape(3, -1)
    y = a @ (x - mu_s[:, None]) + mu_c[:, None]
    return np.clip(y, 0, 1).reshape(painting.shape)


def mask_levels(mask):
    """mask: 1 x 1 x h x w; its value at each pooling level (2x2 average, floor)."""
    levels = [mask]
    for _ in range(4):
        levels.append(F.avg_pool2d(levels[-1], 2))
    return levels


def guided_gram(f, m):
    """G = (F m)(F m)^T * (h w) / sum(m^2), f: 1 x c x h x w, m: 1 x 1 x h x w."""
    _, c, h, w = f.shape
    fm = (f * m).view(c, h * w)
    return fm @ fm.t() * (h * w) / (m ** 2).sum()


def guided_targets(style, style_mask, vgg, match_hw=None, relative=False):
    feats = so.get_features(style, vgg)
    levels = mask_levels(style_mask)
    targets = {}
    for layer in so.STYLE_WEIGHTS:
        f = feats[layer]
        a = guided_gram(f, levels[LEVEL[layer]])
        if relative:   # BW_GRAM_RELATIVE: normalised Grams
            a = a / f[0].numel()
        elif match_hw is not None:   # BW_GRAM_MATCHED: at the photo's pixel count
            ph, pw = match_hw[0] >> LEVEL[layer], match_hw[1] >> LEVEL[layer]
            a = a * (ph * pw) / (f.shape[2] * f.shape[3])
        targets[layer] = a
    return targets


def guided_losses(x_feats, content_feats, terms, relative=False):
    """terms: [(blend, photo mask levels, targets)]; blends normalised to sum 1. relative:
    BW_GRAM_RELATIVE, each term's squared error over its target's squared norm."""
    p = content_feats[so.CONTENT_LAYER]
    if relative:
        content = ((x_feats[so.CONTENT_LAYER] - p) ** 2).sum() / (p ** 2).sum()
    else:
        content = torch.mean((x_feats[so.CONTENT_LAYER] - p) ** 2)
    total_blend = sum(t[0] for t in terms)
    style = 0
    for blend, levels, targets in terms:
        for layer, weight in so.STYLE_WEIGHTS.items():
            f = x_feats[layer]
            _, c, h, w = f.shape
            g = guided_gram(f, levels[LEVEL[layer]])
            a = targets[layer]
            if relative:
                term = ((g / (c * h * w) - a) ** 2).sum() / (a ** 2).sum()
            else:
                term = torch.mean((g - a) ** 2) / (c * h * w)
            style = style + blend / total_blend * weight * term
    return content, style, so.CONTENT_WEIGHT * content + so.STYLE_WEIGHT * style


def fractional_mask(h, w, g, lo=0.0, hi=1.0):
    """A smooth mask with values between lo and hi (blurred noise), 1 x 1 x h x w."""
    low = torch.rand(1, 1, max(2, h // 8), max(2, w // 8), generator=g)
    m = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return lo + (hi - lo) * m


def losses_part(outdir, values):
    vgg = so.make_network(0)
    with open(os.path.join(outdir, "weights.bin"), "wb") as f:
        for m in vgg:
            if isinstance(m, torch.nn.Conv2d):
                f.write(m.weight.detach().contiguous().numpy().tobytes())
                f.write(m.bias.detach().contiguous().numpy().tobytes())
    g = torch.Generator().manual_seed(11)
    content = so.normalised_image(H, W, g)
    style1 = so.normalised_image(S1H, S1W, g)
    style2 = so.normalised_image(S2H, S2W, g)
    probe = so.normalised_image(H, W, g)
    # the left of the photo mostly style 1, the right mostly style 2, blurred in between, and
    # a corner neither covers much
    xs = torch.linspace(0, 1, W).view(1, 1, 1, W).expand(1, 1, H, W)
    mask1 = (1 - xs) * fractional_mask(H, W, g, 0.5, 1.0)
    mask2 = xs * fractional_mask(H, W, g, 0.2, 1.0)
    style_mask2 = fractional_mask(S2H, S2W, g, 0.0, 1.0)
    for name, t in [("content.bin", content), ("style1.bin", style1), ("style2.bin", style2),
                    ("probe.bin", probe), ("mask1.bin", mask1), ("mask2.bin", mask2),
                    ("style_mask2.bin", style_mask2)]:
        so.write(outdir, name, t)

    content_feats = so.get_features(content, vgg)
    for mode, match in [("seed", None), ("matched", (H, W)), ("relative", None)]:
        rel = mode == "relative"
        terms = [(BLEND[0], mask_levels(mask1), guided_targets(style1, torch.ones(1, 1, S1H, S1W), vgg, match, rel)),
                 (BLEND[1], mask_levels(mask2), guided_targets(style2, style_mask2, vgg, match, rel))]
        x = probe.clone().requires_grad_(True)
        c, s, total = guided_losses(so.get_features(x, vgg), content_feats, terms, rel)
        total.backward()
        so.write(outdir, "%s_grad.bin" % mode, x.grad)
        values += [("%s_content" % mode, c.item()), ("%s_style" % mode, s.item()),
                   ("%s_total" % mode, total.item())]


def histogram_part(outdir):
    rng = np.random.default_rng(5)
    # correlated channels, so that A is not diagonal
    def image(h, w, mix):
        base = rng.random((3, h, w))
        return np.clip(np.einsum("ij,jhw->ihw", mix, base) / mix.sum(axis=1)[:, None, None], 0, 1)
    painting = image(40, 56, np.array([[1.0, 0.5, 0.1], [0.2, 1.0, 0.6], [0.7, 0.1, 1.0]]))
    photo = image(48, 64, np.array([[1.0, 0.1, 0.0], [0.3, 0.4, 0.2], [0.1, 0.8, 0.9]])) * 0.8 + 0.1
    painting = painting.astype(np.float32)
    photo = photo.astype(np.float32)
    painting.tofile(os.path.join(outdir, "hist_painting.bin"))
    photo.tofile(os.path.join(outdir, "hist_photo.bin"))
    out = histogram_transfer(painting.astype(np.float64), photo.astype(np.float64))
    out.astype(np.float32).tofile(os.path.join(outdir, "hist_out.bin"))


def save_grey_png(path, mask):
    from PIL import Image
    array = (mask[0, 0].clamp(0, 1).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(array, "L").save(path)


def load_grey_png(path):
    from PIL import Image
    array = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).view(1, 1, *array.shape)


def cli_part(outdir, steps):
    """Two masked styles through brushwork-cli: the seed recipe (Adam, lr 0.003, seed Gram) with
    guided Gram matrices; blend 1 : 3."""
    vgg = so.make_network(1)
    state = {"features." + k: v for k, v in vgg.state_dict().items()}
    torch.save(state, os.path.join(outdir, "vgg19.pth"))
    g = torch.Generator().manual_seed(23)
    p = lambda name: os.path.join(outdir, name)  # noqa: E731
    co.save_png(p("cli_content.png"), co.smooth_image(H, W, g))
    co.save_png(p("cli_style_a.png"), co.smooth_image(40, 64, g))
    co.save_png(p("cli_style_b.png"), co.smooth_image(64, 48, g))
    xs = torch.linspace(0, 1, W).view(1, 1, 1, W).expand(1, 1, H, W)
    save_grey_png(p("cli_mask_a.png"), (1.2 - 1.4 * xs).clamp(0, 1))
    save_grey_png(p("cli_mask_b.png"), (1.4 * xs - 0.2).clamp(0, 1))
    save_grey_png(p("cli_style_mask_b.png"), fractional_mask(64, 48, g, 0.1, 1.0))

    norm = lambda t: (t - co.MEAN) / co.STD  # noqa: E731
    content = norm(co.load_png(p("cli_content.png")))
    terms = [(1.0, mask_levels(load_grey_png(p("cli_mask_a.png"))),
              guided_targets(norm(co.load_png(p("cli_style_a.png"))), torch.ones(1, 1, 40, 64), vgg)),
             (3.0, mask_levels(load_grey_png(p("cli_mask_b.png"))),
              guided_targets(norm(co.load_png(p("cli_style_b.png"))),
                             load_grey_png(p("cli_style_mask_b.png")), vgg))]
    content_feats = so.get_features(content, vgg)
    target = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([target], lr=so.LR)
    lines = []
    for step in range(1, steps + 1):
        _, _, total = guided_losses(so.get_features(target, vgg), content_feats, terms)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        lines.append(("cli_step%d_total" % step, total.item()))
    so.write(outdir, "cli_final.bin", (target.detach() * co.STD + co.MEAN).clamp(0, 1))

    # --color-transfer histogram, one style, no masks: the painting's colours moved to the
    # photo's (NumPy, as above) before its Gram matrices are taken
    photo = co.load_png(p("cli_content.png"))[0].double().numpy()
    painting = co.load_png(p("cli_style_a.png"))[0].double().numpy()
    recoloured = torch.from_numpy(histogram_transfer(painting, photo).astype(np.float32)).unsqueeze(0)
    style_grams = {k: so.gram_matrix(v) for k, v in so.get_features(norm(recoloured), vgg).items()}
    target = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([target], lr=so.LR)
    for step in range(1, steps + 1):
        _, _, total = so.seed_losses(so.get_features(target, vgg), content_feats, style_grams)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        lines.append(("hist_step%d_total" % step, total.item()))
    # a mask that is not an image, and one of another shape
    with open(p("cli_notimage.png"), "wb") as f:
        f.write(b"Not a mask, a poem.\n" * 10)
    save_grey_png(p("cli_square_mask.png"), torch.ones(1, 1, 48, 48))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(2)
    values = []
    histogram_part(args.outdir)
    losses_part(args.outdir, values)
    values += cli_part(args.outdir, args.steps)
    with open(os.path.join(args.outdir, "values.txt"), "w") as f:
        for name, v in values:
            f.write("%s %.17g\n" % (name, v))


if __name__ == "__main__":
    main()
