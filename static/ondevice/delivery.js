// @ts-check
// A class room's figures, posted by this page to the room's figures endpoint rather than handed to the
// page: each message handed over would rerun the page on the server. Posts go one at a time, in order,
// so that two of one seat never race in the store. The page hears only the room's answer: when it changes,
// and again every REMIND_MS while it asks the page to act (the seat paused, the room ended), in case the
// page could not act the first time. The camera says under its picture what it sees and shares.
// Python twin: webapp/endpoints.py.

/**
 * @typedef {import('./contract.js').SendTo} SendTo
 * @typedef {import('./contract.js').FiguresMessage} FiguresMessage
 * @typedef {import('./contract.js').FiguresPost} FiguresPost
 * @typedef {import('./contract.js').FiguresReceipt} FiguresReceipt
 * @typedef {import('./contract.js').FiguresAnswer} FiguresAnswer
 */

const POST_TIMEOUT_MS = 10000;
const REMIND_MS = 5000;
const ACT_ON = new Set(['paused', 'ended']); // answers the page acts on, and must hear again until it has
/** @type {FiguresReceipt} */
const UNREACHABLE = { outcome: 'unreachable', message: 'The class room cannot be reached right now.' };

export class FiguresDelivery {
  /**
   * @param {SendTo} sendTo
   * @param {(answer: FiguresAnswer) => void} heard  the room's answer, for the page
   */
  constructor(sendTo, heard) {
    this.sendTo = sendTo;
    this.url = new URL(sendTo.url, document.baseURI).href;
    this.heard = heard;
    /** @type {FiguresReceipt['outcome']} */
    this.lastOutcome = 'kept'; // as the page assumes of a new camera until told otherwise (no rerun per join)
    this.lastHeard = -Infinity;
    /** @type {Promise<unknown>} */
    this.queue = Promise.resolve();
  }

  /**
   * After the posts before it.
   * @param {FiguresMessage} message
   * @returns {Promise<FiguresReceipt>} the room's answer
   */
  post(message) {
    const posted = this.queue.then(() => this.postNow(message));
    this.queue = posted;
    return posted;
  }

  /** @param {FiguresMessage} message @returns {Promise<FiguresReceipt>} */
  async postNow(message) {
    /** @type {FiguresPost} */
    const body = { room: this.sendTo.room, seat: this.sendTo.seat, figures: this.sendTo.figures, message };
    /** @type {FiguresReceipt} */
    let receipt;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
      receipt = await response.json();
    } catch {
      receipt = UNREACHABLE; // no answer in time, or not the endpoint's (a proxy's error page)
    }
    if (typeof receipt?.outcome !== 'string' || typeof receipt?.message !== 'string') receipt = UNREACHABLE;
    const now = performance.now();
    if (receipt.outcome !== this.lastOutcome || (ACT_ON.has(receipt.outcome) && now - this.lastHeard >= REMIND_MS)) {
      this.lastOutcome = receipt.outcome;
      this.lastHeard = now;
      this.heard({ outcome: receipt.outcome, at: Date.now() });
    }
    return receipt;
  }
}

/**
 * Where each figures message goes: to the page, or in a class room to the room, the page hearing only the
 * room's answers (every message handed over reruns the page on the server); `caption` then says what the
 * camera sees and whether the class gets it.
 * @param {SendTo | null} sendTo
 * @param {(name: 'figures' | 'answer', value: FiguresMessage | FiguresAnswer) => void} setStateValue
 * @param {HTMLElement} caption
 * @returns {(message: FiguresMessage) => void}
 */
export function figuresGoTo(sendTo, setStateValue, caption) {
  if (!sendTo) return (message) => setStateValue('figures', message);
  const delivery = new FiguresDelivery(sendTo, (answer) => setStateValue('answer', answer));
  return (message) => {
    delivery.post(message).then((receipt) => {
      const shared = receipt.outcome === 'kept' ? 'Sharing emotion figures with the class.' : receipt.message;
      caption.textContent = `Your camera: ${message.faces.length} face(s) in view. ${shared}`;
    });
  };
}
