"""A chromium page that runs the on-device pipeline (static/ondevice/) from the real server, for the
tests and bench/ondevice_latency.py."""

from __future__ import annotations

from urllib.parse import unquote

import cv2
import numpy as np

from emotion.contract import BrowserSettings
from emotion.detection import DetectionSettings

# A page's statements that define window.bytes(name), the bytes its server holds at /test-data/<name> (what
# OnDevicePage.put stored), and window.canvasOf(name, width, height), such bytes (RGBA) drawn on a canvas, as a
# camera's frame reaches the pipeline. bench/peers_browser.py's pages use them too.
PAGE_HELPERS = """
  window.bytes = async (name) => {
    const response = await fetch('/test-data/' + encodeURIComponent(name));
    if (!response.ok) throw new Error(`test data ${name}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  };
  window.canvasOf = async (name, width, height) => {
    const canvas = new OffscreenCanvas(width, height);
    const pixels = new Uint8ClampedArray((await bytes(name)).buffer);
    canvas.getContext('2d').putImageData(new ImageData(pixels, width, height), 0, 0);
    return canvas;
  };
"""

# Imports every module into window.M and loads the pipeline as window.pipeline, with PAGE_HELPERS.
SETUP = """async ([settings, folder]) => {
  window.M = {};
  for (const name of ['preprocess', 'blazeface', 'tracker', 'pipeline', 'draw', 'reporter']) {
    Object.assign(M, await import(folder + name + '.js'));
  }
  window.settings = settings;
  window.pipeline = await M.OnDevicePipeline.create(settings);""" + PAGE_HELPERS + "}"


# Each 48x48 input stored as 'crops' (float32, one after another) classified alone: their probabilities.
CLASSIFY_CROPS = """async () => {
  const all = new Float32Array((await bytes('crops')).buffer), size = 48 * 48, out = [];
  for (let i = 0; i < all.length / size; i++) {
    out.push(Array.from(await pipeline.classify(all.slice(i * size, (i + 1) * size))));
  }
  return out;
}"""
PHOTO = DetectionSettings(min_face=30, detector="blazeface")  # the Photo page's smallest face, as tests/test_detectors.py


def fresh_page(browser, url: str):
    """A page in a new context (its own LiteRT.js globals) on the app's origin, so that it may import from /app/static/."""
    page = browser.new_context().new_page()
    page.goto(f"{url}/_stcore/health")
    return page


class OnDevicePage:
    """A page with the pipeline loaded; binary data reaches it through a route: put('name', data) is
    fetched as /test-data/name, never over the network and never as JSON."""

    def __init__(self, browser, url: str, settings: BrowserSettings, modules: dict[str, bytes] | None = None) -> None:
        """`modules`: static/ondevice's files by name to run instead of the served ones (a benchmark's earlier revision)."""
        self.page = fresh_page(browser, url)
        self.data: dict[str, bytes] = {}
        self.page.route("**/test-data/*", self._serve)
        folder = "/app/static/ondevice/"
        if modules is not None:
            folder = "/app/static/ondevice-as-given/"  # the page's own address for them: nothing else loads from there
            self.page.route(f"**{folder}*", lambda route: route.fulfill(
                body=modules.get(route.request.url.rsplit("/", 1)[1], b""), content_type="text/javascript"))
        self.page.evaluate(SETUP, [settings, folder])

    def _serve(self, route) -> None:
        data = self.data.get(unquote(route.request.url.rsplit("/", 1)[1]))
        if data is None:
            route.fulfill(status=404, body="nothing was put under this name")
        else:
            route.fulfill(body=data)

    def put(self, name: str, data: bytes) -> None:
        self.data[name] = data

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def close(self) -> None:
        self.page.context.close()


def rgba(image: np.ndarray) -> bytes:
    """A BGR frame's pixels as a canvas holds them."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGBA).tobytes()
