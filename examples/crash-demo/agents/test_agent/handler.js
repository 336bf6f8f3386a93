// Runs the patched expression against every case.
export default async function test(_input, ctx) {
  const patch = ctx.deps.patch;
  const fn = new Function('a', 'b', `return ${patch.after};`);
  const results = patch.cases.map(([a, b, want]) => ({ a, b, want, got: fn(a, b) }));
  const passed = results.filter((r) => r.got === r.want).length;
  return { expression: patch.after, passed, total: results.length, ok: passed === results.length };
}
