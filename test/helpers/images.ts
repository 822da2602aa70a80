// An image service of a test's own: a fresh root directory with its SQLite file in WAL mode, as
// berthd opens its store.
import fs from "node:fs";
import { Database } from "bun:sqlite";
import { ImageService } from "../../src/engine/images/service.ts";

export function imageServiceAt(root: string): { svc: ImageService; root: string; db: Database } {
  fs.mkdirSync(root, { recursive: true });
  const db = new Database(`${root}/berth.db`);
  db.run("PRAGMA journal_mode = WAL");
  return { svc: new ImageService(db, root), root, db };
}
