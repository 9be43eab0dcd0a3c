// @ts-check
// The student's own camera beside the server path's send-only video: a preview on this page only.
// Nothing is read or sent here; streamlit-webrtc sends the video itself. Python twin: emotion/live/device.py (self_view).

/**
 * Shows the camera in `parentElement`; returns a function that ends the camera's tracks (the camera light goes off).
 * @param {{ parentElement: HTMLElement, data: { camera: MediaTrackConstraints } }} component
 * @returns {() => void}
 */
export function mount({ parentElement, data }) {
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
    .then((opened) => {
      if (stopped) {
        opened.getTracks().forEach((track) => track.stop());
        return;
      }
      stream = opened;
      video.srcObject = opened;
    })
    .catch(() => video.replaceWith(Object.assign(document.createElement('p'), { textContent: 'Your own preview could not be shown.' })));
  return () => {
    stopped = true;
    stream?.getTracks().forEach((track) => track.stop());
  };
}
