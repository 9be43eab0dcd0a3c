// @ts-check
// Grey levels, resizing and the network's 48x48 input, as the server computes them with OpenCV
// (emotion/preprocess.py): the CNN was trained and is checked on OpenCV's pixels, so the browser
// reproduces them bit for bit (tests/test_ondevice.py compares the two), not just "a resize".
// Python twin: emotion/preprocess.py.

// OpenCV 4.x's COLOR_BGR2GRAY on 8-bit pixels: 15-bit fixed-point weights, rounded (checked
// against cv2 on all 16.7 million colours).
const GREY_R = 9798, GREY_G = 19235, GREY_B = 3735, GREY_SHIFT = 15;

/** Grey levels (Uint8Array, width*height) of RGBA pixels, e.g. a canvas's ImageData.data. */
export function greyFromRGBA(rgba, width, height) {
  const grey = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < grey.length; i++, p += 4) grey[i] = greyLevel(rgba, p);
  return grey;
}

const greyLevel = (rgba, p) => (rgba[p] * GREY_R + rgba[p + 1] * GREY_G + rgba[p + 2] * GREY_B + (1 << (GREY_SHIFT - 1))) >> GREY_SHIFT;

const f32 = Math.fround;

// cvRound: to the nearest integer, halves to even (the CPU's default rounding).
export function roundHalfEven(x) {
  const r = Math.round(x);
  return (r - x === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

const toByte = (x) => Math.min(255, Math.max(0, roundHalfEven(x)));

/**
 * cv::resize of 8-bit pixels with `channels` interleaved channels: 'area' (INTER_AREA) or
 * 'linear' (INTER_LINEAR). Returns Uint8Array(dstWidth*dstHeight*channels). `stride`: bytes a source
 * pixel takes, when it has more than the channels resized (RGBA read as RGB: 4), so that a canvas's
 * pixels need no copy first.
 *
 * OpenCV has three code paths, each with its own rounding, and all three are followed here:
 * whole-number shrinks average blocks; other shrinks weigh source pixels by their overlap with
 * each destination pixel (float32 sums); enlarging (and INTER_AREA when one side grows) is
 * bilinear in 11-bit fixed point, rounded as OpenCV's SIMD code rounds it.
 */
export function resize(src, width, height, channels, dstWidth, dstHeight, interpolation, stride = channels) {
  if (width === dstWidth && height === dstHeight) {
    const pixels = packed(src, width * height, channels, stride);
    return pixels === src ? Uint8Array.from(src) : pixels; // a new array either way, as cv::resize gives
  }
  // OpenCV derives the scales from the inverse ratios, in double precision: keep its rounding.
  const invX = dstWidth / width, invY = dstHeight / height;
  const scaleX = 1 / invX, scaleY = 1 / invY;
  const intX = roundHalfEven(scaleX), intY = roundHalfEven(scaleY);
  const wholeNumbers = Math.abs(scaleX - intX) < Number.EPSILON && Math.abs(scaleY - intY) < Number.EPSILON;
  let area = interpolation === 'area';
  if (interpolation === 'linear' && wholeNumbers && intX === 2 && intY === 2) area = true; // OpenCV's shortcut
  if (area && scaleX >= 1 && scaleY >= 1) {
    return wholeNumbers
      ? blockAverage(src, width, channels, stride, dstWidth, dstHeight, intX, intY)
      : areaWeighted(packed(src, width * height, channels, stride), width, height, channels, dstWidth, dstHeight, scaleX, scaleY);
  }
  return bilinear(packed(src, width * height, channels, stride), width, height, channels, dstWidth, dstHeight, scaleX, scaleY, invX, invY, area);
}

// The first `channels` bytes of each `stride`-byte pixel, packed: `src` itself where it is packed already.
function packed(src, pixels, channels, stride) {
  if (stride === channels) return src;
  const out = new Uint8Array(pixels * channels);
  for (let i = 0, p = 0; i < out.length; p += stride) for (let c = 0; c < channels; c++) out[i++] = src[p + c];
  return out;
}

// Each destination pixel the mean of a blockX x blockY block. OpenCV rounds the 2x2 case up
// from halves ((sum + 2) >> 2) and every other block size to even (sum * float(1/area)).
// Each block's rows are summed into one row of sums first: a frame is read once, in order.
function blockAverage(src, width, channels, stride, dstWidth, dstHeight, blockX, blockY) {
  const dst = new Uint8Array(dstWidth * dstHeight * channels);
  const count = blockX * blockY, inverse = f32(1 / count);
  const halvesUp = blockX === 2 && blockY === 2 && channels !== 2;
  const sums = new Int32Array(dstWidth * channels);
  for (let dy = 0, d = 0; dy < dstHeight; dy++) {
    sums.fill(0);
    for (let y = dy * blockY; y < (dy + 1) * blockY; y++) {
      let p = y * width * stride;
      for (let dx = 0, s = 0; dx < dstWidth; dx++, s += channels) {
        if (channels === 3) { // a frame's colours: the channels' sums kept apart, without an inner loop
          let r = 0, g = 0, b = 0;
          for (let x = 0; x < blockX; x++, p += stride) { r += src[p]; g += src[p + 1]; b += src[p + 2]; }
          sums[s] += r; sums[s + 1] += g; sums[s + 2] += b;
        } else {
          for (let x = 0; x < blockX; x++, p += stride) for (let c = 0; c < channels; c++) sums[s + c] += src[p + c];
        }
      }
    }
    for (let i = 0; i < sums.length; i++, d++) dst[d] = halvesUp ? (sums[i] + 2) >> 2 : toByte(f32(sums[i] * inverse));
  }
  return dst;
}

// Source pixels a destination pixel covers, with the share of it each covers (OpenCV's
// computeResizeAreaTab): [{dst, src, weight}], weights as float32.
function overlapTable(size, dstSize, scale) {
  const table = [];
  for (let d = 0; d < dstSize; d++) {
    const start = d * scale, end = start + scale;
    const cell = Math.min(scale, size - start);
    const last = Math.min(Math.floor(end), size - 1);
    const first = Math.min(Math.ceil(start), last);
    if (first - start > 1e-3) table.push({ dst: d, src: first - 1, weight: f32((first - start) / cell) });
    for (let s = first; s < last; s++) table.push({ dst: d, src: s, weight: f32(1 / cell) });
    if (end - last > 1e-3) table.push({ dst: d, src: last, weight: f32(Math.min(Math.min(end - last, 1), cell) / cell) });
  }
  return table;
}

// Weighted sums in float32, in OpenCV's order: each source row across, then rows down.
function areaWeighted(src, width, height, channels, dstWidth, dstHeight, scaleX, scaleY) {
  const xs = overlapTable(width, dstWidth, scaleX), ys = overlapTable(height, dstHeight, scaleY);
  const rowWidth = dstWidth * channels;
  const dst = new Uint8Array(rowWidth * dstHeight);
  const across = new Float32Array(rowWidth), sum = new Float32Array(rowWidth);
  let currentRow = ys[0].dst;
  const flush = () => { for (let i = 0; i < rowWidth; i++) dst[currentRow * rowWidth + i] = toByte(sum[i]); };
  for (const { dst: dy, src: sy, weight: beta } of ys) {
    across.fill(0);
    const row = sy * width * channels;
    for (const { dst: dx, src: sx, weight: alpha } of xs) {
      for (let c = 0; c < channels; c++) {
        across[dx * channels + c] = f32(across[dx * channels + c] + f32(src[row + sx * channels + c] * alpha));
      }
    }
    if (dy !== currentRow) { flush(); sum.fill(0); currentRow = dy; }
    for (let i = 0; i < rowWidth; i++) sum[i] = f32(sum[i] + f32(beta * across[i]));
  }
  flush();
  return dst;
}

// For each destination column (or row): the first source index and its two 11-bit weights.
// OpenCV clamps columns here, where they fall outside the source; rows it clamps only when it
// reads them, keeping both weights (which its vertical rounding sees).
function linearTaps(size, dstSize, scale, inverse, areaMode, clamp) {
  const index = new Int32Array(dstSize), weights = new Int32Array(dstSize * 2);
  let end = dstSize; // from here on the last source pixel alone
  for (let d = 0; d < dstSize; d++) {
    let s, fraction;
    if (!areaMode) {
      fraction = f32((d + 0.5) * scale - 0.5);
      s = Math.floor(fraction);
      fraction = f32(fraction - s);
    } else {
      s = Math.floor(d * scale);
      fraction = f32((d + 1) - (s + 1) * inverse);
      fraction = fraction <= 0 ? 0 : f32(fraction - Math.floor(fraction));
    }
    if (clamp && s < 0) { fraction = 0; s = 0; }
    if (clamp && s + 1 >= size) {
      end = Math.min(end, d);
      if (s >= size - 1) { fraction = 0; s = size - 1; }
    }
    index[d] = s;
    weights[2 * d] = roundHalfEven(f32(1 - fraction) * 2048);
    weights[2 * d + 1] = roundHalfEven(fraction * 2048);
  }
  return { index, weights, end };
}

function bilinear(src, width, height, channels, dstWidth, dstHeight, scaleX, scaleY, invX, invY, areaMode) {
  const xs = linearTaps(width, dstWidth, scaleX, invX, areaMode, true);
  const ys = linearTaps(height, dstHeight, scaleY, invY, areaMode, false);
  const rowWidth = dstWidth * channels;
  const dst = new Uint8Array(rowWidth * dstHeight);
  const rows = [new Int32Array(rowWidth), new Int32Array(rowWidth)];
  const across = (sy, out) => { // horizontal pass: source row sy to 11-bit fixed point
    const row = sy * width * channels;
    for (let dx = 0; dx < dstWidth; dx++) {
      const sx = xs.index[dx], a0 = xs.weights[2 * dx], a1 = xs.weights[2 * dx + 1];
      for (let c = 0; c < channels; c++) {
        const p = row + sx * channels + c;
        out[dx * channels + c] = dx < xs.end ? src[p] * a0 + src[p + channels] * a1 : src[p] * 2048;
      }
    }
  };
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy = ys.index[dy];
    across(Math.min(Math.max(sy, 0), height - 1), rows[0]);
    across(Math.min(Math.max(sy + 1, 0), height - 1), rows[1]);
    const b0 = ys.weights[2 * dy], b1 = ys.weights[2 * dy + 1];
    const out = dy * rowWidth;
    for (let x = 0; x < rowWidth; x++) {
      // OpenCV's vectorised vertical pass (on every width, checked against cv2): each row to 12
      // bits, times its weight's high 16 bits, the sum rounded from 2 bits.
      const v = ((Math.min(rows[0][x] >> 4, 32767) * b0) >> 16) + ((Math.min(rows[1][x] >> 4, 32767) * b1) >> 16);
      dst[out + x] = Math.min(255, (v + 2) >> 2);
    }
  }
  return dst;
}

/**
 * The part of a box (x, y, w, h) inside a width x height frame, as {x, y, w, h}; null where none of it is.
 * @param {number[]} box @param {number} width @param {number} height
 */
export function insideFrame(box, width, height) {
  const x = Math.max(0, box[0]), y = Math.max(0, box[1]);
  const w = Math.min(box[0] + box[2], width) - x, h = Math.min(box[1] + box[3], height) - y;
  return w < 1 || h < 1 ? null : { x, y, w, h };
}

/**
 * The network's input for one face: the box (x, y, w, h) cut from the frame, resized to size x size as
 * face_to_input does (INTER_AREA when either side shrinks, else INTER_LINEAR), in [0, 1].
 * Float32Array(size*size). `stride` 1: `pixels` is the grey frame; 4: the RGBA frame, of which only
 * the box is turned grey (as greyFromRGBA would turn it).
 */
export function faceToInput(pixels, width, height, box, size = 48, stride = 1) {
  const inside = insideFrame(box, width, height);
  if (!inside) throw new Error(`box ${box} has no pixels in a ${width}x${height} frame`);
  const { x, y, w, h } = inside;
  const crop = new Uint8Array(w * h);
  for (let row = 0; row < h; row++) {
    const from = (y + row) * width + x;
    if (stride === 1) crop.set(pixels.subarray(from, from + w), row * w);
    else for (let i = 0; i < w; i++) crop[row * w + i] = greyLevel(pixels, (from + i) * stride);
  }
  const shrinking = w > size || h > size;
  const resized = resize(crop, w, h, 1, size, size, shrinking ? 'area' : 'linear');
  const input = new Float32Array(size * size);
  for (let i = 0; i < input.length; i++) input[i] = resized[i] / 255;
  return input;
}
