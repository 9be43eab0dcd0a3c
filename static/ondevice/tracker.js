// Following faces from frame to frame so that labels do not flicker: emotion/tracking.py's rule,
// step for step. Its three settings are Python's FaceTracker defaults, passed in by the page
// (emotion.ondevice.browser_settings()["tracker"]) rather than written here a second time.

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
  constructor({ window, minIou, maxMissed }) {
    if (!(window >= 1) || !(minIou >= 0) || !(maxMissed >= 0)) {
      throw new Error(`FaceTracker needs window, minIou and maxMissed (got ${JSON.stringify({ window, minIou, maxMissed })})`);
    }
    Object.assign(this, { window, minIou, maxMissed });
    this.tracks = new Map(); // id -> {box, history, missed}, in the order they were made
    this.nextId = 0;
  }

  /** Track ids and smoothed probabilities (Float32Array each) for this frame's faces, in the order given. */
  update(boxes, probabilities) {
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
    const smoothed = assigned.map((id, face) => {
      if (id === -1) {
        id = assigned[face] = this.nextId++;
        this.tracks.set(id, { box: boxes[face], history: [], missed: 0 });
      }
      const track = this.tracks.get(id);
      track.box = boxes[face];
      track.missed = 0;
      track.history.push(Float32Array.from(probabilities[face]));
      if (track.history.length > this.window) track.history.shift();
      return mean(track.history);
    });
    for (const [id, track] of [...this.tracks]) {
      if (assigned.includes(id)) continue;
      track.missed += 1;
      if (track.missed > this.maxMissed) this.tracks.delete(id);
    }
    return { ids: assigned, smoothed };
  }
}
