/**
 * A package-lock.json for a throwaway app, cut from the project's own lockfile, so that `npm ci
 * --offline` can install it from npm's cache alone. `npm ci` of the project caches every tarball
 * of its lockfile but not the registry's metadata (packuments), which a plain `npm install` of a
 * tarball needs to resolve its dependencies: with a complete lockfile npm resolves nothing.
 */

/** One `packages` entry of a lockfile (v2/v3): the fields this module reads, the rest carried as-is. */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

export interface Lockfile {
  name?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/** The tarball the app installs, as `npm pack --json` describes it. */
export interface PackedTarball {
  name: string;
  version: string;
  integrity: string;
  /** Relative to the app's directory, as in a `file:` spec: `../ptime-0.1.0.tgz`. */
  path: string;
}

/**
 * Where Node (and so npm's lockfile) finds `name` required from the package installed at `from`:
 * its own node_modules, then each enclosing one, up to the top.
 */
function locate(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return null;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/**
 * The subtree of `project` that `roots` (names installed at the top of the project) need, at the
 * same paths, as every entry of the app: ptime's production dependencies plus what the app adds
 * (a compiler). Optional dependencies missing from the project's lockfile (other platforms'
 * binaries npm did not record) are skipped; a required one missing is an error.
 */
function closure(project: Lockfile, roots: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string, optional: boolean): void => {
    const path = locate(project.packages, from, name);
    if (path === null) {
      if (optional) return;
      throw new Error(`${name} (needed by ${from || 'the app'}) is not in the project's package-lock.json`);
    }
    if (out[path]) return;
    // The app depends on all of it for real: the project's dev flags would make `npm ci` prune it.
    const { dev: _dev, devOptional: _devOptional, ...entry } = project.packages[path]!;
    out[path] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(path, dep, false);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(path, dep, true);
    for (const dep of Object.keys(entry.peerDependencies ?? {}))
      visit(path, dep, entry.peerDependenciesMeta?.[dep]?.optional === true);
  };
  for (const root of roots) visit('', root, false);
  return out;
}

/**
 * The app's package.json dependencies and its lockfile: `tarball` from its `file:` path, plus
 * `extra` (package names) at the versions the project locks.
 */
export function offlineApp(
  project: Lockfile,
  tarball: PackedTarball,
  extra: readonly string[],
): { dependencies: Record<string, string>; lock: Lockfile } {
  const own = project.packages[''];
  if (!own || own.name !== tarball.name) throw new Error(`the project's lockfile is not ${tarball.name}'s`);
  const packages = closure(project, [...Object.keys(own.dependencies ?? {}), ...extra]);
  const spec = `file:${tarball.path}`;
  const dependencies: Record<string, string> = { [tarball.name]: spec };
  for (const name of extra) dependencies[name] = packages[`node_modules/${name}`]!.version!;
  // The package's own entry mirrors its package.json, as npm writes it for an installed tarball.
  const { name: _name, devDependencies: _devDependencies, ...published } = own;
  return {
    dependencies,
    lock: {
      name: 'ptime-consumer',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'ptime-consumer', dependencies },
        [`node_modules/${tarball.name}`]: {
          ...published,
          version: tarball.version,
          resolved: spec,
          integrity: tarball.integrity,
        },
        ...packages,
      },
    },
  };
}
