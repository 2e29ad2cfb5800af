// Where the app proposes a new output folder when the backend names none: beside the app's
// database, `<database folder>/<parent>/<project slug>[-<what>]-<yyyymmdd-hhmmss>`, in the database
// path's own separators (the renderer has no path module).

export function proposeFolder(dbPath: string, parent: string, projectName: string, what: string | null, now: Date): string {
  const sep = dbPath.includes('\\') && !dbPath.includes('/') ? '\\' : '/';
  const cut = dbPath.lastIndexOf(sep);
  const base = cut > 0 ? dbPath.slice(0, cut) : cut === 0 ? '' : '.';
  const slug =
    projectName
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'project';
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${base}${sep}${parent}${sep}${slug}${what ? `-${what}` : ''}-${stamp}`;
}
