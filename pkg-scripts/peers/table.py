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
    print("\nThe page's CPU path against ONNX Runtime Web (wasm), same weights, input and thread count, headless Chromium "
          "(the page cross-origin isolated; more than 1 thread: LesionLab's threaded module)\n")
    print("| model | input | threads | LesionLab model time (ms) | ORT Web (ms) | ratio | max probability difference |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in sorted(page, key=lambda r: (list(NAMES).index(r["model"]), r.get("threads", 1))):
        print(f"| {NAMES[r['model']]} | {r['size']}x{r['size']} | {r.get('threads', 1)} | {r['ours_ms']:.0f} | {r['ort_web_ms']:.0f} | "
              f"{ratio(r['ours_ms'], r['ort_web_ms'])} | {r['max_probability_diff']:.1e} |")

tune = [r for r in rows if r["kind"] == "finetune"]
if tune:
    counts = sorted({r.get("threads", 1) for r in tune})
    speed = {(r["model"], r.get("threads", 1)): r["images_per_s"] for r in tune}
    print("\nFine-tuning in the page (CPU path, 256x256, batch 4): images/s by thread count, and the gain over 1 thread\n")
    print("| model | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in counts) + " | " +
          " | ".join(f"gain at {t}" for t in counts if t > 1) + " |")
    print("|---|" + "---:|" * (len(counts) + len([t for t in counts if t > 1])))
    for model in dict.fromkeys(r["model"] for r in tune):
        cells = [f"{speed[(model, t)]:.2f}" if (model, t) in speed else "n/a" for t in counts]
        gains = [f"**{speed[(model, t)] / speed[(model, 1)]:.2f}x**" if (model, t) in speed and (model, 1) in speed else "n/a"
                 for t in counts if t > 1]
        print(f"| {model} | " + " | ".join(cells + gains) + " |")
