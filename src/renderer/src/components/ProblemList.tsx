/** Why a request was not sent, one line per problem, announced as an alert. The list sits inside
 * the alert (an element with role=alert is no longer a list, so its items would be orphans). */
export function ProblemList({ problems, testId }: { problems: readonly string[]; testId: string }) {
  if (problems.length === 0) return null;
  return (
    <div className="error" role="alert" data-testid={testId}>
      <ul className="problems">
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}
