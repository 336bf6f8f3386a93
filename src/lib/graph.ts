/** Graph algorithms over task lists ({id, deps}): a leaf, used by plan validation (config/) and the scheduler. */

/**
 * The tasks in an order where each comes after its dependencies (Kahn's algorithm, O(tasks + deps) for
 * any listing order). Deps outside `tasks` must satisfy `known` (already in the graph). Returns
 * `{ stuck }`, the tasks that can never be placed, when there is a cycle or an unknown dependency.
 */
export function topologicalOrder<T extends { id: string; deps: readonly string[] }>(tasks: readonly T[], known: (id: string) => boolean): { order: T[] } | { stuck: T[] } {
  const index = new Map<string, number>();
  tasks.forEach((t, i) => index.set(t.id, i));
  const waiting = new Array<number>(tasks.length).fill(0);
  const dependents: number[][] = tasks.map(() => []);
  tasks.forEach((t, i) => {
    for (const d of t.deps) {
      const j = index.get(d);
      if (j !== undefined) dependents[j]!.push(i);
      // an unknown dependency can never be met: the task stays waiting
      if (j !== undefined || !known(d)) waiting[i]!++;
    }
  });
  const order: number[] = [];
  tasks.forEach((_, i) => {
    if (waiting[i] === 0) order.push(i);
  });
  for (let k = 0; k < order.length; k++) {
    for (const i of dependents[order[k]!]!) if (--waiting[i]! === 0) order.push(i);
  }
  if (order.length === tasks.length) return { order: order.map((i) => tasks[i]!) };
  return { stuck: tasks.filter((_, i) => waiting[i]! > 0) };
}

/** A cycle as a list of task ids (first repeated at the end), or undefined. Iterative DFS, linear. */
export function findCycle(tasks: ReadonlyArray<{ id: string; deps: readonly string[] }>): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.id, t.deps]));
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  for (const root of deps.keys()) {
    if (state.has(root)) continue;
    const stack: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const list = deps.get(top.id) ?? [];
      if (top.next >= list.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const d = list[top.next++]!;
      const s = state.get(d);
      if (s === 1) {
        const from = stack.findIndex((f) => f.id === d);
        return [...stack.slice(from).map((f) => f.id), d];
      }
      if (s === undefined && deps.has(d)) {
        state.set(d, 1);
        stack.push({ id: d, next: 0 });
      }
    }
  }
  return undefined;
}

/** `a -> b -> c -> a`; a long cycle shows its first `max` ids, then "… (N more)" and the closing id. */
export function formatCycle(cycle: readonly string[], max = 10): string {
  const ring = cycle.slice(0, -1); // the closing id repeats the first
  if (ring.length <= max) return cycle.join(' -> ');
  return `${ring.slice(0, max).join(' -> ')} -> … (${ring.length - max} more) -> ${cycle[cycle.length - 1]}`;
}

/** `a, b, c`; a long list shows its first `max` ids, then "… (N more)". */
export function formatIds(ids: readonly string[], max = 10): string {
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')}, … (${ids.length - max} more)`;
}
