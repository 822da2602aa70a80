// Container records in SQLite: one row per container, the docker Config/HostConfig as created and
// the State as last known. Names are a UNIQUE column, so two creates racing for one name cannot
// both win. Every write is one statement or one transaction.
import type { Database } from "bun:sqlite";
import type { HealthState } from "./health.ts";
import { conflict } from "../errors.ts";

export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /** stopped or killed through the API since its last start (not shown: dockerd keeps it beside the state) */
  ManuallyStopped?: boolean;
  /** with a health check only (health.ts) */
  Health?: HealthState;
}

export type Json = Record<string, any>;

export interface ContainerRecord {
  id: string;
  name: string; // without the leading "/"
  created: string; // RFC 3339 nano
  imageRef: string; // as the client gave it
  imageId: string; // sha256:…
  config: Json; // docker ContainerConfig (after merging the image's defaults)
  hostConfig: Json;
  state: ContainerState;
  restartCount: number;
  /** Path/Args as docker shows them (the process that runs) */
  path: string;
  args: string[];
  /** bumped on every start: a monitor's exit report is only taken for its own run */
  generation: number;
}

export const ZERO_TIME = "0001-01-01T00:00:00Z";

/** 409 unless a process runs now (not stopped, not waiting for its restart policy): exec, pause. */
export function mustBeRunning(c: ContainerRecord): void {
  if (!c.state.Running) throw conflict(`Container ${c.id} is not running`);
  if (c.state.Restarting) throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
}

export function initialState(): ContainerState {
  return {
    Status: "created", Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: "", StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}

interface Row {
  id: string; name: string; created: string; image_ref: string; image_id: string;
  config: string; host_config: string; state: string; restart_count: number; path: string; args: string; generation: number;
}

function fromRow(r: Row): ContainerRecord {
  return {
    id: r.id, name: r.name, created: r.created, imageRef: r.image_ref, imageId: r.image_id,
    config: JSON.parse(r.config), hostConfig: JSON.parse(r.host_config), state: JSON.parse(r.state),
    restartCount: r.restart_count, path: r.path, args: JSON.parse(r.args), generation: r.generation,
  };
}

export class ContainerStore {
  constructor(private db: Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS containers (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created TEXT NOT NULL,
      image_ref TEXT NOT NULL,
      image_id TEXT NOT NULL,
      config TEXT NOT NULL,
      host_config TEXT NOT NULL,
      state TEXT NOT NULL,
      restart_count INTEGER NOT NULL DEFAULT 0,
      path TEXT NOT NULL,
      args TEXT NOT NULL,
      generation INTEGER NOT NULL DEFAULT 0,
      seq INTEGER NOT NULL
    )`);
    // Containers removed from the API whose files, cgroups and runtime state are still being
    // cleaned up (after the answer, in the background); a berthd that dies meanwhile finishes
    // the job at its next start.
    db.exec("CREATE TABLE IF NOT EXISTS removals (id TEXT PRIMARY KEY)");
  }

  /** Inserts; false when the name is taken (the caller words the 409). */
  insert(c: ContainerRecord): boolean {
    try {
      this.db.query(`INSERT INTO containers (id, name, created, image_ref, image_id, config, host_config, state, restart_count, path, args, generation, seq)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM containers))`).run(
        c.id, c.name, c.created, c.imageRef, c.imageId, JSON.stringify(c.config), JSON.stringify(c.hostConfig),
        JSON.stringify(c.state), c.restartCount, c.path, JSON.stringify(c.args), c.generation,
      );
      return true;
    } catch (e) {
      if (String((e as Error).message).includes("UNIQUE constraint failed: containers.name")) return false;
      throw e;
    }
  }

  saveState(c: ContainerRecord): void {
    this.db.query("UPDATE containers SET state = ?, restart_count = ?, generation = ? WHERE id = ?").run(
      JSON.stringify(c.state), c.restartCount, c.generation, c.id,
    );
  }

  saveConfig(c: ContainerRecord): void {
    this.db.query("UPDATE containers SET config = ?, host_config = ? WHERE id = ?").run(JSON.stringify(c.config), JSON.stringify(c.hostConfig), c.id);
  }

  rename(id: string, name: string): boolean {
    try {
      this.db.query("UPDATE containers SET name = ? WHERE id = ?").run(name, id);
      return true;
    } catch (e) {
      if (String((e as Error).message).includes("UNIQUE")) return false;
      throw e;
    }
  }

  /** One transaction: the container is gone for the API, and its cleanup is owed. */
  retire(id: string): void {
    this.db.transaction(() => {
      this.db.query("DELETE FROM containers WHERE id = ?").run(id);
      this.db.query("INSERT OR IGNORE INTO removals (id) VALUES (?)").run(id);
    })();
  }

  /** Ids whose cleanup is still owed. */
  retired(): string[] {
    return (this.db.query("SELECT id FROM removals").all() as { id: string }[]).map((r) => r.id);
  }

  /** The cleanup of `id` is done. */
  cleaned(id: string): void {
    this.db.query("DELETE FROM removals WHERE id = ?").run(id);
  }

  /** Newest first, as `docker ps` lists them. */
  all(): ContainerRecord[] {
    return (this.db.query("SELECT * FROM containers ORDER BY seq DESC").all() as Row[]).map(fromRow);
  }

  get(id: string): ContainerRecord | undefined {
    const r = this.db.query("SELECT * FROM containers WHERE id = ?").get(id) as Row | null;
    return r ? fromRow(r) : undefined;
  }

  byName(name: string): ContainerRecord | undefined {
    const r = this.db.query("SELECT * FROM containers WHERE name = ?").get(name) as Row | null;
    return r ? fromRow(r) : undefined;
  }

  /** Ids starting with a prefix (for short ids). */
  byPrefix(prefix: string): ContainerRecord[] {
    const esc = prefix.replace(/[%_\\]/g, "\\$&");
    return (this.db.query("SELECT * FROM containers WHERE id LIKE ? ESCAPE '\\' LIMIT 2").all(`${esc}%`) as Row[]).map(fromRow);
  }

  countUsingImage(imageId: string): number {
    return (this.db.query("SELECT COUNT(*) AS n FROM containers WHERE image_id = ?").get(imageId) as { n: number }).n;
  }
}
