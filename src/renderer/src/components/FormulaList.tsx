/** Named formulas in a collapsible list (`<details className="formulas">`). */
export function FormulaList({ title, formulas, open }: { title: string; formulas: [name: string, formula: string][]; open?: boolean }) {
  return (
    <details className="formulas" open={open}>
      <summary>{title}</summary>
      <dl>
        {formulas.map(([k, v]) => (
          <div key={k}>
            <dt>
              <code>{k}</code>
            </dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}
