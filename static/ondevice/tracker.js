// @ts-check
// Following faces from frame to frame so that labels do not flicker, and reading each face's emotion
// at a bounded rate: emotion/tracking.py's rule, step for step. Its settings are Python's live
// FaceTracker's, passed in by the page (emotion.ondevice.browser_settings()["tracker"]) rather than
// written here a second time.
// Python twin: emotion/tracking.py.

/** IoU of two boxes given as [x, y, w, h]. */
export function iou(a, b) {
  const inter = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]))
    * Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / Math.max(union, 1e-9) : 0;
}

// The mean of float32 vectors in float32, added in order, as numpy means the Python tracker's history.
function mean(history) {
  const sum = new Float32Array(history[0].length);
  for (const row of history) for (let i = 0; i < sum.length; i++) sum[i] += row[i];
  return sum.map((v) => v / history.length);
}

export class FaceTracker {
  /** @param {{ window: number, minIou: number, maxMissed: number, classifyEveryMs?: number, movedIou?: number, renewPerFrame?: number }} settings  TrackerSettings, or a tracker reading every face */
  constructor({ window, minIou, maxMissed, classifyEveryMs = 0, movedIou = 1, renewPerFrame = Infinity }) {
    if (!(window >= 1) || !(minIou >= 0) || !(maxMissed >= 0) || !(classifyEveryMs >= 0) || !(renewPerFrame >= 1)) {
      throw new Error(`FaceTracker needs window, minIou and maxMissed (got ${JSON.stringify({ window, minIou, maxMissed, classifyEveryMs, renewPerFrame })})`);
    }
    this.window = window;
    this.minIou = minIou;
    this.maxMissed = maxMissed;
    this.classifyEveryMs = classifyEveryMs;
    this.movedIou = movedIou;
    this.renewPerFrame = renewPerFrame;
    this.tracks = new Map(); // id -> {box, history, missed, last, readBox, readAt}, in the order they were made
    this.nextId = 0;
    this.lastFrameAt = null; // `now` of the last match
  }

  /** Track ids and smoothed probabilities (Float32Array each) for this frame's faces, in the order given, every face classified. */
  update(boxes, probabilities) {
    const { ids } = this.match(boxes);
    return { ids, smoothed: this.smooth(ids, ids.map(() => true), probabilities) };
  }

  /**
   * Track ids for this frame's faces, in the order given, and which of them to classify now (`now`: ms).
   * New and moved faces at once; of the faces whose reading is old, this frame's share (at most
   * renewPerFrame), the oldest first.
   */
  match(boxes, now = 0) {
    const ids = this.assign(boxes);
    const reasons = ids.map((id) => this.dueFor(this.tracks.get(id), now));
    const due = reasons.map((reason) => reason === 'new' || reason === 'moved');
    const old = reasons.flatMap((reason, face) => (reason === 'old' ? [face] : []));
    if (old.length) {
      let share = old.length;
      if (this.lastFrameAt !== null) {
        share = Math.max(1, Math.ceil((ids.length * (now - this.lastFrameAt)) / this.classifyEveryMs - 1e-9));
        share = Math.min(share, this.renewPerFrame);
      }
      old.sort((a, b) => this.tracks.get(ids[a]).readAt - this.tracks.get(ids[b]).readAt || a - b);
      for (const face of old.slice(0, share)) due[face] = true;
    }
    this.lastFrameAt = now;
    return { ids, due };
  }

  /** Smoothed probabilities of the faces `match` gave ids; `probabilities` has one entry per face due, in order. */
  smooth(ids, due, probabilities, now = 0) {
    let next = 0;
    return ids.map((id, face) => {
      const track = this.tracks.get(id);
      if (due[face]) Object.assign(track, { last: Float32Array.from(probabilities[next++]), readBox: track.box, readAt: now });
      if (track.last === null) throw new Error("a face's first frame must be classified");
      track.history.push(track.last);
      if (track.history.length > this.window) track.history.shift();
      return mean(track.history);
    });
  }

  /** Why a face is due for a reading ('new', 'moved', 'old'), or null. */
  dueFor(track, now) {
    if (track.last === null || this.classifyEveryMs <= 0) return 'new';
    if (iou(track.box, track.readBox) < this.movedIou) return 'moved';
    return now - track.readAt >= this.classifyEveryMs ? 'old' : null;
  }

  assign(boxes) {
    const ids = [...this.tracks.keys()];
    // Greedy matching, best overlap first; ties go to the earlier face, then the older track.
    const pairs = [];
    boxes.forEach((box, face) => ids.forEach((id, track) => pairs.push([iou(box, this.tracks.get(id).box), face, track])));
    pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
    const assigned = boxes.map(() => -1);
    for (const [overlap, face, track] of pairs) {
      if (overlap < this.minIou) break;
      if (assigned[face] === -1 && !assigned.includes(ids[track])) assigned[face] = ids[track];
    }
    assigned.forEach((id, face) => {
      if (id === -1) {
        id = assigned[face] = this.nextId++;
        this.tracks.set(id, { box: boxes[face], history: [], missed: 0, last: null, readBox: null, readAt: -Infinity });
      }
      Object.assign(this.tracks.get(id), { box: boxes[face], missed: 0 });
    });
    for (const [id, track] of [...this.tracks]) {
      if (assigned.includes(id)) continue;
      track.missed += 1;
      if (track.missed > this.maxMissed) this.tracks.delete(id);
    }
    return assigned;
  }
}
