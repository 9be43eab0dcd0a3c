// @ts-check
// The on-device camera: the webcam read in this browser (pipeline.js: BlazeFace and the emotion CNN on
// LiteRT.js), the labels drawn over the preview, and only the figures handed to the page, or in a class
// room posted to the room (delivery.js), the camera saying itself what it sees and shares. No video leaves the device: there is no peer connection and no upload.
// Python twin: emotion/live/device.py.

import { OnDevicePipeline } from './pipeline.js';
import { drawFaces } from './draw.js';
import { FiguresReporter } from './reporter.js';
import { figuresGoTo } from './delivery.js';

const SLOW_FPS = 2; // below this for SLOW_AFTER_MS, the page offers the server's path instead
const SLOW_AFTER_MS = 8000;
// A camera that neither opens nor plays within this long is asked for again, at most CAMERA_TRIES times
// in all, and then the student is told. Seen in the browser tests (cause not found): a camera asked for
// again after Pause and Resume stayed at "Starting the camera…" for good, with nothing said.
const CAMERA_START_MS = 10000;
const CAMERA_TRIES = 3;

class CameraTimeout extends Error {}

const stopTracks = (stream) => stream.getTracks().forEach((track) => track.stop());

function withinStartTime(promise) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new CameraTimeout()), CAMERA_START_MS); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function cameraProblem(error) {
  if (error?.name === 'NotAllowedError' || error?.name === 'SecurityError') {
    return 'The camera was refused. Allow it in your browser (the camera icon in the address bar), then reload the page.';
  }
  if (error?.name === 'NotFoundError' || error?.name === 'OverconstrainedError') return 'No camera was found on this device.';
  if (error?.name === 'NotReadableError') return 'The camera is in use by another program. Close it, then reload the page.';
  return `The camera could not be started (${error?.message ?? error}).`;
}

/**
 * The component's state, as the page reads it (emotion/live/device.py's device_camera).
 * @typedef {(name: 'figures' | 'problem' | 'answer', value: import('./contract.js').FiguresMessage
 *   | import('./contract.js').Problem | import('./contract.js').FiguresAnswer) => void} SetState
 */

/**
 * What one mounted camera holds: the page's elements, the webcam's stream, and whether it was unmounted.
 * @typedef {{ canvas: HTMLCanvasElement, status: HTMLElement, video: HTMLVideoElement,
 *   stream: MediaStream | null, stopped: boolean,
 *   problem: (kind: import('./contract.js').Problem['kind'], message: string) => void }} Mounted
 */

/**
 * The camera: open and playing in `view.video`, or null once unmounted; asked for again when it hangs.
 * @param {Mounted} view @param {MediaTrackConstraints} constraints
 * @returns {Promise<MediaStream | null>}
 */
async function openCamera(view, constraints) {
  for (let attempt = 1; ; attempt += 1) {
    const opening = navigator.mediaDevices.getUserMedia({ video: constraints, audio: false });
    try {
      const opened = await withinStartTime(opening);
      if (view.stopped) {
        stopTracks(opened); // unmounted while the browser was opening the camera
        return null;
      }
      view.stream = view.video.srcObject = opened;
      await withinStartTime(view.video.play());
      return opened;
    } catch (error) {
      if (!(error instanceof CameraTimeout) || attempt === CAMERA_TRIES || view.stopped) throw error;
      opening.then(stopTracks, () => {}); // a camera that opens after it was given up is closed at once
      if (view.stream) stopTracks(view.stream);
      view.stream = view.video.srcObject = null;
      view.status.textContent = 'The camera is slow to start; asking for it again…';
    }
  }
}

/**
 * The loop: each frame read, labelled on the canvas and offered to the reporter, no faster than the camera
 * sends frames; a device too slow to follow faces is told so. Ends when the camera is unmounted.
 * @param {Mounted} view @param {OnDevicePipeline} pipeline @param {import('./contract.js').CameraData} data
 * @param {FiguresReporter} reporter
 */
async function readFrames(view, pipeline, data, reporter) {
  view.status.textContent = '';
  /** @type {{ now: number, ms: number }[]} */
  const times = [];
  /** @type {number | null} */
  let slowSince = null;
  while (!view.stopped) {
    const started = performance.now();
    const { faces, skipped, width, height } = await pipeline.analyze(view.video);
    if (view.stopped) break;
    const { canvas } = view;
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    context.drawImage(view.video, 0, 0, width, height);
    drawFaces(context, faces, data.settings, { showProbabilities: data.showProbabilities });
    const now = performance.now();
    times.push({ now, ms: now - started });
    while (times.length > 30) times.shift();
    const fps = times.length > 1 ? ((times.length - 1) * 1000) / (now - times[0].now) : null;
    slowSince = fps !== null && fps < SLOW_FPS ? (slowSince ?? now) : null;
    if (fps !== null && slowSince !== null && now - slowSince > SLOW_AFTER_MS) {
      view.problem('slow', `This device reads only ${fps.toFixed(1)} frames a second, too few to follow faces.`);
      slowSince = null;
    }
    const ms = times.map((t) => t.ms).sort((a, b) => a - b);
    reporter.offer(now, faces, { skipped, fps, msMedian: ms[Math.floor(ms.length / 2)], frames: times.length });
    // No faster than the camera delivers frames: more would read the same frame again and only burn the battery.
    const wait = 1000 / data.camera.frameRate.ideal - (performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
}

/**
 * The camera, then the models, then the loop; each failure told to the student in plain words.
 * @param {Mounted} view @param {import('./contract.js').CameraData} data @param {FiguresReporter} reporter
 */
async function start(view, data, reporter) {
  try {
    if (!(await openCamera(view, data.camera))) return;
  } catch (error) {
    if (view.stopped) return; // an unmounted camera has no page to tell
    const seconds = (CAMERA_START_MS * CAMERA_TRIES) / 1000;
    view.problem('camera', error instanceof CameraTimeout
      ? `The camera did not start within ${seconds} s. Close other programs that may use it, then reload the page.`
      : cameraProblem(error));
    return;
  }
  view.status.textContent = 'Loading the face and emotion models on this device…';
  let pipeline;
  try {
    pipeline = await OnDevicePipeline.create(data.settings);
  } catch (error) {
    view.problem('runtime', `The on-device models could not be loaded: ${error.message}`);
    return;
  }
  try {
    await readFrames(view, pipeline, data, reporter);
  } finally {
    pipeline.close(); // here, once no frame is in flight: closing under a running analyze would free its models mid-call
  }
}

/**
 * The component: starts the camera and the pipeline in `parentElement`; returns a function that stops both.
 * @param {{ parentElement: HTMLElement, data: import('./contract.js').CameraData, setStateValue: SetState }} component
 * @returns {() => void}
 */
export function mount({ parentElement, data, setStateValue }) {
  const root = document.createElement('div');
  root.className = 'ondevice';
  root.innerHTML = '<canvas aria-label="Your camera, with the faces it sees labelled"></canvas>'
    + '<p class="status">Starting the camera…</p><p class="caption"></p>';
  parentElement.replaceChildren(root);
  const canvas = /** @type {HTMLCanvasElement} */ (root.querySelector('canvas'));
  const status = /** @type {HTMLElement} */ (root.querySelector('.status'));
  const caption = /** @type {HTMLElement} */ (root.querySelector('.caption'));
  // Inline styles: the page's column decides the width, the frame keeps its proportions.
  Object.assign(canvas.style, { display: 'block', width: '100%', maxWidth: '640px', height: 'auto', borderRadius: '0.5rem', background: '#222' });
  for (const line of [status, caption]) Object.assign(line.style, { fontFamily: 'sans-serif', color: '#555', margin: '0.25rem 0' });
  caption.hidden = !data.sendTo; // a class room's camera says itself what it sees and shares
  const video = document.createElement('video');
  Object.assign(video, { muted: true, playsInline: true });
  /** @type {Mounted} */
  const view = {
    canvas, status, video, stream: null, stopped: false,
    problem: (kind, message) => {
      status.textContent = message;
      setStateValue('problem', { kind, message });
    },
  };
  const reporter = new FiguresReporter(data, figuresGoTo(data.sendTo, setStateValue, caption));
  start(view, data, reporter).catch((error) => {
    if (!view.stopped) view.problem('runtime', `The on-device camera stopped: ${error.message}`); // an unmounted camera has no page to tell
  });
  return () => {
    view.stopped = true; // the frame loop ends and closes the pipeline
    if (view.stream) stopTracks(view.stream);
  };
}
