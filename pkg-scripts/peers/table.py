"""Prints bench-peers' results (JSON lines) as Markdown tables with ratios: LesionLab's time
divided by the peer's, so below 1 is faster than the peer."""
import json, sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
ours = {(r["model"], r["preset"], r["batch"]): r for r in rows if r["kind"] == "native-ours"}
peers = {(r["model"], r["preset"], r["batch"]): r for r in rows if r["kind"] == "native-peers"}
NAMES = {"unet": "U-Net", "unetpp": "U-Net++", "pspnet": "PSPNet"}


def ms(v):
    return "n/a" if v is None else f"{v:.0f}"


def ratio(a, b):
    return "n/a" if a is None or b is None else f"**{a / b:.2f}x**"


if ours:
    version = next(iter(peers.values()), {})
    print(f"Native, 3x256x256 inputs; PyTorch {version.get('torch', '?')} eager, ONNX Runtime {version.get('onnxruntime', '?')}; "
          "medians in ms; ratio = LesionLab / peer (below 1: LesionLab is faster)\n")
    print("| model | preset | batch | forward: LesionLab | PyTorch | ORT | vs PyTorch | vs ORT | train step: LesionLab | PyTorch | vs PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in sorted(ours, key=lambda k: (k[1] != "web", list(NAMES).index(k[0]), k[2])):
        o, p = ours[key], peers.get(key, {})
        tf, of, ot = p.get("torch_forward_ms"), p.get("ort_forward_ms"), p.get("torch_train_ms")
        print(f"| {NAMES[key[0]]} | {key[1]} | {key[2]} | {ms(o['forward_ms'])} | {ms(tf)} | {ms(of)} | {ratio(o['forward_ms'], tf)} | "
              f"{ratio(o['forward_ms'], of)} | {ms(o['train_ms'])} | {ms(ot)} | {ratio(o['train_ms'], ot)} |")

page = [r for r in rows if r["kind"] == "page"]
if page:
    print("\nThe page's CPU path against ONNX Runtime Web (wasm, 1 thread), same weights and input, headless Chromium\n")
    print("| model | input | LesionLab model time (ms) | ORT Web (ms) | ratio | max probability difference |")
    print("|---|---|---:|---:|---:|---:|")
    for r in page:
        print(f"| {NAMES[r['model']]} | {r['size']}x{r['size']} | {r['ours_ms']:.0f} | {r['ort_web_ms']:.0f} | {ratio(r['ours_ms'], r['ort_web_ms'])} | {r['max_probability_diff']:.1e} |")

tune = [r for r in rows if r["kind"] == "finetune"]
if tune:
    print("\nFine-tuning in the page (CPU path, single-threaded wasm, 256x256, batch 4)\n")
    print("| model | images/s |\n|---|---:|")
    for r in tune:
        print(f"| {r['model']} | {r['images_per_s']:.2f} |")
