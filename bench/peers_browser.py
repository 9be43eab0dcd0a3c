"""The on-device emotion model against two peers' in one headless chromium: @vladmandic/human and @vladmandic/face-api.

    python bench/peers_browser.py                    # all of FER-2013 PublicTest
    python bench/peers_browser.py --limit 200        # 200 faces, evenly spaced over the split (it is sorted by class)
    python bench/peers_browser.py --backend cpu      # the peers on tfjs's plain JavaScript backend

Installs the peers from npm into a temporary folder (versions pinned below; nothing is kept), starts
the real Streamlit server for this project's page and files (static/ondevice/, LiteRT.js, as
bench/ondevice_latency.py does) and a local HTTP server for the peers' files, then runs each model in
its own page of one headless chromium on FER-2013 PublicTest's 48x48 grey faces, fed straight to the
emotion model (no face detector), one face per call:
- this project: `pipeline.classify` on the face in [0, 1], as the app's pipeline classifies a crop;
- Human: its emotion model (loaded by `Human.load` with the face detector and every other model off;
  the detector loads regardless) with src/gear/emotion.ts's preprocessing: the face as RGB in [0, 1] resized
  bilinearly to 64x64, grey = 0.2989 R + 0.5870 G + 0.1140 B, then (grey - 0.5) * 2;
- face-api: `faceExpressionNet.predictExpressions` on the face as an int32 RGB tensor (what
  `tf.browser.fromPixels` gives for a crop); it pads to square, resizes to 112x112, subtracts its mean RGB and divides by 255.
Each model's classes are mapped by name to FER-2013's order (emotion.labels.EMOTIONS).

Then each whole face pipeline, face finder and emotion model with its own caching, on a webcam's frames
(--frames of them, paced 15 a second in real time: bench/frames.py's 640x480 one-face frame, 16 copies each
with its own camera noise, --noise, played in turn): this project's `pipeline.analyze` (BlazeFace, the
bounded reading rate, the pixel rule) against `human.detect` with Human's defaults (BlazeFace, one face,
its input cache and skipFrames / skipTime) and every model but its face detector and emotion turned off,
with its input filters (its default) and without them.

Prints per model: accuracy, balanced accuracy (mean recall over the classes), milliseconds per face
(median and p95 of every face's call, after a warm-up; the input's conversion, the model and reading
the result back), and the bytes each page downloaded for the emotion model's files and for the
runtime (response bodies counted in Playwright: as stored, and as received, gzipped where the server
compresses; Streamlit gzips static/, the script's server gzips every file a browser accepts it for, at
level 6 as Tornado does), then the exact versions. The peers' tfjs WebAssembly binaries come from
@tensorflow/tfjs-backend-wasm at the tfjs version both bundle (the packages fetch them from a CDN
otherwise); neither the pages nor the servers reach the internet.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.server
import mimetypes
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from emotion.labels import EMOTIONS
from emotion.ondevice import browser_settings
from scripts.fetch_litertjs import CORE as LITERT_CORE
from tests.support.browser import CHROMIUM, chromium_args, free_port, streamlit_server
from tests.support.files import SHARED_DATA, camera_noise
from tests.support.ondevice import CLASSIFY_CROPS, PAGE_HELPERS, OnDevicePage

HUMAN = "@vladmandic/human@3.3.6"
FACE_API = "@vladmandic/face-api@1.7.15"
# The tfjs both bundle (their dist/tfjs.version.js): only its .wasm files are used.
TFJS_WASM = "@tensorflow/tfjs-backend-wasm@4.22.0"
PACKAGES = (HUMAN, FACE_API, TFJS_WASM)
GZIP_LEVEL = 6  # Tornado's, which Streamlit serves with
NPM = "/npm/"  # where the script's server serves the temporary node_modules/

# This project's model on the page OnDevicePage loaded (the app's pipeline, LiteRT.js): one 48x48 face in [0, 1].
OURS_SETUP = """() => {
  window.classes = settings.emotions;
  window.classifyFace = (face) => pipeline.classify(Float32Array.from(face, (v) => v / 255));
  return { backend: 'LiteRT.js wasm (compat build, one thread)' };
}"""

# tests/support/ondevice.py's window.bytes and window.canvasOf, for the pages on the script's server.
PEER_HELPERS = "() => {" + PAGE_HELPERS + "}"

# The backend tfjs runs on, in words.
BACKEND = """async (tf) => {
  const backend = tf.getBackend();
  if (backend !== 'wasm') return `tfjs ${backend}`;
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `tfjs wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'one thread'})`;
}"""

# Human's emotion model and its own preprocessing (src/gear/emotion.ts, the grey model's branch), on the
# tensor Human's face pipeline hands it: the face crop as RGB in [0, 1].
HUMAN_SETUP = (
    """async ([backend, npm]) => {
  const backendName = """
    + BACKEND
    + """;
  const { Human } = await import(npm + '@vladmandic/human/dist/human.esm.js');
  const off = { enabled: false };
  const human = new Human({
    backend, wasmPath: npm + '@tensorflow/tfjs-backend-wasm/dist/', modelBasePath: npm + '@vladmandic/human/models/',
    debug: false, warmup: 'none', filter: off, gesture: off, body: off, hand: off, object: off, segmentation: off,
    face: {
      enabled: true, detector: off, mesh: off, iris: off, attention: off, description: off, antispoof: off, liveness: off,
      emotion: { enabled: true },  // detector.enabled is in Human's config type, but models.ts loads BlazeFace regardless
    },
  });
  await human.load();
  const tf = human.tf, model = human.models.models.emotion;
  if (!model) throw new Error('Human did not load its emotion model');
  const [, height, width, channels] = model.inputs[0].shape;
  if (channels !== 1) throw new Error(`Human's emotion model takes ${channels} channels; this script knows the grey one`);
  const rgbWeights = tf.tensor1d([0.2989, 0.5870, 0.1140], 'float32');  // src/tfjs/constants.ts
  window.classes = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];  // emotion.ts, the grey model's
  window.classifyFace = async (face) => {
    const out = tf.tidy(() => {
      const grey = tf.div(tf.tensor4d(face, [1, 48, 48, 1], 'float32'), 255);
      const crop = tf.tile(grey, [1, 1, 1, 3]);
      const resize = tf.image.resizeBilinear(crop, [height, width], false);
      const grayscale = tf.sum(tf.mul(resize, rgbWeights), 3, true);
      return model.execute(tf.mul(tf.sub(grayscale, 0.5), 2));
    });
    try { return await out.data(); } finally { out.dispose(); }
  };
  return { version: human.version, tfjs: tf.version['tfjs-core'], backend: await backendName(tf),
           input: `${height}x${width}x${channels}` };
}"""
)

FACE_API_SETUP = (
    """async ([backend, npm]) => {
  const backendName = """
    + BACKEND
    + """;
  const faceapi = await import(npm + '@vladmandic/face-api/dist/face-api.esm.js');
  const tf = faceapi.tf;
  if (backend === 'wasm') tf.setWasmPaths(npm + '@tensorflow/tfjs-backend-wasm/dist/');
  if (!(await tf.setBackend(backend))) throw new Error(`face-api's tfjs has no ${backend} backend`);
  await tf.ready();
  const net = faceapi.nets.faceExpressionNet;
  await net.loadFromUri(npm + '@vladmandic/face-api/model');
  window.classes = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];  // FaceExpressions.ts
  window.classifyFace = async (face) => {
    const crop = tf.tidy(() => tf.tile(tf.tensor3d(face, [48, 48, 1], 'int32'), [1, 1, 3]));
    try {
      const expressions = await net.predictExpressions(crop);
      return classes.map((name) => expressions[name]);
    } finally {
      crop.dispose();
    }
  };
  return { version: faceapi.version, tfjs: tf.version['tfjs-core'], backend: await backendName(tf),
           input: '112x112x3' };
}"""
)

# Every face of 'faces' (uint8, 48x48 each) classified alone after `warmup` calls: probabilities in the
# model's own class order and milliseconds per call.
SCORE = """async (warmup) => {
  const all = await bytes('faces'), size = 48 * 48, count = all.length / size;
  const face = (i) => all.subarray(i * size, (i + 1) * size);
  for (let i = 0; i < warmup; i++) await classifyFace(face(i % count));
  const probabilities = [], ms = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const result = await classifyFace(face(i));
    ms.push(performance.now() - start);
    probabilities.push(Array.from(result));
  }
  return { classes, probabilities, ms };
}"""

# Human's whole face pipeline as a page would run it on each camera frame: its defaults (cacheSensitivity,
# the detector's and the emotion model's skipFrames and skipTime, one face), every model but BlazeFace and
# emotion off; `filter` false also turns off its input filters (a WebGL canvas, which a headless chromium with no
# GPU runs in software).
HUMAN_PIPELINE_SETUP = """async ([backend, npm, filter]) => {
  const { Human } = await import(npm + '@vladmandic/human/dist/human.esm.js');
  const off = { enabled: false };
  const human = new Human({
    backend, wasmPath: npm + '@tensorflow/tfjs-backend-wasm/dist/', modelBasePath: npm + '@vladmandic/human/models/',
    debug: false, body: off, hand: off, object: off, segmentation: off, gesture: off,
    face: { mesh: off, iris: off, attention: off, description: off, antispoof: off, liveness: off },
    ...(filter ? {} : { filter: off }),
  });
  await human.load();
  await human.warmup();
  window.analyzeFrame = async (frame) => {
    const found = await human.detect(frame);
    return found.face.map((face) => face.emotion?.[0]?.emotion ?? '-');
  };
  window.pipelineNotes = () => human.performance;  // Human's own timings of its last frame's stages, ms
  return { version: human.version, config: { cacheSensitivity: human.config.cacheSensitivity, filter: human.config.filter.enabled,
    detector: human.config.face.detector, emotion: human.config.face.emotion } };
}"""

OURS_PIPELINE_SETUP = """() => {
  window.analyzeFrame = async (frame) => (await pipeline.analyze(frame)).faces.map((face) => face.label);
  pipeline.reset();
}"""

# `frames` calls of analyzeFrame, one every 1/15 s of real time (a camera's pace), on the `copies` frames
# stored as 'frame 0', 'frame 1', ... (RGBA, width x height), drawn on canvases and played in turn.
PLAY_FRAMES = """async ([copies, width, height, frames]) => {
  const canvases = [];
  for (let i = 0; i < copies; i++) canvases.push(await canvasOf(`frame ${i}`, width, height));
  for (let i = 0; i < 15; i++) await analyzeFrame(canvases[i % copies]);  // warm-up: a second of frames
  const ms = [], labels = [], start = performance.now();
  for (let i = 0; i < frames; i++) {
    const wait = start + (i * 1000) / 15 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const began = performance.now();
    labels.push(await analyzeFrame(canvases[i % copies]));
    ms.push(performance.now() - began);
  }
  return { ms, labels, notes: window.pipelineNotes?.() };
}"""

# FER-2013's names for the peers' class names.
FER_NAME = {"fearful": "fear", "disgusted": "disgust", "surprised": "surprise"}


@dataclass(frozen=True)
class Model:
    name: str
    model_files: tuple[str, ...]  # URL parts of the emotion model's files
    runtime_files: tuple[str, ...]  # URL parts of the runtime's files (JavaScript and WebAssembly)


OURS = Model("this project (LiteRT.js)", ("/app/static/models/emotion_cnn_b1.tflite",), ("/app/static/litert/",))
PEER_HUMAN = Model(
    "@vladmandic/human emotion",
    (f"{NPM}@vladmandic/human/models/emotion.",),
    (f"{NPM}@vladmandic/human/dist/", f"{NPM}@tensorflow/tfjs-backend-wasm/"),
)
PEER_FACE_API = Model(
    "@vladmandic/face-api expressions",
    (f"{NPM}@vladmandic/face-api/model/face_expression_model",),
    (f"{NPM}@vladmandic/face-api/dist/", f"{NPM}@tensorflow/tfjs-backend-wasm/"),
)


@dataclass
class Downloads:
    """Response bodies of the pages of the watched browser contexts: bytes as stored, as received, and the encoding."""

    requests: list[Any] = field(default_factory=list)

    def watch(self, context: Any) -> None:
        context.on("requestfinished", self._finished)

    def _finished(self, request: Any) -> None:
        self.requests.append(request)

    def files(self) -> list[tuple[str, int, int, str]]:
        """(URL, bytes, bytes received, content-encoding) of each response finished so far."""
        found = []
        for request in self.requests:
            response = request.response()
            if response is None or request.url.startswith(("data:", "blob:")):
                continue
            encoding = response.headers.get("content-encoding", "identity")
            found.append((request.url, len(response.body()), int(request.sizes()["responseBodySize"]), encoding))
        return found


class WatchedBrowser:
    """A browser whose new contexts `downloads` watches; OnDevicePage makes its page in one."""

    def __init__(self, browser: Any, downloads: Downloads) -> None:
        self.browser, self.downloads = browser, downloads

    def new_context(self, **options: Any) -> Any:
        context = self.browser.new_context(**options)
        self.downloads.watch(context)
        return context


@dataclass
class Result:
    model: Model
    backend: str
    labels: np.ndarray
    ms: list[float]
    model_bytes: tuple[int, int]  # as stored, as received
    runtime_bytes: tuple[int, int]
    other: list[str]  # other files the page downloaded for the model (a detector, the pipeline's modules)
    encodings: set[str]


def tally(model: Model, downloads: Downloads) -> tuple[tuple[int, int], tuple[int, int], list[str], set[str]]:
    model_bytes, runtime_bytes, other, encodings = [0, 0], [0, 0], [], set()
    for url, size, received, encoding in downloads.files():
        path = urlsplit(url).path
        if path.startswith("/test-data/") or not (path.startswith(("/app/static/", NPM))):
            continue
        if any(part in path for part in model.model_files):
            total = model_bytes
        elif any(part in path for part in model.runtime_files):
            total = runtime_bytes
        else:
            other.append(f"{path.rsplit('/', 1)[-1]} {size:,} ({received:,})")
            continue
        total[0] += size
        total[1] += received
        encodings.add(encoding)
    return (model_bytes[0], model_bytes[1]), (runtime_bytes[0], runtime_bytes[1]), other, encodings


def fer_labels(found: dict[str, Any]) -> np.ndarray:
    """Each face's most probable class as a FER-2013 index, the model's classes mapped by name."""
    names = [FER_NAME.get(name.lower(), name.lower()) for name in found["classes"]]
    order = [names.index(emotion.lower()) for emotion in EMOTIONS]  # raises if a model lacks one of FER-2013's classes
    return np.asarray(found["probabilities"], dtype=np.float64)[:, order].argmax(axis=1)


def score(page: Any, model: Model, backend: str, downloads: Downloads, warmup: int) -> Result:
    found = page.evaluate(SCORE, warmup)
    model_bytes, runtime_bytes, other, encodings = tally(model, downloads)
    return Result(model, backend, fer_labels(found), found["ms"], model_bytes, runtime_bytes, other, encodings)


class PeerFiles(http.server.SimpleHTTPRequestHandler):
    """node_modules/ at /npm/, `data` at /test-data/ and a blank page at /, gzipped where the browser accepts it."""

    node_modules: Path
    data: dict[str, bytes]

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == "/":
            self._send(b"<!doctype html><title>peers</title>", "text/html")
        elif path.startswith("/test-data/") and path[len("/test-data/") :] in self.data:
            self._send(self.data[path[len("/test-data/") :]], "application/octet-stream", compress=False)
        elif path.startswith(NPM):
            file = (self.node_modules / path[len(NPM) :]).resolve()
            if file.is_file() and file.is_relative_to(self.node_modules):
                kind = {".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json"}.get(file.suffix)
                self._send(file.read_bytes(), kind or mimetypes.guess_type(file.name)[0] or "application/octet-stream")
            else:
                self.send_error(404)
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str, compress: bool = True) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if compress and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=GZIP_LEVEL)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def peer_server(node_modules: Path, data: dict[str, bytes]) -> Iterator[str]:
    """The script's HTTP server on a free loopback port; yields its URL."""
    handler = type("Handler", (PeerFiles,), {"node_modules": node_modules.resolve(), "data": data})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def find_npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm not found: this benchmark installs the peers from npm at run time (apt-get install npm)")
    return npm


def npm_install(npm: str, folder: Path) -> Path:
    """The pinned packages installed under `folder`; their node_modules/."""
    command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--legacy-peer-deps", "--prefix", str(folder), *PACKAGES]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"npm install failed (exit {done.returncode}): {' '.join(command)}\n{done.stderr.strip()[-2000:]}")
    return folder / "node_modules"


def load_faces(data: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """PublicTest's faces (uint8, N x 48 x 48) and labels; `limit` of them evenly spaced over the split."""
    from emotion.training.data import DatasetError, load_split

    if not data.exists():
        raise SystemExit(
            f"FER-2013 not found at {data}: pass --data (the Kaggle fer2013.zip, its folder or fer2013.csv)"
            " or set EMOTION_SHARED_DATA"
        )
    try:
        split = load_split(data, "val")
    except DatasetError as error:
        raise SystemExit(f"FER-2013 could not be read: {error}") from error
    chosen = np.arange(len(split))
    if limit is not None and limit < len(split):
        chosen = np.unique(np.linspace(0, len(split) - 1, limit).round().astype(int))
    return np.ascontiguousarray(split.images[chosen]), split.labels[chosen]


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def print_table(results: list[Result], truth: np.ndarray) -> None:
    from emotion.training.metrics import classification_metrics

    header = (
        f"{'model':<33} {'backend':<42} {'faces':>5} {'accuracy':>8} {'balanced':>8} {'ms median':>9} {'ms p95':>6} "
        f"{'model bytes (received)':>24} {'runtime bytes (received)':>26}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        metrics = classification_metrics(truth, result.labels)
        print(
            f"{result.model.name:<33} {result.backend:<42} {metrics['n']:>5} {metrics['accuracy']:>8.4f} "
            f"{metrics['balanced_accuracy']:>8.4f} {statistics.median(result.ms):>9.1f} {percentile(result.ms, 95):>6.1f} "
            f"{f'{result.model_bytes[0]:,} ({result.model_bytes[1]:,})':>24} "
            f"{f'{result.runtime_bytes[0]:,} ({result.runtime_bytes[1]:,})':>26}"
        )
    print(
        "bytes: response bodies counted in Playwright, as stored and (in brackets) as received, with the content-encoding"
        " below; model: the emotion model's files; runtime: the JavaScript and WebAssembly that run it"
    )
    for result in results:
        other = "; ".join(result.other) or "-"
        print(f"{result.model.name}: responses {', '.join(sorted(result.encodings))}; also downloaded: {other}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/peers_browser.py", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "fer2013.zip", help="FER-2013 (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="this many PublicTest faces, evenly spaced over the split (default: all)")
    parser.add_argument("--warmup", type=int, default=20, help="calls before the timed ones (default: %(default)s)")
    parser.add_argument(
        "--backend", choices=("wasm", "cpu"), default="wasm", help="the peers' tfjs backend (default: %(default)s)"
    )
    parser.add_argument("--frames", type=int, default=150, help="webcam frames for the whole pipelines; 0: none (%(default)s)")
    parser.add_argument("--noise", type=float, default=4, help="the frames' camera noise, of 255 (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    npm = find_npm()
    faces, truth = load_faces(args.data, args.limit)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise SystemExit("Playwright for Python is needed: pip install -r requirements-dev.txt") from error
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"chromium not found at {CHROMIUM}: apt-get install chromium")

    with tempfile.TemporaryDirectory(prefix="peers-npm-") as folder:
        started = time.perf_counter()
        node_modules = npm_install(npm, Path(folder))
        print(f"npm install {' '.join(PACKAGES)}: {time.perf_counter() - started:.1f} s", flush=True)
        frames = camera_frames(args.noise)
        data = {"faces": faces.tobytes()} | {f"frame {number}": frame for number, frame in enumerate(frames)}
        results: list[Result] = []
        played: list[tuple[str, dict[str, Any]]] = []
        versions: list[str] = []
        with streamlit_server() as server, peer_server(node_modules, data) as peers, sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
            try:
                results.append(score_ours(chromium, server.url, faces, args.warmup, versions))
                for model, setup in ((PEER_HUMAN, HUMAN_SETUP), (PEER_FACE_API, FACE_API_SETUP)):
                    results.append(score_peer(chromium, peers, model, setup, args.backend, args.warmup, versions))
                if args.frames:
                    size = FRAME_SHAPE[1], FRAME_SHAPE[0]
                    played.append(("this project: pipeline.analyze", play_ours(chromium, server.url, frames, size, args.frames)))
                    for filters in (True, False):
                        human = play_human(chromium, peers, args.backend, len(frames), size, args.frames, filters)
                        played.append((f"@vladmandic/human: human.detect{'' if filters else ', filter off'}", human))
                if args.backend == "wasm":
                    versions.append(f"the peers' tfjs WebAssembly binaries: {TFJS_WASM}")
                versions.append(f"chromium {chromium.version} (headless)")
            finally:
                chromium.close()
    print()
    print(f"FER-2013 PublicTest, {len(truth)} faces from {args.data}; one face per call after {args.warmup} warm-up calls")
    print_table(results, truth)
    if played:
        print()
        print(f"Whole pipelines: {args.frames} frames at 15 a second, the 640x480 one-face frame, camera noise {args.noise:g}")
        print(f"{'pipeline':<48} {'ms median':>9} {'ms p95':>7} {'ms mean':>8}  faces and labels seen (frames)")
        for name, found in played:
            seen = statistics.multimode(["/".join(labels) or "none" for labels in found["labels"]])
            counts = {label: sum("/".join(labels) == label for labels in found["labels"]) for label in seen}
            print(f"{name:<48} {statistics.median(found['ms']):>9.1f} {percentile(found['ms'], 95):>7.1f} "
                  f"{statistics.mean(found['ms']):>8.1f}  {', '.join(f'{k} ({v})' for k, v in counts.items())}")
        for name, found in played:
            if "config" in found:
                print(f"{name}: config {found['config']}; its timings of the last frame (ms) {found['notes']}")
    print()
    print("versions: " + "; ".join(versions))
    return 0


FRAME_SHAPE = (480, 640)


def camera_frames(noise: float, copies: int = 16) -> list[bytes]:
    """bench/frames.py's one-face frame as `copies` RGBA frames, each with its own Gaussian camera noise."""
    from bench.frames import scenario_frames
    from tests.support.ondevice import rgba

    frame, rng = scenario_frames()["1 face"], np.random.default_rng(0)
    assert frame.shape[:2] == FRAME_SHAPE
    return [rgba(camera_noise(frame, rng, noise)) for _ in range(copies)]


def play_ours(chromium: Any, url: str, frames: list[bytes], size: tuple[int, int], count: int) -> dict[str, Any]:
    """This project's pipeline (the app's page and files) on the frames."""
    page = OnDevicePage(chromium, url, browser_settings())
    try:
        for number, frame in enumerate(frames):
            page.put(f"frame {number}", frame)
        page.evaluate(OURS_PIPELINE_SETUP)
        return page.evaluate(PLAY_FRAMES, [len(frames), *size, count])
    finally:
        page.close()


def play_human(
    chromium: Any, url: str, backend: str, copies: int, size: tuple[int, int], count: int, filters: bool
) -> dict[str, Any]:
    """Human's pipeline on the frames the script's server holds as 'frame 0', 'frame 1', ... (`copies` of them)."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.evaluate(PEER_HELPERS)
        setup = page.evaluate(HUMAN_PIPELINE_SETUP, [backend, url + NPM, filters])
        return page.evaluate(PLAY_FRAMES, [copies, *size, count]) | {"config": setup["config"]}
    finally:
        context.close()


def score_ours(chromium: Any, url: str, faces: np.ndarray, warmup: int, versions: list[str]) -> Result:
    downloads = Downloads()
    page = OnDevicePage(WatchedBrowser(chromium, downloads), url, browser_settings())
    try:
        backend = page.evaluate(OURS_SETUP)["backend"]
        page.put("faces", faces.tobytes())
        result = score(page, OURS, backend, downloads, warmup)
        # The same faces through the tests' own loop (tests/support/ondevice.py): the timed calls gave its labels.
        page.put("crops", (faces.astype(np.float32) / 255).tobytes())
        checked = fer_labels({"classes": list(EMOTIONS), "probabilities": page.evaluate(CLASSIFY_CROPS)})
        if not np.array_equal(checked, result.labels):
            differ = int((checked != result.labels).sum())
            raise SystemExit(f"this project's timed calls and CLASSIFY_CROPS disagree on {differ} faces")
        versions.append(f"this project: LiteRT.js {LITERT_CORE.version} (static/litert/), static/models/emotion_cnn_b1.tflite")
        print(f"{OURS.name}: {len(faces)} faces scored", flush=True)
        return result
    finally:
        page.close()


def score_peer(chromium: Any, url: str, model: Model, setup: str, backend: str, warmup: int, versions: list[str]) -> Result:
    downloads = Downloads()
    context = chromium.new_context()
    downloads.watch(context)
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.evaluate(PEER_HELPERS)
        found = page.evaluate(setup, [backend, url + NPM])
        result = score(page, model, found["backend"], downloads, warmup)
        versions.append(f"{model.name}: {found['version']} on tfjs {found['tfjs']} (input {found['input']})")
        print(f"{model.name}: {len(result.labels)} faces scored", flush=True)
        return result
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(main())
