// Summarises the workflow from its dependencies' outputs.
export default async function report(_input, ctx) {
  const { patch, test } = ctx.deps;
  return {
    summary: test.ok ? `fixed: '${patch.before}' -> '${patch.after}' (${test.passed}/${test.total} cases pass)` : `not fixed: ${test.passed}/${test.total} cases pass`,
    fixed: test.ok,
  };
}
