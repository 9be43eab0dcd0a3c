// @ts-check
// A class room's figures, posted by this page to the room's figures endpoint rather than handed to the
// page: each message handed over would rerun the page on the server. The page hears only the room's
// answer, and only when it changes (kept, paused, ended, unreachable...), to act on it.
// Python twin: webapp/endpoints.py.

/**
 * @typedef {import('./contract.js').SendTo} SendTo
 * @typedef {import('./contract.js').FiguresMessage} FiguresMessage
 * @typedef {import('./contract.js').FiguresPost} FiguresPost
 * @typedef {import('./contract.js').FiguresReceipt} FiguresReceipt
 */

/** @type {FiguresReceipt} */
const UNREACHABLE = { outcome: 'unreachable', message: 'The class room cannot be reached right now.' };

export class FiguresDelivery {
  /**
   * @param {SendTo} sendTo
   * @param {(receipt: FiguresReceipt) => void} heard  called when the room's answer differs from the last
   */
  constructor(sendTo, heard) {
    this.sendTo = sendTo;
    this.url = new URL(sendTo.url, document.baseURI).href;
    this.heard = heard;
    /** @type {FiguresReceipt['outcome']} */
    this.lastOutcome = 'kept'; // what the page assumes until told otherwise
  }

  /** @param {FiguresMessage} message @returns {Promise<FiguresReceipt>} the room's answer */
  async post(message) {
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
      });
      receipt = await response.json();
    } catch {
      receipt = UNREACHABLE; // no answer, or not the endpoint's (a proxy's error page)
    }
    if (typeof receipt?.outcome !== 'string') receipt = UNREACHABLE;
    if (receipt.outcome !== this.lastOutcome) {
      this.lastOutcome = receipt.outcome;
      this.heard(receipt);
    }
    return receipt;
  }
}
