#!/usr/bin/python3
"""PyTorch oracle for Brushwork's engine tests: the seed's style-transfer recipe, run by PyTorch
on seeded random VGG19 weights, with everything the C tests compare against written as raw
little-endian float32 files (planar, c x h x w) plus a values.txt of named scalars.

The recipe follows the seed project (shared/seed): torchvision's vgg19().features, features
taken after the (in-place) ReLUs of modules 0, 5, 10, 19, 21, 28, content loss mean((F - P)^2)
on relu4_2, style loss sum_l w_l mean((G - A)^2) / (c h w) with G = F F^T unnormalised,
w = 1, .75, .2, .2, .2, total = 1 * content + 1e6 * style, Adam lr 0.003 on the normalised image.

With --caffe it runs the same network as Caffe's weights are run (Simonyan & Zisserman's VGG19,
which expects BGR in [0, 255] minus the mean pixel): the images it writes are plain RGB in
[0, 1], and it converts them to Caffe's input itself, so the C side's folding of that
convention into conv1_1 is checked against the plain definition. It writes only the features
and the seed loss's gradient then (see caffe_main).

Usage: seed_oracle.py OUTDIR [--height H --width W --style-height H --style-width W
                              --steps N --seed S] [--caffe]
"""
import argparse
import os

import torch
import torchvision

TAPS = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu4_2": 22, "relu5_1": 29}
STYLE_WEIGHTS = {"relu1_1": 1.0, "relu2_1": 0.75, "relu3_1": 0.2, "relu4_1": 0.2, "relu5_1": 0.2}
CONTENT_LAYER = "relu4_2"
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 1e6
LR = 0.003


def make_network(seed):
    torch.manual_seed(seed)
    vgg = torchvision.models.vgg19(weights=None).features[:30].eval()
    for p in vgg.parameters():
        p.requires_grad_(False)
    # torchvision initialises biases to zero; random ones exercise the bias path too
    with torch.no_grad():
        for m in vgg:
            if isinstance(m, torch.nn.Conv2d):
                m.bias.uniform_(-0.1, 0.1)
    return vgg


def get_features(image, vgg):
    features = {}
    x = image
    by_index = {v: k for k, v in TAPS.items()}
    for i, layer in enumerate(vgg):
        x = layer(x)
        if i in by_index:
            features[by_index[i]] = x
    return features


def gram_matrix(t):
    _, d, h, w = t.size()
    t = t.view(d, h * w)
    return torch.mm(t, t.t())


def seed_losses(target_features, content_features, style_grams):
    content_loss = torch.mean((target_features[CONTENT_LAYER] - content_features[CONTENT_LAYER]) ** 2)
    style_loss = 0
    for layer, weight in STYLE_WEIGHTS.items():
        f = target_features[layer]
        _, d, h, w = f.shape
        layer_loss = weight * torch.mean((gram_matrix(f) - style_grams[layer]) ** 2)
        style_loss += layer_loss / (d * h * w)
    return content_loss, style_loss, CONTENT_WEIGHT * content_loss + STYLE_WEIGHT * style_loss


def write(outdir, name, tensor):
    tensor.detach().to(torch.float32).contiguous().numpy().tofile(os.path.join(outdir, name))


def normalised_image(h, w, generator):
    image = torch.rand(1, 3, h, w, generator=generator)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (image - mean) / std


# Caffe's mean pixel, in BGR order (Simonyan & Zisserman's release notes)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def caffe_input(rgb01):
    """An RGB image in [0, 1] as Caffe's VGG19 takes it: BGR, 0-255, mean pixel subtracted."""
    bgr = rgb01[:, [2, 1, 0]] * 255.0
    return bgr - torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)


def caffe_main(args):
    """The seed's losses on a network whose weights take Caffe's input. The leaf the gradient is
    taken for is the plain [0, 1] RGB image x (the C side optimises a normalisation of it and
    converts with the chain rule of that affine map)."""
    vgg = make_network(args.seed)
    # Random weights know nothing of scale: shrink conv1_1 as Caffe's own are (its input is
    # ~57x torchvision's), so that activations stay on the scale of the torchvision test and
    # the random biases still matter
    with torch.no_grad():
        vgg[0].weight /= 64.0
    with open(os.path.join(args.outdir, "weights.bin"), "wb") as f:
        for m in vgg:
            if isinstance(m, torch.nn.Conv2d):
                f.write(m.weight.detach().contiguous().numpy().tobytes())
                f.write(m.bias.detach().contiguous().numpy().tobytes())

    g = torch.Generator().manual_seed(args.seed + 1)
    content = torch.rand(1, 3, args.height, args.width, generator=g)
    style = torch.rand(1, 3, args.style_height, args.style_width, generator=g)
    probe = torch.rand(1, 3, args.height, args.width, generator=g)
    write(args.outdir, "content.bin", content)
    write(args.outdir, "style.bin", style)
    write(args.outdir, "probe.bin", probe)

    content_features = get_features(caffe_input(content), vgg)
    style_grams = {k: gram_matrix(v) for k, v in get_features(caffe_input(style), vgg).items()}
    x = probe.clone().requires_grad_(True)
    feats = get_features(caffe_input(x), vgg)
    for name, t in feats.items():
        write(args.outdir, "probe_%s.bin" % name, t)
    c_loss, s_loss, total = seed_losses(feats, content_features, style_grams)
    total.backward()
    write(args.outdir, "probe_grad_rgb01.bin", x.grad)
    with open(os.path.join(args.outdir, "values.txt"), "w") as f:
        for name, v in [("probe_content", c_loss.item()), ("probe_style", s_loss.item()),
                        ("probe_total", total.item())]:
            f.write("%s %.17g\n" % (name, v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--height", type=int, default=48)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--style-height", type=int, default=40)
    ap.add_argument("--style-width", type=int, default=56)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lbfgs-steps", type=int, default=8)
    ap.add_argument("--lbfgs-history", type=int, default=3)
    ap.add_argument("--caffe", action="store_true",
                    help="weights that take Caffe's input; features and gradient only")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    torch.set_num_threads(2)
    if args.caffe:
        caffe_main(args)
        return

    vgg = make_network(args.seed)
    # weights.bin: for each conv in order, weight [out][in][3][3] then bias [out]
    with open(os.path.join(args.outdir, "weights.bin"), "wb") as f:
        for m in vgg:
            if isinstance(m, torch.nn.Conv2d):
                f.write(m.weight.detach().contiguous().numpy().tobytes())
                f.write(m.bias.detach().contiguous().numpy().tobytes())

    g = torch.Generator().manual_seed(args.seed + 1)
    content = normalised_image(args.height, args.width, g)
    style = normalised_image(args.style_height, args.style_width, g)
    probe = normalised_image(args.height, args.width, g)
    write(args.outdir, "content.bin", content)
    write(args.outdir, "style.bin", style)
    write(args.outdir, "probe.bin", probe)

    content_features = get_features(content, vgg)
    style_grams = {k: gram_matrix(v) for k, v in get_features(style, vgg).items()}
    values = []

    # features of the probe image at every tap, and the gradient of the seed's loss there
    x = probe.clone().requires_grad_(True)
    feats = get_features(x, vgg)
    for name, t in feats.items():
        write(args.outdir, "probe_%s.bin" % name, t)
    c_loss, s_loss, total = seed_losses(feats, content_features, style_grams)
    total.backward()
    write(args.outdir, "probe_grad.bin", x.grad)
    values += [("probe_content", c_loss.item()), ("probe_style", s_loss.item()),
               ("probe_total", total.item())]

    # normalised Gram matrices: G / (c h w) for both sides, loss sum_l w_l mean((G' - A')^2)
    def ngram(t):
        _, d, h, w = t.shape
        return gram_matrix(t) / (d * h * w)
    style_ngrams = {k: ngram(v) for k, v in get_features(style, vgg).items()}
    x = probe.clone().requires_grad_(True)
    feats = get_features(x, vgg)
    n_style = sum(wt * torch.mean((ngram(feats[k]) - style_ngrams[k]) ** 2) for k, wt in STYLE_WEIGHTS.items())
    n_content = torch.mean((feats[CONTENT_LAYER] - content_features[CONTENT_LAYER]) ** 2)
    n_total = CONTENT_WEIGHT * n_content + STYLE_WEIGHT * n_style
    n_total.backward()
    write(args.outdir, "ngram_grad.bin", x.grad)
    values += [("ngram_total", n_total.item())]

    # relative terms (BW_GRAM_RELATIVE): normalised Grams, each layer's squared error over its
    # target's squared norm, the content's likewise
    x = probe.clone().requires_grad_(True)
    feats = get_features(x, vgg)
    r_style = sum(wt * ((ngram(feats[k]) - style_ngrams[k]) ** 2).sum() / (style_ngrams[k] ** 2).sum()
                  for k, wt in STYLE_WEIGHTS.items())
    p = content_features[CONTENT_LAYER]
    r_content = ((feats[CONTENT_LAYER] - p) ** 2).sum() / (p ** 2).sum()
    # style weight 1: relative terms are of one order, so the content's gradient counts too
    r_total = CONTENT_WEIGHT * r_content + 1.0 * r_style
    r_total.backward()
    write(args.outdir, "rgram_grad.bin", x.grad)
    values += [("rgram_content", r_content.item()), ("rgram_style", r_style.item()),
               ("rgram_total", r_total.item())]

    # total variation, as jcjohnson/neural-style's TVLoss: squared differences of neighbours
    x = probe.clone().requires_grad_(True)
    tv = ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum() + ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum()
    (0.5 * tv).backward()
    write(args.outdir, "tv_grad.bin", x.grad)
    values += [("tv", tv.item())]

    # two styles blended 0.3 : 0.7: the target Gram is the blend of the two (as
    # jcjohnson/neural-style's -style_blend_weights)
    style2 = normalised_image(args.style_height + 8, args.style_width - 8, g)
    write(args.outdir, "style2.bin", style2)
    grams2 = {k: gram_matrix(v) for k, v in get_features(style2, vgg).items()}
    blended = {k: 0.3 * style_grams[k] + 0.7 * grams2[k] for k in style_grams}
    x = probe.clone().requires_grad_(True)
    c_loss, s_loss, total = seed_losses(get_features(x, vgg), content_features, blended)
    total.backward()
    write(args.outdir, "blend_grad.bin", x.grad)
    values += [("blend_total", total.item())]

    # the seed's optimisation: init = content, Adam lr 0.003
    target = content.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([target], lr=LR)
    for step in range(1, args.steps + 1):
        feats = get_features(target, vgg)
        c_loss, s_loss, total = seed_losses(feats, content_features, style_grams)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        values += [("step%d_content" % step, c_loss.item()), ("step%d_style" % step, s_loss.item()),
                   ("step%d_total" % step, total.item())]
    write(args.outdir, "final.bin", target)

    # L-BFGS as torch.optim.LBFGS does it: one step(closure) of max_iter inner iterations
    target = content.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([target], lr=1, max_iter=args.lbfgs_steps,
                                  history_size=args.lbfgs_history)
    closure_losses = []

    def closure():
        optimizer.zero_grad()
        feats = get_features(target, vgg)
        _, _, total = seed_losses(feats, content_features, style_grams)
        total.backward()
        closure_losses.append(total.item())
        return total

    optimizer.step(closure)
    for i, v in enumerate(closure_losses):
        values.append(("lbfgs%d_total" % (i + 1), v))
    values.append(("lbfgs_evaluations", len(closure_losses)))
    write(args.outdir, "lbfgs_final.bin", target)

    with open(os.path.join(args.outdir, "values.txt"), "w") as f:
        for name, v in values:
            f.write("%s %.17g\n" % (name, v))


if __name__ == "__main__":
    main()
