// The plan as readable lines: what `berth run --dry-run` prints.
import { OPS } from "./ops.ts";
import type { Plan } from "./types.ts";

const STAGE_TITLE: Record<string, string> = {
  "pre-clone": "berth (host namespaces)",
  clone: "berth (host namespaces)",
  parent: "berth, for the new init",
  init: "container init",
};

export function printPlan(plan: Plan): string {
  const lines: string[] = [];
  let stage = "";
  plan.steps.forEach((s, i) => {
    const st = OPS[s.op].stage;
    const title = STAGE_TITLE[st];
    if (title !== stage) {
      lines.push(`${title}:`);
      stage = title;
    }
    lines.push(`  ${String(i).padStart(3)}  ${s.text}${s.field ? `   [${s.field}]` : ""}`);
  });
  if (plan.notes.length) {
    lines.push("notes:");
    for (const n of plan.notes) lines.push(`       ${n}`);
  }
  return lines.join("\n") + "\n";
}
