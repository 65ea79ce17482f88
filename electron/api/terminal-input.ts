/**
 * Input for a terminal session in calls the API takes: the bounds of one `terminal:input`
 * call, and text cut to them. Pure, shared by the CLI and the renderer's Terminal panel.
 */

/** At most this many characters (UTF-16 code units) in one `terminal:input` call. */
export const MAX_INPUT_CHARS = 64 * 1024;

/**
 * The most a paste into the Terminal panel may carry: 4 MiB of characters, 64 calls. A longer
 * paste is refused, saying so, rather than held in memory and typed for minutes.
 */
export const MAX_PASTE_CHARS = 64 * MAX_INPUT_CHARS;

/**
 * Text cut into calls of at most `max` characters (MAX_INPUT_CHARS by default), in order,
 * never between the two halves of a surrogate pair (an emoji stays whole). '' gives [].
 */
export function inputPieces(text: string, max = MAX_INPUT_CHARS): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length;) {
    let j = Math.min(text.length, i + max);
    const last = text.charCodeAt(j - 1);
    if (j < text.length && j - i > 1 && last >= 0xd800 && last <= 0xdbff) j--;
    pieces.push(text.slice(i, j));
    i = j;
  }
  return pieces;
}
