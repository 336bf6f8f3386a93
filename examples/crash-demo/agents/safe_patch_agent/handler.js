// Fallback: leaves the code alone and records why, so the workflow can still report.
export default async function safePatch(_input, ctx) {
  const analysis = ctx.deps.analyze;
  return { before: analysis.expression, after: analysis.expression, cases: analysis.cases, note: 'fallback: no automatic patch' };
}
