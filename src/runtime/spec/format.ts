// Serialise a spec the way runc (Go's json.MarshalIndent with a tab) does, so a config.json
// written by `berth spec` is byte-identical to one written by `runc spec`:
//   - tab indentation, `"key": value`, keys in object insertion order;
//   - no trailing newline;
//   - '<', '>', '&', U+2028 and U+2029 inside strings escaped as \u003c, \u003e, \u0026,
//     \u2028, \u2029 (Go's HTML-safe escaping; JSON.stringify leaves them as they are).

import type { Spec } from "./types.ts";

const GO_ESCAPES: Record<string, string> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** config.json text for a spec, formatted exactly like runc writes it. */
export function formatSpec(spec: Spec): string {
  // These characters can only occur inside JSON strings, so a plain replace is safe.
  return JSON.stringify(spec, null, "\t").replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}
