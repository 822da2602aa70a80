// The metadata store: one SQLite file under the data root (WAL, synchronous=NORMAL: a crash loses
// at most the last transactions, never consistency). Each subsystem creates its own tables; every
// change is one transaction, so a crash at any moment leaves either the old or the new row.
import { Database } from "bun:sqlite";
import fs from "node:fs";

export function openStore(dataRoot: string): Database {
  fs.mkdirSync(dataRoot, { recursive: true, mode: 0o711 });
  const db = new Database(`${dataRoot}/berth.db`, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}
