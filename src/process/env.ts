/**
 * The environment an agent process gets: an allow-list, never the kernel's whole environment. The kernel
 * may hold secrets (AGENTOS_LLM_API_KEY, cloud credentials, tokens) and flags that change how a child
 * runs (NODE_OPTIONS): none of them reaches an agent or the commands it starts unless agent.yaml names
 * it in `env:`. docs/agents.md lists the defaults.
 */

/** Variables passed through by default (when the kernel has them). */
export const DEFAULT_ENV_ALLOW = ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TEMP', 'TMP', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR'] as const;

/** Prefixes passed through by default: the locale categories (LC_ALL, LC_CTYPE, ...). */
const DEFAULT_ENV_PREFIXES = ['LC_'] as const;

/**
 * The allow-listed part of `source` (default: the kernel's own environment): the defaults plus `extra`
 * (agent.yaml `env:` names). The caller adds the protocol's AGENTOS_* variables on top.
 */
export function allowedEnv(extra: readonly string[], source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Set<string>([...DEFAULT_ENV_ALLOW, ...extra]);
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (names.has(name) || DEFAULT_ENV_PREFIXES.some((p) => name.startsWith(p))) out[name] = value;
  }
  return out;
}
