// @ts-check
// Boxes and labels on a canvas, laid out as emotion/drawing.py lays them out on the server's frames,
// in the app's colours (emotion.ondevice.browser_settings()["colours"], from EMOTION_COLOURS).
// Python twin: emotion/drawing.py.

// The text size for a box `w` pixels wide, as emotion.drawing.box_scale.
const boxScale = (w) => Math.min(Math.max(w / 160, 0.45), 1.6);

// Sets the context's font for a band of `scale`; returns the font size and the band's padding.
function bandFont(context, scale) {
  const size = Math.round(22 * scale), pad = Math.max(2, Math.round(4 * scale));
  context.font = `${size}px sans-serif`;
  return { size, pad };
}

// The band for `text`: its rect ([x, y, width, height]) with its top-left at (x, y), or with its
// bottom edge at y when `above` and there is room; kept inside the canvas.
function bandAt(context, text, x, y, scale, above = false) {
  const { size, pad } = bandFont(context, scale);
  const width = Math.ceil(context.measureText(text).width) + 2 * pad, band = size + 2 * pad;
  if (above && y >= band) y -= band;
  x = Math.min(Math.max(x, 0), Math.max(0, context.canvas.width - width));
  y = Math.min(Math.max(y, 0), Math.max(0, context.canvas.height - band));
  return [x, y, width, band];
}

// A filled band of `colour` with white text in `rect`, as bandAt sized it.
function paintBand(context, text, rect, colour, scale) {
  const [x, y, width, band] = rect, { pad } = bandFont(context, scale);
  context.fillStyle = colour;
  context.fillRect(x, y, width, band);
  context.fillStyle = '#ffffff';
  context.textBaseline = 'top';
  context.fillText(text, x + pad, y + pad);
}

const overlap = (a, b) =>
  Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0])) *
  Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));

const percent = (p) => `${(p * 100).toFixed(0)}%`;

/** Box every face of a frame's analysis (from OnDevicePipeline.analyze) and label it with its most
 *  likely emotion, and with every emotion's score below the box when showProbabilities is set.
 *  As emotion.drawing.face_bands lays them out, from the left: a label goes above its box, or where
 *  a label or scores placed before lie there, inside the box at its top, else under the box where
 *  the canvas has room, the least covered of these where all are taken.
 *  @param {CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D} context
 *  @param {{ box: number[], probabilities: number[], label: string, confidence: number }[]} faces
 *  @param {import('./contract.js').BrowserSettings} settings
 *  @param {{ showProbabilities?: boolean }} [options] */
export function drawFaces(context, faces, settings, { showProbabilities = false } = {}) {
  context.save();
  for (const face of faces) {
    const [x, y, w, h] = face.box;
    context.strokeStyle = settings.colours[face.label];
    context.lineWidth = Math.max(2, Math.round(boxScale(w) * 3));
    context.strokeRect(x, y, w, h);
  }
  const taken = [];
  const fromTheLeft = [...faces].sort((a, b) => a.box[0] - b.box[0] || a.box[1] - b.box[1]);
  for (const face of fromTheLeft) {
    const [x, y, w, h] = face.box;
    const scale = boxScale(w);
    const text = `${face.label} ${percent(face.confidence)}`;
    const places = [bandAt(context, text, x, y, scale, true), bandAt(context, text, x, y, scale)];
    const under = bandAt(context, text, x, y + h, scale);
    if (under[1] === y + h) places.push(under); // not where the canvas's bottom pushed it back onto the box
    const covered = places.map((place) => taken.reduce((sum, rect) => sum + overlap(place, rect), 0));
    const label = places[covered.indexOf(Math.min(...covered))]; // the first free one
    paintBand(context, text, label, settings.colours[face.label], scale);
    taken.push(label);
    if (showProbabilities) {
      let top = Math.max(y + h + 2, label[1] + label[3]);
      const order = face.probabilities.map((p, i) => i).sort((a, b) => face.probabilities[b] - face.probabilities[a] || a - b);
      for (const i of order) {
        const name = settings.emotions[i], score = `${name} ${percent(face.probabilities[i])}`;
        const row = bandAt(context, score, x, top, scale * 0.7);
        paintBand(context, score, row, settings.colours[name], scale * 0.7);
        taken.push(row);
        top += row[3];
      }
    }
  }
  context.restore();
}
