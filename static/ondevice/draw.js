// Boxes and labels on a canvas, laid out as emotion/drawing.py draws them on the server's frames,
// in the app's colours (emotion.ondevice.browser_settings()["colours"], from EMOTION_COLOURS).

// A filled band of `colour` with white text, top-left at (x, y), or with its bottom edge at y when
// `above` and there is room; kept inside the canvas. Returns the band's height.
function textBand(context, text, x, y, colour, scale, above = false) {
  const size = Math.round(22 * scale), pad = Math.max(2, Math.round(4 * scale));
  context.font = `${size}px sans-serif`;
  const width = Math.ceil(context.measureText(text).width) + 2 * pad, band = size + 2 * pad;
  if (above && y >= band) y -= band;
  x = Math.min(Math.max(x, 0), Math.max(0, context.canvas.width - width));
  y = Math.min(Math.max(y, 0), Math.max(0, context.canvas.height - band));
  context.fillStyle = colour;
  context.fillRect(x, y, width, band);
  context.fillStyle = '#ffffff';
  context.textBaseline = 'top';
  context.fillText(text, x + pad, y + pad);
  return band;
}

const percent = (p) => `${(p * 100).toFixed(0)}%`;

/** Box one face (from OnDevicePipeline.analyze) and label it with its most likely emotion, and
 *  with every emotion's score below the box when showProbabilities is set. */
export function drawFace(context, face, settings, { showProbabilities = false } = {}) {
  const [x, y, w, h] = face.box;
  const colour = settings.colours[face.label];
  const scale = Math.min(Math.max(w / 160, 0.45), 1.6);
  context.save();
  context.strokeStyle = colour;
  context.lineWidth = Math.max(2, Math.round(scale * 3));
  context.strokeRect(x, y, w, h);
  textBand(context, `${face.label} ${percent(face.confidence)}`, x, y, colour, scale, true);
  if (showProbabilities) {
    let top = y + h + 2;
    const order = face.probabilities.map((p, i) => i).sort((a, b) => face.probabilities[b] - face.probabilities[a] || a - b);
    for (const i of order) {
      const name = settings.emotions[i];
      top += textBand(context, `${name} ${percent(face.probabilities[i])}`, x, top, settings.colours[name], scale * 0.7);
    }
  }
  context.restore();
}

/** Every face of a frame's analysis. */
export function drawFaces(context, faces, settings, options) {
  for (const face of faces) drawFace(context, face, settings, options);
}
