// @ts-check
// MediaPipe's BlazeFace decoded as emotion/detection/blazeface.py decodes it, so that the browser
// finds the faces the server would. Every constant (input size, anchor strides, thresholds, the
// refit to the cascade's framing) comes from Python: emotion.ondevice.browser_settings()["detector"].
// Python twin: emotion/detection/blazeface.py.

import { resize, roundHalfEven } from './preprocess.js';

/**
 * Anchor centres (Float64Array x0, y0, x1, y1, ...) in [0, 1], in the order of the model's outputs.
 * @param {import('./contract.js').DetectorSettings} detector
 */
export function anchorCentres({ inputSize, strides, anchorsPerLayer }) {
  const centres = [];
  for (let layer = 0; layer < strides.length;) {
    // Consecutive layers of one stride share a grid; each cell repeats its centre once per anchor.
    const stride = strides[layer];
    let repeats = 0;
    for (; layer < strides.length && strides[layer] === stride; layer++) repeats += anchorsPerLayer;
    const cells = Math.floor(inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let r = 0; r < repeats; r++) centres.push((x + 0.5) / cells, (y + 0.5) / cells);
      }
    }
  }
  return Float64Array.from(centres);
}

/** Boxes [x0, y0, x1, y1] in input pixels whose score reaches minScore, with their scores. */
export function decode(rawBoxes, rawScores, anchors, { inputSize, minScore, rawScoreLimit }) {
  const boxes = [], scores = [];
  const stride = rawBoxes.length / rawScores.length; // 16: box, then six key points
  for (let i = 0; i < rawScores.length; i++) {
    const raw = Math.min(Math.max(rawScores[i], -rawScoreLimit), rawScoreLimit);
    const score = 1 / (1 + Math.exp(-raw));
    if (score < minScore) continue;
    const cx = rawBoxes[i * stride] + anchors[2 * i] * inputSize;
    const cy = rawBoxes[i * stride + 1] + anchors[2 * i + 1] * inputSize;
    const hw = rawBoxes[i * stride + 2] / 2, hh = rawBoxes[i * stride + 3] / 2;
    const box = [cx - hw, cy - hh, cx + hw, cy + hh];
    if (box[2] > box[0] && box[3] > box[1]) { boxes.push(box); scores.push(score); }
  }
  return { boxes, scores };
}

const area = (b) => (b[2] - b[0]) * (b[3] - b[1]);

/** MediaPipe's weighted non-maximum suppression: best score first, each face the score-weighted
 *  mean of the remaining boxes that overlap it by more than iouThreshold. */
export function weightedSuppression(boxes, scores, iouThreshold) {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b); // stable
  const remaining = order.map(() => true);
  const faces = [];
  for (let best = 0; best < order.length; best++) {
    if (!remaining[best]) continue;
    const top = boxes[order[best]];
    const sum = [0, 0, 0, 0];
    let total = 0;
    for (let k = 0; k < order.length; k++) {
      if (!remaining[k]) continue;
      const box = boxes[order[k]];
      const overlap = Math.max(0, Math.min(top[2], box[2]) - Math.max(top[0], box[0]))
        * Math.max(0, Math.min(top[3], box[3]) - Math.max(top[1], box[1]));
      const iou = overlap / Math.max(area(top) + area(box) - overlap, 1e-9);
      if (k !== best && !(iou > iouThreshold)) continue;
      const weight = scores[order[k]];
      for (let c = 0; c < 4; c++) sum[c] += box[c] * weight;
      total += weight;
      remaining[k] = false;
    }
    faces.push(sum.map((v) => v / total));
  }
  return faces;
}

/** The RGB frame scaled to fit a side x side square, centred on black, as the model's input
 *  (Float32Array, RGB in [-1, 1]); with the scale and the left and top padding. `stride`: 4 when
 *  the frame is a canvas's RGBA pixels, read as RGB where they are. */
export function letterbox(pixels, width, height, side, stride = 3) {
  const scale = side / Math.max(width, height);
  const newWidth = Math.max(1, roundHalfEven(width * scale)), newHeight = Math.max(1, roundHalfEven(height * scale));
  const resized = resize(pixels, width, height, 3, newWidth, newHeight, scale < 1 ? 'area' : 'linear', stride);
  const left = Math.floor((side - newWidth) / 2), top = Math.floor((side - newHeight) / 2);
  const input = new Float32Array(side * side * 3).fill(-1);
  for (let y = 0; y < newHeight; y++) {
    for (let i = 0; i < newWidth * 3; i++) {
      // float32 steps, as numpy computes `square.astype(float32) / 127.5 - 1`
      input[((top + y) * side + left) * 3 + i] = Math.fround(Math.fround(resized[y * newWidth * 3 + i] / 127.5) - 1);
    }
  }
  return { input, scale, left, top };
}

/** emotion.detection.frame_boxes: corners refitted to the cascade's framing, inside the frame,
 *  whole pixels, at least minFace on their shorter side, largest first; [x, y, w, h] each. */
export function frameBoxes(corners, fit, frameWidth, frameHeight, minFace) {
  const clip = (v, high) => Math.min(Math.max(roundHalfEven(v), 0), high);
  const boxes = corners.map(([x0, y0, x1, y1]) => {
    const width = (x1 - x0) * fit.width, height = (y1 - y0) * fit.height;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2 + fit.centreDown * height;
    const left = clip(cx - width / 2, frameWidth), top = clip(cy - height / 2, frameHeight);
    return [left, top, clip(cx + width / 2, frameWidth) - left, clip(cy + height / 2, frameHeight) - top];
  });
  return boxes
    .filter((b) => Math.min(b[2], b[3]) >= Math.max(1, minFace))
    .map((b, i) => [b, i]).sort((a, b) => b[0][2] * b[0][3] - a[0][2] * a[0][3] || a[1] - b[1])
    .map(([b]) => b);
}

/**
 * Faces in an RGB frame (Uint8Array width*height*3, or RGBA with `stride` 4), through `run`, which
 * takes the letterboxed input and resolves to the model's raw [boxes, scores]. `anchors` from
 * anchorCentres(settings).
 * @param {Uint8Array | Uint8ClampedArray} pixels @param {number} width @param {number} height
 * @param {import('./contract.js').DetectorSettings} settings
 * @param {Float64Array} anchors
 * @param {(input: Float32Array) => Promise<ArrayLike<number>[]>} run
 * @param {number} minFace
 * @param {number} [stride]
 */
export async function detectFaces(pixels, width, height, settings, anchors, run, minFace, stride = 3) {
  const { input, scale, left, top } = letterbox(pixels, width, height, settings.inputSize, stride);
  const [rawBoxes, rawScores] = await run(input);
  const { boxes, scores } = decode(rawBoxes, rawScores, anchors, settings);
  const corners = weightedSuppression(boxes, scores, settings.suppressionIou)
    .map((b) => [(b[0] - left) / scale, (b[1] - top) / scale, (b[2] - left) / scale, (b[3] - top) / scale]);
  return frameBoxes(corners, settings.fit, width, height, minFace);
}
