/** Says in a few words what a missing migration would hold: a CI log then shows what differs, not only that something does. */

/** ` (its first statement and how many more)`, or nothing when there are none. */
export function whatDiffers(statements: string[] | undefined): string {
  if (!statements?.length) return '';
  const first = statements[0]!.replace(/\s+/g, ' ').replace(/;$/, '');
  const shown = first.length > 120 ? `${first.slice(0, 117)}…` : first;
  const more = statements.length > 1 ? ` and ${statements.length - 1} more statement${statements.length === 2 ? '' : 's'}` : '';
  return ` (${shown}${more})`;
}
