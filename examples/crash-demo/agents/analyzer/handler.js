// Localises a fault by evaluating the function under test on its cases and finding where it disagrees.
export default async function analyzer(input, ctx) {
  const fn = new Function('a', 'b', `return ${input.expression};`);
  const failing = input.cases.filter(([a, b, want]) => fn(a, b) !== want);
  ctx.log(`${failing.length}/${input.cases.length} cases fail for '${input.expression}'`);
  const operator = /[-+*/%]|[<>]=?|===?/.exec(input.expression)?.[0] ?? null;
  return { expression: input.expression, cases: input.cases, failing, suspect: operator };
}
