// Pure parts of the CLI's extra commands: Go durations (events --interval), runc-style log lines
// (--log / --log-format), signal names (kill), ps output filtering and `ps --format json`.
import { describe, expect, test } from "bun:test";
import { parseDuration } from "../../src/cli/duration.ts";
import { formatLogLine, goQuote, rfc3339 } from "../../src/cli/log.ts";
import { parseSignal } from "../../src/runtime/container/lifecycle.ts";
import { filterPsOutput, pidsJson } from "../../src/runtime/container/ps.ts";

describe("parseDuration (Go's time.ParseDuration)", () => {
  test("units and compound durations, in milliseconds", () => {
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("300ms")).toBe(300);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1.5h")).toBe(5_400_000);
    expect(parseDuration("2h45m")).toBe(9_900_000);
    expect(parseDuration("1500us")).toBe(1.5);
    expect(parseDuration("1500µs")).toBe(1.5);
    expect(parseDuration("1000000ns")).toBe(1);
    expect(parseDuration(".5s")).toBe(500);
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("-1s")).toBe(-1000);
  });
  test("refuses what Go refuses", () => {
    expect(() => parseDuration("5")).toThrow(/missing unit/);
    expect(() => parseDuration("abc")).toThrow(/invalid duration/);
    expect(() => parseDuration("5x")).toThrow(/unknown unit/);
    expect(() => parseDuration("")).toThrow(/invalid duration/);
    expect(() => parseDuration("s")).toThrow(/invalid duration/);
    expect(() => parseDuration("1s ")).toThrow();
  });
});

describe("log lines (logrus, as runc writes them)", () => {
  const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  test("json: level, msg, time in that order", () => {
    process.env.TZ = "UTC";
    expect(formatLogLine("json", "error", "container does not exist", when)).toBe('{"level":"error","msg":"container does not exist","time":"2024-01-02T03:04:05Z"}\n');
  });
  test("json escapes like Go (HTML characters too)", () => {
    const line = formatLogLine("json", "error", 'a "b" <c> & d\n', when);
    expect(line).toContain('"msg":"a \\"b\\" \\u003cc\\u003e \\u0026 d\\n"');
    expect(JSON.parse(line).msg).toBe('a "b" <c> & d\n');
  });
  test("text: time, level, msg; values quoted only when needed", () => {
    expect(formatLogLine("text", "error", "container does not exist", when)).toBe('time="2024-01-02T03:04:05Z" level=error msg="container does not exist"\n');
    expect(formatLogLine("text", "debug", "simple", when)).toBe('time="2024-01-02T03:04:05Z" level=debug msg=simple\n');
    expect(formatLogLine("text", "error", "", when)).toContain('msg=""');
  });
  test("goQuote follows strconv.Quote", () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote("x\ty\u0001\u007f")).toBe('"x\\ty\\x01\\x7f"');
    expect(goQuote("é—ok")).toBe('"é—ok"');
  });
  test("rfc3339 is to the second, Z in UTC", () => {
    expect(rfc3339(new Date(Date.UTC(2024, 11, 31, 23, 59, 59, 999)))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
  });
});

describe("parseSignal (kill)", () => {
  test("names with or without SIG, any case, numbers, real-time", () => {
    expect(parseSignal(undefined)).toBe(15);
    expect(parseSignal("KILL")).toBe(9);
    expect(parseSignal("sigterm")).toBe(15);
    expect(parseSignal("SIGUSR1")).toBe(10);
    expect(parseSignal("9")).toBe(9);
    expect(parseSignal("SIGRTMIN+2")).toBe(36);
  });
  test("unknown signals are errors", () => {
    expect(() => parseSignal("NOPE")).toThrow(/unknown signal/);
    expect(() => parseSignal("0")).toThrow(/unknown signal/);
    expect(() => parseSignal("65")).toThrow(/unknown signal/);
  });
});

describe("ps", () => {
  const out = [
    "UID          PID    PPID  C STIME TTY          TIME CMD",
    "root           1       0  0 08:00 ?        00:00:01 /sbin/init",
    "root        3664       1  0 08:50 ?        00:00:00 sleep 1000",
    "root       36640       1  0 08:50 ?        00:00:00 sleep 2000",
    "",
  ].join("\n");
  test("keeps the header and the container's lines", () => {
    expect(filterPsOutput(out, [3664])).toBe("UID          PID    PPID  C STIME TTY          TIME CMD\nroot        3664       1  0 08:50 ?        00:00:00 sleep 1000\n");
    expect(filterPsOutput(out, [])).toBe("UID          PID    PPID  C STIME TTY          TIME CMD\n");
  });
  test("finds the PID column wherever it is", () => {
    expect(filterPsOutput("  PID COMMAND\n   12 sh\n   13 top\n", [13])).toBe("  PID COMMAND\n   13 top\n");
  });
  test("errors: no PID column, unparsable pid", () => {
    expect(() => filterPsOutput("COMMAND\nsh\n", [1])).toThrow(/couldn't find PID field/);
    expect(() => filterPsOutput("CMD PID\nmy prog 12\n", [12])).toThrow(/unable to parse pid/);
  });
  test("json: an array of pids, or null when there are none (Go's nil slice)", () => {
    expect(pidsJson([123, 456])).toBe("[123,456]\n");
    expect(pidsJson([])).toBe("null\n");
  });
});
