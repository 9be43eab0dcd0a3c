// @ts-check
// One frame in, each face's box and smoothed emotion out, in the browser: emotion/pipeline.py's
// analyze_frame with BlazeFace (short range) as the face finder, both models run by LiteRT.js on
// the CPU (WebAssembly, one thread). `settings` is emotion.ondevice.browser_settings() from Python.
// Python twin: emotion/pipeline.py.

import { anchorCentres, detectFaces } from './blazeface.js';
import { contentBytes } from './cache.js';
import { faceToInput, insideFrame, resize } from './preprocess.js';
import { FaceTracker, iou } from './tracker.js';

/** @typedef {import('./contract.js').BrowserSettings} BrowserSettings */

const STATIC_URL = new URL('../', import.meta.url).href; // the folder Streamlit serves as /app/static/

// A failed <script> load rejects with an Event, which says nothing when printed.
const reason = (error) => (error instanceof Error ? error.message : error?.type === 'error' ? 'the script did not load' : String(error));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * LiteRT.js, its WebAssembly runtime loaded (once per page). Errors name the URL that failed.
 * `hashes` (file -> sha256) lets the runtime's script and WebAssembly come from Cache Storage (cache.js).
 */
export async function loadLiteRt(files, { staticUrl = STATIC_URL, timeoutMs = 60000, hashes = {} } = {}) {
  const moduleUrl = new URL(files.litert, staticUrl).href;
  const runtimeUrl = new URL(files.runtime, staticUrl).href;
  let litert;
  try {
    litert = await import(moduleUrl);
  } catch (error) {
    throw new Error(`LiteRT.js could not be imported from ${moduleUrl}: ${reason(error)}`);
  }
  try {
    await withTimeout(litert.getGlobalLiteRtPromise() ?? startRuntime(litert, files, staticUrl, hashes), timeoutMs, 'LiteRT.js runtime');
  } catch (error) {
    throw new Error(`LiteRT.js's WebAssembly runtime did not load from ${runtimeUrl}: ${reason(error)}`);
  }
  return litert;
}

/**
 * Starts LiteRT.js's runtime. With both files' hashes, their bytes come through cache.js: the script
 * as a blob: address (its name after '#', which LiteRT.js reads as "a .js file"), the WebAssembly as
 * Emscripten's `Module.wasmBinary`, so the runtime downloads nothing itself.
 */
async function startRuntime(litert, files, staticUrl, hashes) {
  const runtimeUrl = new URL(files.runtime, staticUrl).href;
  const page = /** @type {any} */ (self); // LiteRT.js's loader reads `Module` there as the runtime's Emscripten settings
  page.Module = { printErr: runtimeLog };
  if (!hashes[files.runtime] || !hashes[files.wasm]) return litert.loadLiteRt(runtimeUrl);
  const wasmUrl = new URL(files.wasm, staticUrl).href;
  const [script, wasm] = await Promise.all([
    contentBytes(runtimeUrl, hashes[files.runtime]).catch((error) => { throw new Error(`${runtimeUrl}: ${reason(error)}`); }),
    contentBytes(wasmUrl, hashes[files.wasm]).catch((error) => { throw new Error(`${wasmUrl}: ${reason(error)}`); }),
  ]);
  const scriptUrl = URL.createObjectURL(new Blob([script], { type: 'text/javascript' }));
  page.Module.wasmBinary = wasm.buffer;
  try {
    return await litert.loadLiteRt(`${scriptUrl}#${files.runtime.split('/').pop()}`);
  } finally {
    URL.revokeObjectURL(scriptUrl);
  }
}

/**
 * The runtime's standard error, which Emscripten would print as console errors whole: its notices
 * ("INFO: ... XNNPACK CPU accelerator registered", "WARNING: ... NPU accelerator could not be loaded")
 * are not errors, and a student or teacher opening the console should not read them as such.
 */
function runtimeLog(line) {
  if (line.startsWith('INFO:')) console.info(line);
  else if (line.startsWith('WARNING:')) console.warn(line);
  else console.error(line);
}

/** A .tflite model compiled for the CPU; `expected` lists its input and output shapes; `sha256` lets it come from Cache Storage. */
export async function loadModel(litert, url, expected, sha256 = undefined) {
  const bytes = await contentBytes(url, sha256).catch((error) => { throw new Error(`model ${url} could not be fetched: ${reason(error)}`); });
  let model;
  try {
    model = await litert.loadAndCompile(bytes, { accelerator: 'wasm' });
  } catch (error) {
    throw new Error(`model ${url} is not a model LiteRT.js can run: ${reason(error)}`);
  }
  const shapes = (details) => details.map((d) => Array.from(d.shape).join('x')).sort().join(', ');
  const found = { inputs: shapes(model.getInputDetails()), outputs: shapes(model.getOutputDetails()) };
  const wanted = { inputs: expected.inputs.map((s) => s.join('x')).sort().join(', '), outputs: expected.outputs.map((s) => s.join('x')).sort().join(', ') };
  if (found.inputs !== wanted.inputs || found.outputs !== wanted.outputs) {
    model.delete();
    throw new Error(`model ${url} takes ${found.inputs} and gives ${found.outputs}, not ${wanted.inputs} and ${wanted.outputs}`);
  }
  return model;
}

/** @type {OffscreenCanvasRenderingContext2D | null} the canvas frames are read through, kept from frame to frame */
let reader = null;

/** The width and height of a video, canvas, image or ImageData, without reading its pixels. */
function frameSize(source) {
  const width = source.videoWidth ?? source.naturalWidth ?? source.width;
  const height = source.videoHeight ?? source.naturalHeight ?? source.height;
  if (!width || !height) throw new Error('the frame has no pixels yet (is the video playing?)');
  return { width, height };
}

/** The reading canvas with `source` drawn on it (a video, canvas or image). */
function drawn(source) {
  const { width, height } = frameSize(source);
  if (reader?.canvas.width !== width || reader?.canvas.height !== height) {
    reader = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (!reader) throw new Error('this browser gives no 2D canvas to read the camera\'s frames with');
    reader.globalCompositeOperation = 'copy'; // each frame replaces the last, transparent pixels included
  }
  reader.drawImage(source, 0, 0);
  return reader;
}

/**
 * One frame's pixels (a video, canvas, image or ImageData), drawn once however often they are read, so
 * that every read sees the same video frame: `whole()` as ImageData (RGBA), `box(box)` as ImageData of the
 * box's part inside the frame, or null where none of it is.
 */
function pixelsOf(source) {
  const { width, height } = frameSize(source);
  /** @type {OffscreenCanvasRenderingContext2D | null} */
  let context = null;
  /** @type {ImageData | null} */
  let frame = source instanceof ImageData ? source : null;
  const canvas = () => (context ??= drawn(source));
  return {
    width,
    height,
    whole: () => (frame ??= canvas().getImageData(0, 0, width, height)),
    /** @param {number[]} box */
    box: (box) => {
      const inside = insideFrame(box, width, height);
      if (!inside) return null;
      const { x, y, w, h } = inside;
      if (!frame) return canvas().getImageData(x, y, w, h);
      const part = new ImageData(w, h);
      for (let row = 0; row < h; row++) {
        const from = ((y + row) * width + x) * 4;
        part.data.set(frame.data.subarray(from, from + w * 4), row * w * 4);
      }
      return part;
    },
  };
}

/** The pixels of a video, canvas, image or ImageData, as ImageData (RGBA). */
export function frameFrom(source) {
  return pixelsOf(source).whole();
}

/**
 * emotion.detection.windows.thumbnail: a box's pixels averaged into side x side cells, each of R, G and B
 * (cv::resize INTER_AREA, as preprocess.js reproduces it); null where the box has no pixels in the frame.
 * @param {ImageData | null} pixels
 */
export function thumbnail(pixels, side) {
  return pixels && resize(pixels.data, pixels.width, pixels.height, 3, side, side, 'area', 4);
}

/**
 * When BlazeFace need not run: emotion/detection/windows.py's rule for a face finder without a window
 * search. The whole frame is searched every `fullEvery` frames, in a frame of another size or with another
 * minimum face, in any frame in which a face of the last search changed (its thumbnail, a cell further than
 * `unchangedLevels` from when it was found), and in every frame while a face that a search missed is
 * remembered (`remember` searches); any other frame keeps the last search's boxes.
 * Python twin: emotion.detection.windows.WindowedSearch (a detector without detect_near).
 */
export class StillFaces {
  /** @param {import('./contract.js').DetectorSettings} settings */
  constructor(settings) {
    this.settings = settings;
    /** @type {{ box: number[], foundAs: Uint8Array | null }[]} the last search's faces, and their thumbnails then */
    this.faces = [];
    /** @type {{ box: number[], age: number }[]} faces a search missed, with the searches since one found them */
    this.missed = [];
    this.sinceSearch = -1; // frames since the last search; -1: none yet
    this.searchedIn = ''; // the frame size of the last search: its boxes are kept, its missed faces remembered, only in this size
    this.minFace = 0; // the minimum face of the last search: its boxes are kept only for the same
  }

  /**
   * The last search's boxes when this frame may keep them; null: search this frame.
   * @param {ReturnType<typeof pixelsOf>} pixels  this frame @param {number} minFace
   */
  keep(pixels, minFace) {
    const { fullEvery, thumbnailSide, unchangedLevels } = this.settings;
    if (this.sinceSearch < 0 || this.sinceSearch + 1 >= fullEvery || this.missed.length || minFace !== this.minFace
      || `${pixels.width}x${pixels.height}` !== this.searchedIn) return null;
    const changed = (face) => {
      const now = thumbnail(pixels.box(face.box), thumbnailSide);
      return !now || !face.foundAs || now.some((level, i) => Math.abs(level - face.foundAs[i]) > unchangedLevels);
    };
    if (this.faces.some(changed)) return null;
    this.sinceSearch += 1;
    return this.faces.map((face) => face.box);
  }

  /** @param {number[][]} boxes  this frame's search @param {ReturnType<typeof pixelsOf>} pixels @param {number} minFace */
  found(boxes, pixels, minFace) {
    const size = `${pixels.width}x${pixels.height}`;
    const before = size === this.searchedIn ? [...this.faces.map((face) => ({ box: face.box, age: 0 })), ...this.missed] : [];
    const unmatched = (face) => face.age < this.settings.remember && boxes.every((box) => iou(face.box, box) < 0.3);
    this.missed = before.filter(unmatched).map((face) => ({ box: face.box, age: face.age + 1 }));
    this.faces = boxes.map((box) => ({ box, foundAs: thumbnail(pixels.box(box), this.settings.thumbnailSide) }));
    this.sinceSearch = 0;
    this.searchedIn = size;
    this.minFace = minFace;
  }
}

export class OnDevicePipeline {
  /**
   * Loads LiteRT.js and both models; rejects with a clear message when any of them fails.
   * @param {BrowserSettings} settings
   * @param {{ staticUrl?: string, timeoutMs?: number }} [options]
   */
  static async create(settings, options = {}) {
    const staticUrl = options.staticUrl ?? STATIC_URL;
    const { files, hashes = {} } = settings;
    const litert = await loadLiteRt(files, { ...options, staticUrl, hashes });
    const side = settings.detector.inputSize, anchors = anchorCentres(settings.detector);
    const detector = await loadModel(litert, new URL(files.detector, staticUrl).href,
      { inputs: [[1, side, side, 3]], outputs: [[1, anchors.length / 2, 16], [1, anchors.length / 2, 1]] }, hashes[files.detector]);
    const size = settings.inputSize;
    const classifier = await loadModel(litert, new URL(files.emotion, staticUrl).href,
      { inputs: [[1, size, size, 1]], outputs: [[1, settings.emotions.length]] }, hashes[files.emotion])
      .catch((error) => { detector.delete(); throw error; });
    return new OnDevicePipeline(settings, litert, detector, classifier, anchors);
  }

  /**
   * @param {BrowserSettings} settings
   * @param {any} litert  LiteRT.js's module, its runtime loaded
   * @param {any} detector  the compiled BlazeFace model
   * @param {any} classifier  the compiled emotion model
   * @param {ReturnType<typeof anchorCentres>} anchors
   */
  constructor(settings, litert, detector, classifier, anchors) {
    this.settings = settings;
    this.litert = litert;
    this.detector = detector;
    this.classifier = classifier;
    this.anchors = anchors;
    this.tracker = new FaceTracker(settings.tracker);
    this.search = new StillFaces(settings.detector);
  }

  async run(model, data, shape) {
    const input = new this.litert.Tensor(data, shape);
    try {
      const outputs = await model.run(input);
      const arrays = outputs.map((tensor) => tensor.toTypedArray().slice());
      outputs.forEach((tensor) => tensor.delete());
      return arrays;
    } finally {
      input.delete();
    }
  }

  /** Face boxes [x, y, w, h] in an RGBA frame, largest first (BlazeFaceDetector.detect). */
  async detect(rgba, width, height, minFace = this.settings.minFace) {
    const side = this.settings.detector.inputSize;
    const run = async (input) => {
      const outputs = await this.run(this.detector, input, [1, side, side, 3]);
      return outputs.sort((a, b) => b.length - a.length); // boxes (16 values an anchor) first
    };
    return detectFaces(rgba, width, height, this.settings.detector, this.anchors, run, minFace, 4);
  }

  /** Emotion probabilities (Float32Array, settings.emotions order) of one 48x48 input in [0, 1]. */
  async classify(input) {
    const size = this.settings.inputSize;
    return (await this.run(this.classifier, input, [1, size, size, 1]))[0];
  }

  /**
   * Faces of one frame (video, canvas, image or ImageData): [{box, probabilities, trackId, label,
   * confidence}] largest first, probabilities smoothed over the last frames, and the faces left
   * unlabelled beyond settings.maxFaces. Tracked, a face is classified only when the tracker says it
   * is due at `now` (ms; the page's clock by default), and BlazeFace runs only when `StillFaces` says
   * the frame may not keep the last boxes, as emotion/pipeline.py's analyze_frame does for a live
   * stream; `classified` counts the faces read in this frame, `searched` whether BlazeFace ran. A frame
   * that keeps its boxes and reads no face has only its faces' boxes read.
   */
  async analyze(source, { minFace = this.settings.minFace, track = true, now = performance.now() } = {}) {
    const pixels = pixelsOf(source);
    const kept = track ? this.search.keep(pixels, minFace) : null;
    let frame = kept ? null : pixels.whole();
    const found = kept ?? await this.detect(frame.data, frame.width, frame.height, minFace);
    if (track && !kept) this.search.found(found, pixels, minFace);
    const boxes = found.slice(0, this.settings.maxFaces);
    const { ids, due } = track ? this.tracker.match(boxes, now) : { ids: boxes.map(() => null), due: boxes.map(() => true) };
    if (due.some(Boolean)) frame ??= pixels.whole();
    const { width, height } = pixels;
    const fresh = [];
    for (const [i, box] of boxes.entries()) {
      if (due[i]) fresh.push(await this.classify(faceToInput(frame.data, width, height, box, this.settings.inputSize, 4)));
    }
    const smoothed = track ? this.tracker.smooth(ids, due, fresh, now) : fresh;
    const faces = boxes.map((box, i) => {
      const best = smoothed[i].indexOf(Math.max(...smoothed[i]));
      return { box, probabilities: Array.from(smoothed[i]), trackId: ids[i], label: this.settings.emotions[best], confidence: smoothed[i][best] };
    });
    return { faces, skipped: found.length - boxes.length, classified: fresh.length, searched: !kept, width, height };
  }

  /** Forget the tracked faces (a new stream). */
  reset() {
    this.tracker = new FaceTracker(this.settings.tracker);
    this.search = new StillFaces(this.settings.detector);
  }

  close() { this.detector.delete(); this.classifier.delete(); }
}
