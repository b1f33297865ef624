import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>['values'];

export interface CommandSpec<O extends Options> {
  /** How the command is run, e.g. `node dist/bench/soak.js`. */
  usage: string;
  /** What it does, a sentence or two. */
  purpose: string;
  options: O;
  /** One line per flag. */
  help: { readonly [K in keyof O]: string };
  /** Flags whose value is a number, or a comma-separated list of numbers. */
  numbers?: readonly (keyof O & string)[];
}

/**
 * A bench script's flags: `--help` (or `-h`) prints every flag with its default and exits 0; an
 * unknown flag, a flag without its value or a number flag that is not numbers prints one line
 * naming it and exits 2, instead of a stack trace.
 */
export function commandLine<const O extends Options>(spec: CommandSpec<O>, argv = process.argv.slice(2)): Values<O> {
  // Errors name the script as run (bench/soak.js), or the command when it is not a file (npm start).
  const name =
    spec.usage
      .split(' ')
      .find((t) => t.endsWith('.js'))
      ?.replace(/^dist\//, '') ?? spec.usage.replace(/ --$/, '');
  const fail = (message: string): never => {
    process.stderr.write(`${name}: ${message} (--help lists the flags)\n`);
    process.exit(2);
  };
  let parsed: { values: Record<string, unknown> };
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    return fail((err as Error).message.split('\n')[0]!);
  }
  if (parsed.values['help'] === true) {
    process.stdout.write(usageText(spec));
    process.exit(0);
  }
  for (const key of spec.numbers ?? []) {
    const raw = parsed.values[key];
    if (typeof raw !== 'string') continue;
    if (!raw.split(',').every((item) => item.trim() !== '' && Number.isFinite(Number(item))))
      fail(
        `--${key} takes a number${raw.includes(',') ? ' or a comma-separated list of numbers' : ''} (got ${JSON.stringify(raw)})`,
      );
  }
  // parseArgs returned what its config says; the help flag is ours and handled above.
  return parsed.values as Values<O>;
}

function usageText<O extends Options>(spec: CommandSpec<O>): string {
  const rows = Object.entries(spec.options).map(([flag, o]) => {
    const value = o.type === 'string' ? ` ${flag.toUpperCase().replace(/-/g, '_')}` : '';
    const def = o.default === undefined || o.default === false ? '' : ` (default ${String(o.default)})`;
    return [`  --${flag}${value}`, `${spec.help[flag as keyof O]}${def}`] as const;
  });
  rows.push(['  --help, -h', 'this text']);
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return `Usage: ${spec.usage} [flags]\n\n${spec.purpose}\n\nFlags:\n${rows.map(([f, h]) => f.padEnd(width) + h).join('\n')}\n`;
}
