// The fine-tuning section's chart: training loss per step and validation scores per epoch, on
// a canvas, in the page's light or dark colours.

/**
 * Draws the training curves on `canvas`: the loss of every step (`steps`: { epoch, step, steps,
 * loss }) as a line on a left axis from 0, the validation IoU and Dice of every epoch
 * (`epochs`: { epoch, valIoU, valDice }) as dots on a right axis from 0 to 1, across
 * `plannedEpochs` (or more, if more have run).
 */
export function drawTrainingChart(canvas, steps, epochs, plannedEpochs) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const pad = 40;
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  ctx.fillStyle = dark ? '#202026' : '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.font = '14px system-ui, sans-serif';
  ctx.fillStyle = dark ? '#ececf1' : '#1b1b1f';
  ctx.strokeStyle = dark ? '#3a3a42' : '#d6d3cf';
  ctx.strokeRect(pad, 10, w - 2 * pad, h - pad - 10);
  const perEpoch = steps.length ? steps[steps.length - 1].steps : 1;
  const total = Math.max(plannedEpochs, ...epochs.map((e) => e.epoch), ...steps.map((s) => s.epoch)) * perEpoch;
  const x = (i) => pad + ((w - 2 * pad) * i) / Math.max(total, 1);
  const maxLoss = 1.1 * Math.max(1e-6, ...steps.map((s) => s.loss));
  const yLoss = (v) => 10 + (h - pad - 10) * (1 - v / maxLoss);
  const yScore = (v) => 10 + (h - pad - 10) * (1 - v);
  ctx.strokeStyle = '#b0125b';
  ctx.lineWidth = 2;
  ctx.beginPath();
  steps.forEach((s, i) => {
    const at = (s.epoch - 1) * s.steps + s.step;
    if (i === 0) ctx.moveTo(x(at), yLoss(s.loss));
    else ctx.lineTo(x(at), yLoss(s.loss));
  });
  ctx.stroke();
  for (const [key, color] of [
    ['valIoU', '#1f6feb'],
    ['valDice', '#1a7f37'],
  ]) {
    ctx.fillStyle = color;
    for (const e of epochs) {
      if (e[key] == null) continue;
      ctx.beginPath();
      ctx.arc(x(e.epoch * perEpoch), yScore(e[key]), 5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  // Legend under the plot: training loss (left axis, 0 to the top value) and validation scores
  // (right axis, 0 to 1).
  const legendY = h - 12;
  ctx.fillStyle = '#b0125b';
  ctx.fillText(`— training loss per step (0 to ${maxLoss.toFixed(3)})`, pad, legendY);
  ctx.fillStyle = '#1f6feb';
  ctx.fillText('● validation IoU', pad + 300, legendY);
  ctx.fillStyle = '#1a7f37';
  ctx.fillText('● validation Dice (0 to 1)', pad + 440, legendY);
  ctx.fillStyle = dark ? '#a9a9b3' : '#55555f';
  ctx.fillText('steps →', w - pad - 60, legendY);
}
