// Proposes the operator swap that makes every case pass.
const SWAPS = { '-': ['+', '*'], '+': ['-', '*'], '*': ['+', '/'], '/': ['*'], '<': ['<=', '>'], '>': ['>=', '<'] };

export default async function patch(_input, ctx) {
  const analysis = ctx.deps.analyze;
  for (const op of SWAPS[analysis.suspect] ?? []) {
    const candidate = analysis.expression.replace(analysis.suspect, op);
    const fn = new Function('a', 'b', `return ${candidate};`);
    if (analysis.cases.every(([a, b, want]) => fn(a, b) === want)) {
      ctx.log(`candidate '${candidate}' passes all cases`);
      return { before: analysis.expression, after: candidate, cases: analysis.cases };
    }
  }
  throw new Error(`no operator swap of '${analysis.suspect}' fixes '${analysis.expression}'`);
}
