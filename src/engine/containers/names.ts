// Container names: the user's (validated as dockerd does) or a generated "adjective_surname".
// Our own word lists: moods and colours, and people who shaped computing and science.
import { badRequest } from "../errors.ts";

const ADJECTIVES = [
  "agile", "amber", "ancient", "bold", "brave", "breezy", "bright", "brisk", "calm", "candid", "careful", "cheerful",
  "clever", "cosmic", "crisp", "curious", "daring", "dazzling", "eager", "earnest", "electric", "fearless", "fluent",
  "frosty", "gentle", "gleaming", "golden", "graceful", "hardy", "humble", "jolly", "keen", "kind", "lively", "lucid",
  "merry", "mighty", "nimble", "noble", "patient", "placid", "plucky", "polished", "quiet", "quirky", "radiant", "rapid",
  "restless", "rustic", "serene", "sharp", "silent", "sleek", "smooth", "solid", "spry", "steady", "stoic", "sunny",
  "swift", "tender", "tidy", "trusty", "upbeat", "vivid", "wandering", "warm", "wise", "witty", "zealous",
];

const SURNAMES = [
  "agnesi", "al_khwarizmi", "allen", "babbage", "backus", "bardeen", "bell", "berners_lee", "boole", "borg", "brattain",
  "cerf", "chandrasekhar", "cocke", "codd", "conway", "curie", "dijkstra", "einstein", "engelbart", "euler", "faraday",
  "fermi", "feynman", "floyd", "franklin", "gauss", "goldberg", "hamilton", "hawking", "hopper", "hypatia", "johnson",
  "kahn", "kay", "kepler", "knuth", "kowalevski", "lamarr", "lamport", "lovelace", "maxwell", "mccarthy", "meitner",
  "minsky", "noether", "noyce", "pascal", "perlman", "raman", "ritchie", "shannon", "sinoussi", "somerville", "stallman",
  "tesla", "thompson", "torvalds", "turing", "vaughan", "von_neumann", "wilkes", "wirth", "wozniak", "yalow",
];

export function generateName(taken: (name: string) => boolean): string {
  for (let i = 0; i < 100; i++) {
    const a = ADJECTIVES[Math.floor(Math.random() * ADJECTIVES.length)];
    const s = SURNAMES[Math.floor(Math.random() * SURNAMES.length)];
    const name = i < 10 ? `${a}_${s}` : `${a}_${s}${Math.floor(Math.random() * 100)}`;
    if (!taken(name)) return name;
  }
  throw new Error("could not generate a free container name");
}

const VALID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/; // (two characters at least, as dockerd's)

/** "/web" or "web" → "web"; dockerd's 400 wording for a bad one. */
export function validateName(raw: string): string {
  const name = raw.startsWith("/") ? raw.slice(1) : raw;
  if (!VALID.test(name)) throw badRequest(`Invalid container name (${raw}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name;
}
