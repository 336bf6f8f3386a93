/** What the repair search needs of the patch agent's ctx (the kernel's task syscalls, the model, the log). */
export interface SearchCtx {
  task: { id: string; attempt: number };
  spawn(t: { id: string; agent: string; deps?: string[]; input?: unknown; timeout_ms?: number; memory_mb?: number }): Promise<unknown>;
  wait(a: { tasks: string[]; until: 'all' | 'first'; field?: string }): Promise<unknown>;
  cancel(tasks: string[], reason?: string): Promise<unknown>;
  llm: { chat(a: unknown): Promise<unknown> };
  log: (msg: string, data?: unknown) => void;
}
