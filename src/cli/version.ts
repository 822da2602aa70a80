// `berth --version`: runc's lines (version, commit, spec, then the toolchain), ours.
//   berth version 0.1.0
//   commit: 1a2b3c4...
//   spec: 1.2.0
//   bun: 1.x.y
// The commit is read from the checkout's .git without spawning git (a worktree's .git is a
// "gitdir:" file; a branch may live only in packed-refs). An installed copy with no .git says
// "unknown", or what BERTH_COMMIT says when a packager sets it.
import fs from "node:fs";
import { OCI_VERSION_MAX } from "../runtime/container/features.ts";

function read(p: string): string | undefined {
  try {
    return fs.readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The commit checked out at `repo`, or undefined when it cannot be told. */
export function gitCommit(repo: string): string | undefined {
  let gitDir = `${repo}/.git`;
  const file = read(gitDir);
  if (file?.startsWith("gitdir:")) gitDir = file.slice(7).trim();
  const head = read(`${gitDir}/HEAD`);
  if (!head) return undefined;
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = head.match(/^ref: (\S+)$/)?.[1];
  if (!ref) return undefined;
  // A worktree keeps its HEAD but shares refs with the main repository ("commondir").
  const common = read(`${gitDir}/commondir`);
  const dirs = [gitDir, ...(common ? [common.startsWith("/") ? common : `${gitDir}/${common}`] : [])];
  for (const d of dirs) {
    const sha = read(`${d}/${ref}`);
    if (sha && /^[0-9a-f]{40}$/.test(sha)) return sha;
  }
  for (const d of dirs) {
    const line = read(`${d}/packed-refs`)?.split("\n").find((l) => l.endsWith(` ${ref}`));
    if (line && /^[0-9a-f]{40} /.test(line)) return line.slice(0, 40);
  }
  return undefined;
}

export function versionText(version: string, repo: string): string {
  const commit = process.env.BERTH_COMMIT || gitCommit(repo) || "unknown";
  return `berth version ${version}\ncommit: ${commit}\nspec: ${OCI_VERSION_MAX}\nbun: ${Bun.version}\n`;
}
