// Writing to stdout/stderr without touching process.stdout/process.stderr: in Bun, creating those
// stream objects costs ~18 ms, more than the rest of a `berth state` call.
import { writeAll } from "../runtime/io.ts";

export const stdout = (text: string): void => writeAll(1, text);
export const stderr = (text: string): void => writeAll(2, text);
