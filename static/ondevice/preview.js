// @ts-check
// The student's own camera beside the server path's send-only video: a preview on this page only.
// Nothing is read or sent here; streamlit-webrtc sends the video itself. Python twin: emotion/live/device.py (self_view).

/** The camera each mounted preview holds: a second mount into the same element ends the first one's camera. */
const opened = new WeakMap();

/**
 * Shows the camera in `parentElement`; returns a function that ends the camera's tracks (the camera light goes off).
 * @param {{ parentElement: HTMLElement, data: { camera: MediaTrackConstraints } }} component
 * @returns {() => void}
 */
export function mount({ parentElement, data }) {
  opened.get(parentElement)?.();
  const video = document.createElement('video');
  Object.assign(video, { muted: true, playsInline: true, autoplay: true });
  video.setAttribute('aria-label', 'Your camera: a preview on this page only');
  Object.assign(video.style, { display: 'block', width: '100%', maxWidth: '320px', borderRadius: '0.5rem', background: '#222', transform: 'scaleX(-1)' });
  parentElement.replaceChildren(video);
  /** @type {MediaStream | null} */
  let stream = null;
  let stopped = false;
  navigator.mediaDevices
    .getUserMedia({ video: data.camera, audio: false })
    .then((camera) => {
      if (stopped) {
        camera.getTracks().forEach((track) => track.stop());
        return;
      }
      stream = camera;
      video.srcObject = camera;
    })
    .catch(() => video.replaceWith(Object.assign(document.createElement('p'), { textContent: 'Your own preview could not be shown.' })));
  const stop = () => {
    stopped = true;
    stream?.getTracks().forEach((track) => track.stop());
  };
  opened.set(parentElement, stop);
  return stop;
}
