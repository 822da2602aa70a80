// What the container service needs from its neighbours, as interfaces: the image store, the
// root filesystem manager, the spec builder and the monitor. The engine wires the real ones;
// tests can pass doubles.
import type { SpecInput, SpecOutput } from "./spec/types.ts";
import type { Json } from "./store.ts";
import type { LaunchOptions } from "../../runtime/executor/launch.ts";

export interface ResolvedImage {
  id: string; // sha256:…
  /** the image config's "config" object: Env, Cmd, Entrypoint, WorkingDir, User, Labels, … */
  config: Json;
}

export interface ImageSource {
  /** throws ApiError 404 "No such image: <ref>" */
  resolve(ref: string): ResolvedImage;
}

export interface RootfsManager {
  /** the container's merged root filesystem, mounted (idempotent) */
  prepare(containerId: string, imageId: string): Promise<string> | string;
  /**
   * The image's layers tied to the container now, the files and the mount left to prepare. A
   * manager with it lets create answer before the rootfs is mounted (see ContainerService.create).
   */
  reserve?(containerId: string, imageId: string): void;
  /** unmount and delete the container's layer */
  remove(containerId: string): Promise<void> | void;
}

export type SpecBuilder = (input: SpecInput) => SpecOutput;

/** One connection to a monitor's attach socket (src/engine/monitor). */
export interface MonitorConn {
  onFrame(cb: (type: number, payload: Buffer) => void): void;
  onClose(cb: () => void): void;
  stdin(data: Uint8Array): void;
  eof(): void;
  resize(rows: number, cols: number): void;
  close(): void;
}

export interface MonitorExit {
  exitCode: number;
  signal?: number | null;
  finishedAt?: string;
  setupFailed?: boolean;
}

export interface MonitorPaths {
  exitFile: string;
  pidFile: string;
  /** none with --log-driver none: the monitor then keeps no log */
  logFile?: string;
  attachSocket: string;
  consoleSocket?: string;
}

export interface MonitorApi {
  /** the argv prefix the runtime wraps the executor in */
  args(o: MonitorPaths & { logMaxSize: number; logMaxFiles: number; stdin: boolean; stdinOnce: boolean; waitAttach?: boolean }): string[];
  connect(socketPath: string): Promise<MonitorConn>;
  readExit(exitFile: string): MonitorExit | undefined;
  /** readExit once the monitor's socket closed: the file may take a moment more (up to 0.5 s) */
  exitAfterClose(exitFile: string): Promise<MonitorExit | undefined>;
  /** a sealed copy of the executor for the monitor to run (LaunchOptions.executorFd), if made */
  executorFd?: number;
  /** starts monitors without blocking the event loop (LaunchOptions.spawnWrapper), if it can */
  spawner?(): LaunchOptions["spawnWrapper"];
}
