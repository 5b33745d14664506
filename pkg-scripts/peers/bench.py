"""The peers of `pkg-scripts/bench-peers`: PyTorch eager and ONNX Runtime on the CPU, with the same
architectures and weight layout as LesionLab (the classes of tests/data/golden/make_golden.py at
the web and paper widths), the same inputs and the same number of threads.

    python bench.py --threads 2 --batches 1,4,8 --presets web,paper --repeats 5 > peers.jsonl
    python bench.py --export-onnx DIR      # the shipped weights as ONNX, for the page benchmark

Prints one JSON line per model, preset and batch: forward and training-step medians in ms.
"""
import argparse, json, os, statistics, sys, time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "data", "golden"))
import make_golden as mg  # noqa: E402  (the reference architectures, PyTorch key names)

# What `Model::init(arch, preset)` builds: U-Net++ always with deep supervision.
BUILD = {
    ("unet", "web"): lambda: mg.UNet((16, 32, 64, 128, 256)),
    ("unet", "paper"): lambda: mg.UNet((64, 128, 256, 512, 1024)),
    ("unetpp", "web"): lambda: mg.NestedUNet(True, (16, 32, 64, 128, 256)),
    ("unetpp", "paper"): lambda: mg.NestedUNet(True, (32, 64, 128, 256, 512)),
    ("pspnet", "web"): lambda: mg.PSPNet(256, 128),
    ("pspnet", "paper"): lambda: mg.PSPNet(512, 256),
}


def median_ms(f, repeats):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def outputs(y):
    return y if isinstance(y, list) else [y]


class Mean(torch.nn.Module):
    """One output for export: the mean of the deep-supervision heads, as LesionLab's accurate mode."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        ys = outputs(self.inner(x))
        return sum(ys) / len(ys)


def onnx_file(model, size, batch, path):
    x = torch.randn(batch, 3, size, size)
    program = torch.onnx.export(Mean(model).eval(), (x,), input_names=["x"], output_names=["logits"], opset_version=18, dynamo=True, verbose=False)
    # One self-contained file: ONNX Runtime Web loads it with one fetch.
    program.save(path, external_data=False)


def run(args):
    import onnxruntime as ort

    torch.set_num_threads(args.threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    tmp = args.tmp
    os.makedirs(tmp, exist_ok=True)
    for preset in args.presets:
        for name in args.models:
            for batch in args.batches:
                torch.manual_seed(0)
                model = BUILD[(name, preset)]().eval()
                x = torch.randn(batch, 3, args.size, args.size)
                with torch.no_grad():
                    forward = median_ms(lambda: model(x), args.repeats)
                path = os.path.join(tmp, f"{name}-{preset}-b{batch}.onnx")
                onnx_file(model, args.size, batch, path)
                session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                feed = {"x": x.numpy()}
                ort_forward = median_ms(lambda: session.run(None, feed), args.repeats)
                train = BUILD[(name, preset)]().train()
                optimiser = torch.optim.Adam(train.parameters(), lr=1e-3)
                target = (torch.rand(batch, 1, args.size, args.size) > 0.5).float()

                def step():
                    optimiser.zero_grad()
                    ys = outputs(train(x))
                    loss = sum(mg.combined(y, target) for y in ys) / len(ys)
                    loss.backward()
                    optimiser.step()

                try:
                    train_ms = median_ms(step, args.repeats)
                except ValueError:  # PyTorch refuses batch norm over one value (PSPNet's 1x1 stage at batch 1)
                    train_ms = None
                print(json.dumps({"model": name, "preset": preset, "batch": batch, "size": args.size,
                                  "torch_forward_ms": forward, "ort_forward_ms": ort_forward, "torch_train_ms": train_ms,
                                  "torch": torch.__version__, "onnxruntime": ort.__version__}), flush=True)


def dequantized(state):
    """int8 kernels (`NAME` with its per-output-channel float32 `NAME_scale`, the shipped files'
    form, src/weights/quantize.rs) as float32; every other tensor as float32."""
    out = {}
    for key, tensor in state.items():
        if key.endswith("_scale") and key[: -len("_scale")] in state:
            continue
        scale = state.get(f"{key}_scale")
        tensor = tensor.float()
        if scale is not None:
            tensor = tensor * scale.float().reshape(-1, *([1] * (tensor.dim() - 1)))
        out[key] = tensor
    return out


def export(args):
    """The shipped web weights as ONNX at their input size, for ONNX Runtime Web in the page."""
    from safetensors import safe_open

    os.makedirs(args.export_onnx, exist_ok=True)
    for name in ["unet", "unetpp", "pspnet"]:
        path = os.path.join(ROOT, "weights", f"{name}.safetensors")
        with safe_open(path, "pt") as f:
            size = int((f.metadata() or {}).get("lesionlab.input_size", 256))
            state = {k: f.get_tensor(k) for k in f.keys()}
        state = dequantized(state)
        model = BUILD[(name, "web")]()
        model.load_state_dict(state, strict=True)
        onnx_file(model.eval(), size, 1, os.path.join(args.export_onnx, f"{name}.onnx"))
        print(json.dumps({"model": name, "onnx": f"{name}.onnx", "size": size}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--batches", type=lambda s: [int(b) for b in s.split(",")], default=[1, 4, 8])
    p.add_argument("--presets", type=lambda s: s.split(","), default=["web", "paper"])
    p.add_argument("--models", type=lambda s: s.split(","), default=["unet", "unetpp", "pspnet"])
    p.add_argument("--tmp", default=os.path.join(ROOT, "target", "peers"))
    p.add_argument("--export-onnx", metavar="DIR")
    args = p.parse_args()
    export(args) if args.export_onnx else run(args)


if __name__ == "__main__":
    main()
