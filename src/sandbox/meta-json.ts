/**
 * Serializes JSON the way Meta puts it on the wire: every non-ASCII code unit as a lowercase
 * `\uXXXX` escape and `/` as `\/`. Signatures are computed over these bytes, so adapters that
 * re-serialize before verifying are caught by the emulator exactly as by the real platform.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}
