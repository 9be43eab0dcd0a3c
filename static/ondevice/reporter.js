// @ts-check
// When the on-device camera's figures go out (to the page, or posted to a class room). Each message costs
// the server (a rerun of the page, or a store transaction), so a class room asks for fewer, fuller
// messages: a sample of the faces in view every `sampleEveryMs`, sent together every `reportEveryMs`, and
// sooner (but not within `sampleEveryMs` of the last message) when the number of faces in view changes,
// so the teacher's counts do not wait.
// Python twin: emotion/live/device.py (the cadence it sends, the messages it reads back).

/**
 * @typedef {import('./contract.js').FiguresSample} FiguresSample
 * @typedef {import('./contract.js').FiguresMessage} FiguresMessage
 * @typedef {{ probabilities: number[] }} ReadFace
 */

export class FiguresReporter {
  /**
   * @param {Pick<import('./contract.js').CameraData, 'sampleEveryMs' | 'reportEveryMs'>} cadence
   * @param {(message: FiguresMessage) => void} send
   */
  constructor(cadence, send) {
    this.cadence = cadence;
    this.send = send;
    /** @type {{ taken: number, faces: number[][] }[]} samples not sent yet, `taken` on the page's monotonic clock */
    this.samples = [];
    this.lastSample = -Infinity;
    this.lastSent = -Infinity;
    this.facesSent = -1; // faces in view in the last message's newest sample
  }

  /**
   * One analysed frame. A message due sooner than `sampleEveryMs` after the last sample (the face count
   * changed) takes that sample's place, so a flickering count adds no samples.
   * @param {number} now  performance.now()
   * @param {ReadFace[]} faces
   * @param {{ skipped: number, fps: number | null, msMedian: number | null, frames: number }} frame
   */
  offer(now, faces, frame) {
    const { sampleEveryMs, reportEveryMs } = this.cadence;
    const sinceSent = now - this.lastSent;
    const due = sinceSent >= reportEveryMs || (faces.length !== this.facesSent && sinceSent >= sampleEveryMs);
    const sampleDue = now - this.lastSample >= sampleEveryMs;
    if (!due && !sampleDue) return;
    const probabilities = faces.map((face) => face.probabilities);
    if (!sampleDue && this.samples.length) this.samples.pop();
    this.samples.push({ taken: now, faces: probabilities });
    if (sampleDue) this.lastSample = now;
    if (!due) return;
    // Dated from the send on the monotonic clock, so a wall clock set right meanwhile moves no sample.
    const at = Date.now();
    const samples = this.samples.map((sample) => ({ at: at - (now - sample.taken), faces: sample.faces }));
    this.send({ ...frame, faces: probabilities, at, samples });
    this.samples = [];
    this.lastSent = now;
    this.facesSent = faces.length;
  }
}
