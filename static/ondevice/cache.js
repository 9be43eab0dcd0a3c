// @ts-check
// The runtime and models a page needs, downloaded once per content. Streamlit sends static/ with no
// Cache-Control and never answers 304 (static/README.md), so a browser's own cache keeps them only
// as long as its heuristics allow. Here each file is kept in the browser's Cache Storage under its
// sha256, which Python sends with the settings (emotion/ondevice.py's `hashes`): a second visit or a
// reload reads them from there, and a changed file, having another hash, is downloaded again, never
// served stale.
// Python twin: emotion/ondevice.py.

const CACHE_NAME = 'emotion-ondevice';

/**
 * The bytes at `url`: from Cache Storage when a copy with this `sha256` is kept, else downloaded and
 * kept (when they have that hash). Without a hash, or where the browser gives no Cache Storage (a
 * page not served over HTTPS or from localhost, some private windows), simply downloaded.
 * @param {string} url
 * @param {string | undefined} sha256
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
export async function contentBytes(url, sha256) {
  const cache = sha256 ? await openCache() : null;
  const key = `${url}?sha256=${sha256}`;
  const kept = await cache?.match(key).catch(() => undefined);
  if (kept) return new Uint8Array(await kept.arrayBuffer());
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  // Kept only when they are the bytes the page expects: a server mid-deploy could send others.
  if (cache && (await hexDigest(bytes)) === sha256) await keep(cache, url, key, bytes);
  return bytes;
}

/** @returns {Promise<Cache | null>} */
async function openCache() {
  try {
    return globalThis.caches && globalThis.crypto?.subtle ? await caches.open(CACHE_NAME) : null;
  } catch {
    return null; // Firefox's private windows refuse Cache Storage
  }
}

/** @param {Uint8Array<ArrayBuffer>} bytes */
async function hexDigest(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Keeps `bytes` under `key` and forgets the copies of `url` with other contents. A full quota only
 * means the next visit downloads the file again.
 * @param {Cache} cache @param {string} url @param {string} key @param {Uint8Array<ArrayBuffer>} bytes
 */
async function keep(cache, url, key, bytes) {
  try {
    for (const request of await cache.keys()) {
      if (request.url.startsWith(`${url}?sha256=`) && request.url !== key) await cache.delete(request);
    }
    await cache.put(key, new Response(bytes));
  } catch (error) {
    console.warn(`${url} was not kept for the next visit: ${error}`);
  }
}
