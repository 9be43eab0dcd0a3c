"""The three browser engines students bring, behind one small interface, for the `engines` tests.

- chromium: Debian's chromium through Playwright, as every other browser test.
- Firefox (Gecko): Debian's firefox-esr over WebDriver BiDi, with the few commands the tests need
  written here (geckodriver, which Selenium would need, is not in Debian).
- WebKit: WebKitGTK's MiniBrowser through WebKitWebDriver and Selenium, on a private Xvfb display
  (MiniBrowser has no headless mode).

Every engine gets the same camera: a canvas showing a committed photo, handed out in place of
`getUserMedia` (Firefox's and WebKit's own fake cameras show no face). It is put in place after a page
loads and before the page mounts its camera: the on-device camera mounts only on a click.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.support.browser import letterbox, stop
from tests.support.files import read_photo

ENGINES = ("chromium", "firefox", "webkit")
FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
WEBKIT_DRIVER = shutil.which("WebKitWebDriver") or "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
XVFB = shutil.which("Xvfb") or "/usr/bin/Xvfb"
INSTALL_HINT = "apt-get install firefox-esr webkit2gtk-driver xvfb; pip install -r requirements-dev.txt"

# An async function of one JSON string, returning a JSON string: the one shape every driver can pass.
_AS_JSON = "async (json) => JSON.stringify((await ({function})(JSON.parse(json))) ?? null)"

# The element a finder returns, scrolled to the middle of the view, so that a real pointer can reach it.
_FOUND = "(arg) => {{ const found = ({finder})(arg); if (found) found.scrollIntoView({{block: 'center'}}); return found; }}"

# A camera showing `photo` (a data: URL of a 640x480 JPEG), fifteen frames a second. A canvas that is
# not in the document is not painted in every engine, so it sits in the page, out of sight.
FAKE_CAMERA = """(photo) => new Promise((resolve, reject) => {
  const image = new Image();
  image.onload = () => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 480 });
    canvas.style.cssText = 'position: fixed; left: -10000px; top: 0';
    document.body.append(canvas);
    const context = canvas.getContext('2d');
    const draw = () => context.drawImage(image, 0, 0, 640, 480);
    draw();
    setInterval(draw, 1000 / 15);
    const stream = canvas.captureStream(15);
    window.__cameraOpened = 0;
    // On the prototype: WebKit may collect navigator.mediaDevices' wrapper, and a property set on it, between scripts.
    MediaDevices.prototype.getUserMedia = async () => { window.__cameraOpened += 1; return stream.clone(); };
    resolve(true);
  };
  image.onerror = () => reject(new Error('the camera photo did not load'));
  image.src = photo;
})"""


def require_engines() -> None:
    """Skip without Firefox, WebKit or their drivers, except under CI, where the engines tests must run."""
    missing = [path for path in (FIREFOX, WEBKIT_DRIVER, MINIBROWSER, XVFB) if not Path(path).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if missing and os.environ.get("CI") != "true":
        pytest.skip(f"{', '.join(missing)} not installed ({INSTALL_HINT})")
    assert not missing, f"CI must run the engines tests, but {missing} are missing"


def camera_photo(name: str) -> str:
    """A committed photo as the fake camera shows it: letterboxed to 640x480, as a data: URL."""
    ok, jpeg = cv2.imencode(".jpg", letterbox(read_photo(name)), [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode()


def text_finder(selector: str, text: str) -> str:
    """A finder (JS) for the innermost `selector` element whose visible text starts with `text`."""
    return (
        f"() => [...document.querySelectorAll({json.dumps(selector)})]"
        f".filter((e) => e.offsetParent !== null && e.innerText.trim().startsWith({json.dumps(text)})).pop()"
    )



# The page's text as a student reads it: the document's, and that of each component's shadow root (a
# Streamlit component with isolated styles, such as the on-device camera, draws its text in one).
VISIBLE_TEXT = """() => {
  const texts = [document.body.innerText];
  const visit = (root) => root.querySelectorAll('*').forEach((element) => {
    if (element.shadowRoot) {
      element.shadowRoot.querySelectorAll('p, span, div, label').forEach((node) => texts.push(node.innerText || ''));
      visit(element.shadowRoot);
    }
  });
  visit(document);
  return texts.join('\\n');
}"""


class EnginePage(ABC):
    """One browser page; scripts are async functions of one JSON value that return a JSON value."""

    engine: str

    def run(self, function: str, arg: Any = None) -> Any:
        return json.loads(self._call(_AS_JSON.format(function=function), json.dumps(arg)))

    def wait_for(self, function: str, timeout_s: float = 60, arg: Any = None, what: str = "") -> Any:
        """Poll `function(arg)` until its value is truthy; that value."""
        deadline = time.monotonic() + timeout_s
        while not (value := self.run(function, arg)):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.engine}: {what or function} not within {timeout_s} s")
            time.sleep(0.25)
        return value

    def text(self) -> str:
        return self.run(f"async () => ({VISIBLE_TEXT})()")

    def wait_for_text(self, pattern: str, timeout_s: float = 60) -> str:
        """The first match of the regular expression `pattern` in the page's visible text, once there is one."""
        found = self.wait_for(
            f"async (pattern) => (({VISIBLE_TEXT})().match(new RegExp(pattern)) || [null])[0]", timeout_s, pattern, pattern
        )
        return str(found)

    def click(self, finder: str) -> None:
        """A real (trusted) click on the element `finder` returns, once there is one."""
        self.wait_for(f"async () => !!({finder})()", 60, what=f"an element for {finder}")
        self._click(_FOUND.format(finder=finder))

    def type(self, finder: str, text: str) -> None:
        """Click the field `finder` returns and type `text` into it, key by key."""
        self.click(finder)
        self._type(text)

    def show_camera(self, photo: str) -> None:
        """The page's camera shows `photo` (a committed photo's name) from now on."""
        self.run(FAKE_CAMERA, camera_photo(photo))

    @abstractmethod
    def goto(self, url: str) -> None: ...

    @abstractmethod
    def _call(self, function: str, arg: str) -> str:
        """`function(arg)`, awaited, in the page: the string it returns."""

    @abstractmethod
    def _click(self, finder: str) -> None:
        """A trusted click on the middle of the element `finder()` returns."""

    @abstractmethod
    def _type(self, text: str) -> None:
        """Key presses for `text` into the focused element."""

    @abstractmethod
    def screenshot(self, path: Path) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class ChromiumPage(EnginePage):
    """A page in its own Playwright context of the tests' chromium."""

    engine = "chromium"

    def __init__(self, browser, viewport: dict[str, int]) -> None:
        self.page = browser.new_context(viewport=viewport).new_page()

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def _call(self, function: str, arg: str) -> str:
        return self.page.evaluate(function, arg)

    def _click(self, finder: str) -> None:
        self.page.evaluate_handle(finder).as_element().click()

    def _type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path), full_page=True)

    def close(self) -> None:
        self.page.context.close()


class BidiConnection:
    """Commands to Firefox's WebDriver BiDi endpoint, answered one at a time (events are dropped)."""

    def __init__(self, address: str) -> None:
        from websockets.sync.client import connect

        self.socket = connect(address, max_size=None, open_timeout=30)
        self.ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict:
        command = next(self.ids)
        self.socket.send(json.dumps({"id": command, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=300))
            if message.get("id") != command:
                continue
            if message.get("type") == "error":
                raise RuntimeError(f"firefox: {method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def close(self) -> None:
        self.socket.close()


class FirefoxPage(EnginePage):
    """A tab in its own user context (cookies and storage apart, as another student's browser)."""

    engine = "firefox"

    def __init__(self, bidi: BidiConnection, viewport: dict[str, int]) -> None:
        self.bidi = bidi
        self.user_context = bidi.send("browser.createUserContext")["userContext"]
        self.context = bidi.send("browsingContext.create", type="tab", userContext=self.user_context)["context"]
        bidi.send("browsingContext.setViewport", context=self.context, viewport=viewport)

    def goto(self, url: str) -> None:
        self.bidi.send("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def _evaluate(self, function: str, arg: str, ownership: str = "none") -> dict:
        result = self.bidi.send(
            "script.callFunction",
            functionDeclaration=function,
            arguments=[{"type": "string", "value": arg}],
            target={"context": self.context},
            awaitPromise=True,
            resultOwnership=ownership,
        )
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise RuntimeError(f"firefox: {details.get('text')}")
        return result["result"]

    def _call(self, function: str, arg: str) -> str:
        return self._evaluate(function, arg)["value"]

    def _click(self, finder: str) -> None:
        element = self._evaluate(finder, "null", ownership="root")
        origin = {"type": "element", "element": {"sharedId": element["sharedId"]}}
        pointer = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self._act({"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": pointer})

    def _type(self, text: str) -> None:
        keys = [{"type": kind, "value": key} for key in text for kind in ("keyDown", "keyUp")]
        self._act({"type": "key", "id": "keyboard", "actions": keys})

    def _act(self, source: dict) -> None:
        self.bidi.send("input.performActions", context=self.context, actions=[source])
        self.bidi.send("input.releaseActions", context=self.context)

    def screenshot(self, path: Path) -> None:
        shot = self.bidi.send("browsingContext.captureScreenshot", context=self.context, origin="document")
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.bidi.send("browsingContext.close", context=self.context)
        self.bidi.send("browser.removeUserContext", userContext=self.user_context)


class WebKitPage(EnginePage):
    """A MiniBrowser window of its own, driven by WebKitWebDriver (one WebDriver session per page)."""

    engine = "webkit"

    def __init__(self, display: str, viewport: dict[str, int]) -> None:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        options = Options()
        options.binary_location = MINIBROWSER
        # Any argument replaces the driver's own --automation, without which no session starts.
        for argument in ("--automation", "--enable-media-stream=true", "--enable-webrtc=true", "--autoplay-policy=allow"):
            options.add_argument(argument)
        service = Service(WEBKIT_DRIVER, env={**os.environ, "DISPLAY": display})
        self.driver = webdriver.WebKitGTK(options=options, service=service)
        self.driver.set_script_timeout(300)
        self.driver.set_window_rect(0, 0, viewport["width"], viewport["height"])

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def _call(self, function: str, arg: str) -> str:
        outcome = self.driver.execute_async_script(
            f"const done = arguments[arguments.length - 1]; ({function})(arguments[0])"
            ".then((value) => done({ value }), (error) => done({ error: String(error?.stack ?? error) }));",
            arg,
        )
        if "error" in outcome:
            raise RuntimeError(f"webkit: {outcome['error']}")
        return outcome["value"]

    def _click(self, finder: str) -> None:
        self.driver.execute_script(f"return ({finder})(null);").click()

    def _type(self, text: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(text).perform()

    def screenshot(self, path: Path) -> None:
        self.driver.save_screenshot(str(path))

    def close(self) -> None:
        self.driver.quit()


class Engine:
    """One engine's browser, running for a module's tests; `page()` opens a page as a new student would."""

    def __init__(self, name: str, chromium=None, bidi: BidiConnection | None = None, display: str = "") -> None:
        self.name, self._chromium, self._bidi, self._display = name, chromium, bidi, display

    def page(self, viewport: dict[str, int] | None = None) -> EnginePage:
        size = viewport or {"width": 1280, "height": 1000}
        if self.name == "chromium":
            return ChromiumPage(self._chromium, size)
        if self.name == "firefox":
            assert self._bidi is not None
            return FirefoxPage(self._bidi, size)
        return WebKitPage(self._display, size)


@contextlib.contextmanager
def running_engine(name: str, chromium) -> Iterator[Engine]:
    """`name`'s browser for as long as the block runs; chromium is the tests' own (Playwright's)."""
    if name == "chromium":
        yield Engine(name, chromium=chromium)
    elif name == "firefox":
        with firefox() as bidi:
            yield Engine(name, bidi=bidi)
    else:
        with xvfb_display() as display:
            yield Engine(name, display=display)


@contextlib.contextmanager
def firefox() -> Iterator[BidiConnection]:
    """Headless firefox-esr with a fresh profile, its WebDriver BiDi session open."""
    with tempfile.TemporaryDirectory(prefix="firefox-profile-") as profile:
        # The camera is the page's canvas; no prompt for it, and no first-run page or update check.
        Path(profile, "user.js").write_text(
            'user_pref("media.navigator.permission.disabled", true);\n'
            'user_pref("browser.shell.checkDefaultBrowser", false);\n'
            'user_pref("app.update.disabledForTesting", true);\n'
            'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
        )
        command = [FIREFOX, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0", "about:blank"]
        log = Path(profile, "firefox.log")  # a file, not a pipe: nothing reads Firefox's output once it listens
        with log.open("wb") as output:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=output)
        try:
            address = _bidi_address(process, log)
            bidi = BidiConnection(address + "/session")
            bidi.send("session.new", capabilities={})
            try:
                yield bidi
            finally:
                with contextlib.suppress(Exception):
                    bidi.send("session.end")
                bidi.close()
        finally:
            stop(process, timeout_s=20)


def _bidi_address(process: subprocess.Popen, log: Path, timeout_s: float = 60) -> str:
    """The WebSocket address Firefox writes to its log once its remote agent listens."""
    deadline = time.monotonic() + timeout_s
    while not (found := re.search(r"WebDriver BiDi listening on (ws://\S+)", log.read_text(errors="replace"))):
        if process.poll() is not None or time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"firefox-esr's WebDriver BiDi endpoint did not listen:\n{output}")
        time.sleep(0.1)
    return found.group(1)


@contextlib.contextmanager
def xvfb_display() -> Iterator[str]:
    """A private X display for MiniBrowser; its name, e.g. ":3"."""
    command = [XVFB, "-displayfd", "1", "-screen", "0", "1400x1100x24", "-nolisten", "tcp"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        number = server.stdout.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        stop(server)
