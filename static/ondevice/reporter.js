// @ts-check
// What the page hears from the on-device camera, and when. Each figures message reruns the page's fragment
// on the server, so a class room asks for fewer, fuller messages: a sample of the faces in view every
// `sampleEveryMs`, sent together every `reportEveryMs`, and sooner (but not within `sampleEveryMs` of
// the last message) when the number of faces in view changes, so the teacher's counts do not wait.
// Python twin: emotion/live/device.py (the cadence it sends, the messages it reads back).

/**
 * @typedef {{ probabilities: number[] }} ReadFace
 * @typedef {{ at: number, faces: number[][] }} FiguresSample  `at`: Date.now() when taken
 * @typedef {{ faces: number[][], skipped: number, fps: number | null, msMedian: number | null, frames: number,
 *   at: number, samples: FiguresSample[] }} FiguresMessage
 */

export class FiguresReporter {
  /**
   * @param {{ sampleEveryMs: number, reportEveryMs: number }} cadence
   * @param {(message: FiguresMessage) => void} send
   */
  constructor(cadence, send) {
    this.cadence = cadence;
    this.send = send;
    /** @type {FiguresSample[]} */
    this.samples = [];
    this.lastSample = -Infinity;
    this.lastSent = -Infinity;
    this.facesSent = -1; // faces in view in the last message's newest sample
  }

  /**
   * One analysed frame.
   * @param {number} now  performance.now()
   * @param {ReadFace[]} faces
   * @param {{ skipped: number, fps: number | null, msMedian: number | null, frames: number }} frame
   */
  offer(now, faces, frame) {
    const { sampleEveryMs, reportEveryMs } = this.cadence;
    const sinceSent = now - this.lastSent;
    const due = sinceSent >= reportEveryMs || (faces.length !== this.facesSent && sinceSent >= sampleEveryMs);
    if (!due && now - this.lastSample < sampleEveryMs) return;
    const probabilities = faces.map((face) => face.probabilities);
    const at = Date.now();
    this.samples.push({ at, faces: probabilities });
    this.lastSample = now;
    if (!due) return;
    this.send({ ...frame, faces: probabilities, at, samples: this.samples });
    this.samples = [];
    this.lastSent = now;
    this.facesSent = faces.length;
  }
}
