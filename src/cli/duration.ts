// Go's time.ParseDuration, for flags runc declares as durations (`events --interval 5s`):
// a sequence of decimal numbers with units ns, us (µs), ms, s, m, h — "300ms", "1.5h", "2h45m".
// "0" alone needs no unit. Returns milliseconds; throws an Error saying what is wrong.
const UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

export function parseDuration(s: string): number {
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`invalid duration ${JSON.stringify(s)}`);
  let total = 0;
  while (rest !== "") {
    const m = /^(\d*\.?\d*)([a-zµμ]*)/.exec(rest)!;
    const [all, num, unit] = m;
    if (num === "" || num === "." ) throw new Error(`invalid duration ${JSON.stringify(s)}`);
    if (unit === "") throw new Error(`missing unit in duration ${JSON.stringify(s)}`);
    const mul = UNITS[unit!];
    if (mul === undefined) throw new Error(`unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(s)}`);
    total += Number(num) * mul;
    rest = rest.slice(all!.length);
  }
  return sign * total;
}
