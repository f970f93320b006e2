"""Natural images: skdae's convolutional denoiser against the classical ones, in one run.

    python benchmarks/bench_images.py          # full (about 45 minutes on 2 cores)
    python benchmarks/bench_images.py --quick  # about a minute

- Data: the photographs scikit-image ships in its wheel (``skimage.data``), so the run
  needs no download. The models are trained on 40x40 patches of one set of them and
  denoise *other*, held-out photographs: ``camera`` and ``coins`` (grey), ``coffee``
  and ``chelsea`` (colour).
- Training: each model for the goal's ten minutes on the machine at hand
  (``max_time``: the learning-rate schedule follows the clock).
- Noise: additive Gaussian noise of sigma 15, 25 and 50 (of 255), not clipped (the
  usual protocol of the denoising literature), drawn once with a fixed seed per image.
- skdae: the setting the user guide documents for photographs, a grey model trained
  blind across sigma 5-55, applied to whole images with
  :func:`skdae.image.denoise_image` (fully convolutional), to colour ones in opponent
  colours (``colour="opponent"``), averaged over the image shifted by a pixel and
  turned upside down (``shifts=2, orientations=2``: eight passes); the same model in
  one pass ("skdae, one pass"); and since the classical denoisers are told sigma,
  skdae told sigma 25 ("skdae told 25"): two grey models, each trained at one level
  alone with its gradient clipped (``max_grad_norm``), one at 25 for the grey images and
  the colour differences, one at 25 / sqrt(3) for the mean of R, G and B, which carries
  that much of the noise (``luminance_model``), measured at 25 on every image in the same
  way; and one grey model trained across sigma 25 / sqrt(3) to 25, its gradient clipped,
  used as the blind one ("skdae told 25, one model"): one fit where the pair takes two.
  With ``--colour-model``, also a blind model of three channels trained on the
  same photographs in RGB ("skdae colour model"), for comparison on the colour images.
- The classical denoisers, each with the settings its documentation gives and the
  true sigma where it takes one: scikit-image's ``denoise_nl_means`` (fast mode, patch
  5, distance 6, h = 0.8 sigma), ``denoise_wavelet`` (BayesShrink, soft, rescaled
  sigma; YCbCr for colour), ``denoise_tv_chambolle`` (weight 0.1), and ``bm3d`` (the
  ``bm3d`` package: ``bm3d``, ``bm3d_rgb`` for colour), the classical state of the art.
- Metric: PSNR (data range 1) of the result clipped to [0, 1], and seconds.
- Speed of :func:`~skdae.image.denoise_image`: megapixels a second on the largest test
  image, fully convolutional and in overlapping patches.

Prints the tables and the targets, writes JSON (--json, default
benchmarks/images.json) and the results page (--results-md, default
benchmarks/IMAGES.md).
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _protocol import environment, publish

HERE = Path(__file__).resolve().parent
PATCH = 40
SIGMAS = (15, 25, 50)
TRAIN_SIGMA_RANGE = (5, 55)
TEST_IMAGES = {"grey": ("camera", "coins"), "colour": ("coffee", "chelsea")}
# Photographs (and scans) the models learn from; the test images are never among them.
# The colour model learns from the same ones, the grey among them as grey RGB: six
# colour photographs alone gave it less to learn from (colour-only training, 200 s fits:
# 0.28 dB lower at sigma 25 on the held-out colour images).
_PHOTOGRAPHS = (
    "astronaut",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "grass",
    "gravel",
    "brick",
    "text",
    "page",
    "clock",
    "moon",
    "cell",
    "colorwheel",
)
TRAIN_IMAGES = {"grey": _PHOTOGRAPHS, "colour": _PHOTOGRAPHS}
# The documented setting for photographs (user guide, "Photographs"): one stage of 64
# channels at half resolution, two residual blocks on each side, sub-pixel upsampling,
# linear output and MSE, trained blind across noise levels.
SKDAE_SETTING = dict(
    latent_dim=None,
    channels=(64,),
    bottleneck_layers=0,
    residual_blocks=2,
    upsampling="pixel_shuffle",
    output_activation="identity",
    loss="mse",
    learning_rate_init=2e-3,
    random_state=0,
)
# The noise level skdae is told, as the classical denoisers are told it. A model trained
# at the level does better there than the blind one (and worse away from it), so it is
# measured at that level alone. In opponent colours an image of sigma s shows a grey
# model s in the colour differences and s / sqrt(3) in the mean of R, G and B: a model
# trained at each denoises its own (``luminance_model``). The pair takes two ten-minute
# fits; one model trained across the two levels denoises both after one.
KNOWN_SIGMA = 25
KNOWN = f"skdae told {KNOWN_SIGMA}"  # the pair of models told KNOWN_SIGMA, in the tables
KNOWN_LUMINANCE = KNOWN_SIGMA / np.sqrt(3)
KNOWN_RANGE = (KNOWN_LUMINANCE, KNOWN_SIGMA)
KNOWN_ONE = f"{KNOWN}, one model"  # the model trained across KNOWN_RANGE, in the tables
# Trained at one low level alone, the setting's fit threw its weights off half way (at
# 25 / sqrt(3), the loss rose 140-fold in one epoch and ended 2.3 times its lowest);
# clipping each step's gradient to about the largest norm of a healthy fit's steps kept
# the same fit smooth: it ended at 4.7e-4 against 12.9e-4 (Xeon, 34 epochs).
KNOWN_SETTING = dict(max_grad_norm=0.1)
# The models, by the kind of patches they learn from and the sigma they are trained at
# (None: blind, across TRAIN_SIGMA_RANGE; a (low, high) tuple: across that range), and
# the one --colour-model adds.
MODELS = (
    ("grey", None),
    ("grey", KNOWN_SIGMA),
    ("grey", KNOWN_LUMINANCE),
    ("grey", KNOWN_RANGE),
)
COLOUR = ("colour", None)
ONE_PASS = "skdae, one pass"  # the blind model without the averaging below
SKDAE = ("skdae", ONE_PASS, KNOWN, KNOWN_ONE)
# skdae's ways that take one ten-minute fit, the goal's budget (the pair takes two).
ONE_FIT = ("skdae", ONE_PASS, KNOWN_ONE)
# How the documented setting denoises a photograph: averaged over eight passes, the
# image and its 180-degree turn, each at the four phases of the stride-2 grid (0.15 dB
# at sigma 25 on the Xeon; turns by 90 degrees and mirror images cost ``coffee`` up
# to 0.8 dB each, the model having learnt the orientations of its photographs).
SKDAE_AVERAGING = dict(shifts=2, orientations=2)
COLOUR_MODEL = "skdae colour model"  # a blind RGB model: colour images only
TRAINING_SECONDS_GOAL = 600


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few patches, crops, one sigma")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="skdae's epochs (default: as many as 600 s of training allow (max_time); quick 1)",
    )
    parser.add_argument(
        "--colour-model",
        action="store_true",
        help="also train a blind model of RGB patches (about ten minutes more)",
    )
    parser.add_argument("--json", default=str(HERE / "images.json"))
    parser.add_argument("--results-md", default=str(HERE / "IMAGES.md"), help="'' to skip")
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- data


def load(name, kind):
    """A photograph from skimage.data as float32 in [0, 1]: grey or RGB."""
    from skimage import color, data, util

    image = util.img_as_float32(getattr(data, name)())
    if image.ndim == 3:
        image = image[..., :3]  # RGBA -> RGB
        if kind == "grey":
            image = color.rgb2gray(image)
    elif kind == "colour":
        image = color.gray2rgb(image)
    return np.ascontiguousarray(image, dtype=np.float32)


def training_patches(kind, per_image, seed=0):
    """Rows of flattened 40x40 patches (channels first) cut at random from the
    training photographs, ``per_image`` from each (21,000 in all for either model)."""
    from sklearn.feature_extraction.image import extract_patches_2d

    rows = []
    for i, name in enumerate(TRAIN_IMAGES[kind]):
        patches = extract_patches_2d(
            load(name, kind), (PATCH, PATCH), max_patches=per_image, random_state=seed + i
        )
        if patches.ndim == 4:  # (n, h, w, c) -> channels first
            patches = patches.transpose(0, 3, 1, 2)
        rows.append(patches.reshape(len(patches), -1))
    return np.concatenate(rows).astype(np.float32)


def noisy_version(image, sigma, seed):
    rng = np.random.default_rng(seed)
    return (image + rng.normal(0, sigma / 255, image.shape)).astype(np.float32)


def psnr(clean, estimate):
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(clean, np.clip(estimate, 0, 1), data_range=1.0))


# ------------------------------------------------------------------------ denoisers


def classical_denoisers():
    """name -> fn(noisy, sigma in [0, 1] units, colour) -> denoised."""
    import bm3d
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    def axis(colour):
        return -1 if colour else None

    return {
        "non-local means": lambda x, s, c: denoise_nl_means(
            x,
            h=0.8 * s,
            sigma=s,
            patch_size=5,
            patch_distance=6,
            fast_mode=True,
            channel_axis=axis(c),
        ),
        "wavelet": lambda x, s, c: denoise_wavelet(
            x,
            sigma=s,
            method="BayesShrink",
            mode="soft",
            rescale_sigma=True,
            convert2ycbcr=c,
            channel_axis=axis(c),
        ),
        "total variation": lambda x, s, c: denoise_tv_chambolle(
            x, weight=0.1, channel_axis=axis(c)
        ),
        "BM3D": lambda x, s, c: bm3d.bm3d_rgb(x, s) if c else bm3d.bm3d(x, sigma_psd=s),
    }


def train_skdae(kind, patches, epochs, sigma=None):
    """The documented setting for ``kind``, blind across TRAIN_SIGMA_RANGE or, with
    ``sigma`` (of 255), trained at that level alone or across that ``(low, high)``
    range, its gradient clipped;
    ``epochs=None``: for TRAINING_SECONDS_GOAL (``max_time``, a few seconds under it
    for the fit's setup). Returns the model and its fit's seconds."""
    from _systems import made_for_time

    from skdae import ConvDenoisingAutoencoder, GaussianNoise

    channels = 3 if kind == "colour" else 1
    low, high = TRAIN_SIGMA_RANGE
    if sigma is None:
        std = (low / 255, high / 255)
    else:
        std = tuple(level / 255 for level in sigma) if isinstance(sigma, tuple) else sigma / 255
    setting = SKDAE_SETTING if sigma is None else {**SKDAE_SETTING, **KNOWN_SETTING}

    def make(max_iter):
        return ConvDenoisingAutoencoder(
            image_shape=(channels, PATCH, PATCH),
            corruption=GaussianNoise(std),
            max_iter=max_iter,
            **setting,
        )

    model = made_for_time(make, TRAINING_SECONDS_GOAL) if epochs is None else make(epochs)
    started = time.perf_counter()
    model.fit(patches)
    return model, time.perf_counter() - started


def trained_at(sigma):
    """How the tables name a model's training noise: blind, a sigma, or a range."""
    if sigma is None:
        return "blind"
    if isinstance(sigma, tuple):
        return "-".join(f"{level:.4g}" for level in sigma)
    return round(float(sigma), 2)


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


# ------------------------------------------------------------------------ the run


def evaluate(args):
    from skdae.image import denoise_image

    per_kind = 2_100 if args.quick else 21_000  # patches per model, spread over its images
    epochs = args.epochs or (1 if args.quick else None)  # None: as many as fit in 600 s
    sigmas = (25,) if args.quick else SIGMAS
    classical = classical_denoisers()
    models, training, rows, speed = {}, [], [], []
    for kind, sigma in (*MODELS, *([COLOUR] if args.colour_model else [])):
        patches = training_patches(kind, per_kind // len(TRAIN_IMAGES[kind]))
        model, seconds = train_skdae(kind, patches, epochs, sigma)
        models[kind, sigma] = model
        training.append(
            {
                "kind": kind,
                "trained_at": trained_at(sigma),
                "patches": len(patches),
                "epochs": model.n_iter_,
                "seconds": seconds,
                "final_loss": float(model.loss_curve_[-1]),
            }
        )
        print(
            f"{kind} ({training[-1]['trained_at']}): {len(patches)} patches, "
            f"{model.n_iter_} epochs, {seconds:.0f} s",
            flush=True,
        )

    # The grey models denoise both kinds: colour images in opponent colours.
    def skdae(sigma, averaging=SKDAE_AVERAGING):
        return lambda x, colour: denoise_image(
            models["grey", sigma], x, colour="opponent" if colour else None, **averaging
        )

    def told(x, colour):  # the model trained at KNOWN_SIGMA, with its luminance model
        return denoise_image(
            models["grey", KNOWN_SIGMA],
            x,
            colour="opponent" if colour else None,
            luminance_model=models["grey", KNOWN_LUMINANCE] if colour else None,
            **SKDAE_AVERAGING,
        )

    ours = {
        "skdae": skdae(None),
        ONE_PASS: skdae(None, {}),
        KNOWN: told,
        KNOWN_ONE: skdae(KNOWN_RANGE),  # its own luminance model: it was trained at both
    }
    if COLOUR in models:
        ours[COLOUR_MODEL] = lambda x, colour: denoise_image(models[COLOUR], x, **SKDAE_AVERAGING)
    for kind in ("grey", "colour"):
        for index, name in enumerate(TEST_IMAGES[kind]):
            clean = load(name, kind)
            if args.quick:
                clean = clean[:96, :128]
            for sigma in sigmas:
                noisy = noisy_version(clean, sigma, seed=1000 * index + sigma)
                row = {"image": name, "kind": kind, "sigma": sigma, "noisy": psnr(clean, noisy)}
                chosen = {"skdae": ours["skdae"], ONE_PASS: ours[ONE_PASS]}
                if sigma == KNOWN_SIGMA:
                    chosen[KNOWN], chosen[KNOWN_ONE] = ours[KNOWN], ours[KNOWN_ONE]
                if kind == "colour" and COLOUR_MODEL in ours:
                    chosen[COLOUR_MODEL] = ours[COLOUR_MODEL]
                for system, fn in chosen.items():
                    denoised, seconds = timed(fn, noisy, kind == "colour")
                    row[system], row[f"{system}_seconds"] = psnr(clean, denoised), seconds
                for system, fn in classical.items():
                    denoised, seconds = timed(fn, noisy, sigma / 255, kind == "colour")
                    row[system], row[f"{system}_seconds"] = psnr(clean, denoised), seconds
                rows.append(row)
                shown = [s for s in ("noisy", *SKDAE, COLOUR_MODEL, *classical) if s in row]
                print(
                    f"  {name} sigma {sigma}: " + ", ".join(f"{s} {row[s]:.2f}" for s in shown),
                    flush=True,
                )
        largest = max((load(n, kind) for n in TEST_IMAGES[kind]), key=np.size)
        if args.quick:
            largest = largest[:96, :128]
        noisy = noisy_version(largest, 25, seed=7)
        megapixels = largest.shape[0] * largest.shape[1] / 1e6
        colour = "opponent" if kind == "colour" else None
        model = models["grey", None]
        for mode in ("fully_convolutional", "patches"):
            denoise_image(model, noisy[:64, :64], mode=mode, colour=colour)  # warm-up
            _, seconds = timed(denoise_image, model, noisy, mode=mode, colour=colour)
            speed.append(
                {
                    "kind": kind,
                    "mode": mode,
                    "shape": list(largest.shape),
                    "seconds": seconds,
                    "megapixels_per_second": megapixels / seconds,
                }
            )
    return training, rows, speed, list(classical)


def summary(rows, systems):
    """Mean PSNR over the held-out images of each kind, per sigma and system, for the
    systems measured on every one of them (the model told KNOWN_SIGMA only at that sigma,
    the colour model only on colour images)."""
    out = []
    for kind in ("grey", "colour", "all"):
        for sigma in sorted({r["sigma"] for r in rows}):
            chosen = [r for r in rows if r["sigma"] == sigma and kind in ("all", r["kind"])]
            entry = {"kind": kind, "sigma": sigma}
            for system in ("noisy", *SKDAE, COLOUR_MODEL, *systems):
                if not all(system in r for r in chosen):
                    continue
                entry[system] = float(np.mean([r[system] for r in chosen]))
                if system != "noisy":  # the noisy image takes no time
                    seconds = f"{system}_seconds"
                    entry[seconds] = float(np.mean([r[seconds] for r in chosen]))
            out.append(entry)
    return out


def targets(payload):
    """skdae's documented setting against the classical denoisers at sigma 25: the
    blind model against non-local means and wavelet, and the best of skdae's ways
    that take one ten-minute fit, measured on every held-out image, against BM3D (the
    pair told 25, two fits, for information)."""
    at25 = next(s for s in payload["summary"] if s["kind"] == "all" and s["sigma"] == 25)
    best = max(at25[system] for system in ONE_FIT if system in at25)
    seconds = max(t["seconds"] for t in payload["training"])
    return [
        {
            "target": "sigma 25, held-out images: skdae (blind) - non-local means (dB)",
            "value": at25["skdae"] - at25["non-local means"],
            "goal": "> 0",
            "met": at25["skdae"] > at25["non-local means"],
        },
        {
            "target": "sigma 25, held-out images: skdae (blind) - wavelet (dB)",
            "value": at25["skdae"] - at25["wavelet"],
            "goal": "> 0",
            "met": at25["skdae"] > at25["wavelet"],
        },
        {
            "target": "sigma 25, held-out images: skdae (blind) - BM3D (dB)",
            "value": at25["skdae"] - at25["BM3D"],
            "goal": "for information",
            "met": None,
        },
        {
            "target": "sigma 25, held-out images: best skdae of one model - BM3D (dB)",
            "value": best - at25["BM3D"],
            "goal": ">= -0.5",
            "met": best - at25["BM3D"] >= -0.5,
        },
        {
            "target": f"sigma 25, held-out images: {KNOWN} (two models) - BM3D (dB)",
            "value": at25[KNOWN] - at25["BM3D"],
            "goal": "for information",
            "met": None,
        },
        {
            "target": "training seconds of each model (2 cores)",
            "value": seconds,
            "goal": f"<= {TRAINING_SECONDS_GOAL}",
            "met": seconds <= TRAINING_SECONDS_GOAL,
        },
    ]


def markdown(payload):
    systems = payload["systems"]
    quick = " --quick" if payload["quick"] else ""
    lines = [
        f"## Natural images ({payload['environment']['cpu']}, {payload['date']})",
        "",
        f"`python benchmarks/bench_images.py{quick}`. Trained on {PATCH}x{PATCH} patches of "
        "scikit-image's photographs; PSNR (dB) on held-out ones, Gaussian noise of sigma "
        "(of 255) as given, mean over the images of each kind. skdae: a grey model "
        f"trained blind across sigma {TRAIN_SIGMA_RANGE[0]}-{TRAIN_SIGMA_RANGE[1]}, "
        "denoising colour images in opponent colours, averaged over eight passes (the "
        "image shifted by a pixel and turned upside down); "
        f"{ONE_PASS}: the same model, one pass; "
        f"{KNOWN}: two grey models, each trained at one sigma alone, its gradient "
        f"clipped: at {KNOWN_SIGMA} for grey images and the colour differences, at "
        f"{KNOWN_LUMINANCE:.1f} for the mean of R, G and B (which carries that much of "
        f"the noise), measured at {KNOWN_SIGMA} as skdae; {KNOWN_ONE}: one grey model "
        f"trained across sigma {KNOWN_LUMINANCE:.1f}-{KNOWN_SIGMA}, its gradient clipped, "
        f"used as skdae and measured at {KNOWN_SIGMA}; {COLOUR_MODEL} (with "
        "--colour-model): a blind model of RGB patches, averaged the same way, for "
        "comparison.",
        "",
        "Training: "
        + "; ".join(
            f"{t['kind']} ({t['trained_at']}) {t['patches']} patches x {t['epochs']} epochs "
            f"in {t['seconds']:.0f} s"
            for t in payload["training"]
        )
        + ".",
        "",
    ]
    # The sigma every system was measured at, for the seconds per image.
    overall = next(
        s for s in payload["summary"] if s["kind"] == "all" and s["sigma"] == KNOWN_SIGMA
    )
    lines += _psnr_table("images", "kind", payload["summary"], systems)
    lines += [
        "",
        "Seconds per image (mean): "
        + ", ".join(
            f"{k} {overall[f'{k}_seconds']:.2f}"
            for k in (*SKDAE, COLOUR_MODEL, *systems)
            if f"{k}_seconds" in overall
        )
        + ".",
        "",
    ]
    lines += _psnr_table("image", "image", payload["rows"], systems)
    lines += ["", "| denoise_image | image | mode | megapixels/s |", "|---|---|---|---|"]
    for s in payload["speed"]:
        shape = "x".join(map(str, s["shape"]))
        lines.append(f"| {s['kind']} | {shape} | {s['mode']} | {s['megapixels_per_second']:.3f} |")
    lines += ["", "| target | value | goal | met |", "|---|---|---|---|"]
    for t in payload["targets"]:
        met = "-" if t["met"] is None else ("yes" if t["met"] else "no")
        lines.append(f"| {t['target']} | {t['value']:.3f} | {t['goal']} | {met} |")
    return "\n".join(lines) + "\n"


def _psnr_table(heading, label, rows, systems):
    """Markdown lines of a PSNR table: one row per entry, labelled by ``row[label]``."""
    every = ("noisy", *SKDAE, COLOUR_MODEL, *systems)
    columns = [c for c in every if any(c in row for row in rows)]  # the colour model: optional
    lines = [
        f"| {heading} | sigma | " + " | ".join(columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for row in rows:  # "-": a system not measured there (see summary)
        cells = [f"{row[k]:.2f}" if k in row else "-" for k in columns]
        lines.append(f"| {row[label]} | {row['sigma']} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    args = parse_args(argv)
    with warnings.catch_warnings():
        # The model is purely convolutional: its spatial code is wider than a patch.
        from skdae.exceptions import OvercompleteWarning

        warnings.simplefilter("ignore", OvercompleteWarning)
        training, rows, speed, systems = evaluate(args)
    payload = {
        "date": time.strftime("%Y-%m-%d"),
        "quick": args.quick,
        "environment": environment(),
        "skdae_setting": {k: str(v) for k, v in SKDAE_SETTING.items()},
        "train_sigma_range": list(TRAIN_SIGMA_RANGE),
        "known_sigma": KNOWN_SIGMA,
        "known_setting": {k: str(v) for k, v in KNOWN_SETTING.items()},
        "systems": systems,
        "training": training,
        "rows": rows,
        "summary": summary(rows, systems),
        "speed": speed,
    }
    payload["targets"] = targets(payload)
    text = markdown(payload)
    publish(payload, text, args.json, args.results_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
