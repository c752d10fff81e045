/**
 * `metastore serve`'s flags: etcd's names and defaults where they apply, parsed as etcd parses
 * them (Go's flag package: `--name value`, `--name=value`, one dash or two, a bare boolean flag
 * is true, `--flag=false` turns it off), and the same settings from environment variables as
 * etcd reads them: `ETCD_<FLAG>` (the flag upper-cased, dashes as underscores) and
 * `METASTORE_<FLAG>`, which wins over `ETCD_<FLAG>`; a command-line flag wins over both.
 */

/** How a flag's value is read. */
type Kind = 'string' | 'bool' | 'int' | 'duration' | 'urls' | 'choice';

interface FlagSpec {
  readonly name: string;
  readonly kind: Kind;
  readonly def: string;
  readonly help: string;
  readonly choices?: readonly string[];
  /** A cluster flag: accepted, then refused (replication is not implemented yet). */
  readonly cluster?: boolean;
}

const FLAGS: readonly FlagSpec[] = [
  { name: 'name', kind: 'string', def: 'default', help: 'Human-readable name for this member.' },
  {
    name: 'data-dir',
    kind: 'string',
    def: '',
    help: 'Directory of the durable store (created if missing). Omitted: an in-memory store, lost at exit (a warning says so).',
  },
  {
    name: 'listen-client-urls',
    kind: 'urls',
    def: 'http://localhost:2379',
    help: 'List of URLs to listen on for client traffic (http:// or https://; port 0 picks a free port).',
  },
  {
    name: 'advertise-client-urls',
    kind: 'urls',
    def: 'http://localhost:2379',
    help: "List of this member's client URLs to advertise to clients (member list).",
  },
  { name: 'listen-metrics-urls', kind: 'urls', def: '', help: 'List of additional URLs to listen on that serve only /metrics and /health (plain http).' },
  {
    name: 'auto-compaction-mode',
    kind: 'choice',
    def: 'periodic',
    choices: ['periodic', 'revision'],
    help: "Interpret 'auto-compaction-retention' as a duration ('periodic') or a number of revisions ('revision').",
  },
  {
    name: 'auto-compaction-retention',
    kind: 'string',
    def: '0',
    help: "Auto compaction retention: a duration (e.g. '5m'; a bare number is hours) for 'periodic', a number of revisions for 'revision'. 0 means disable auto compaction.",
  },
  { name: 'max-request-bytes', kind: 'int', def: '1572864', help: 'Maximum client request size in bytes the server will accept.' },
  { name: 'max-txn-ops', kind: 'int', def: '128', help: 'Maximum number of operations permitted in a transaction.' },
  { name: 'experimental-watch-progress-notify-interval', kind: 'duration', def: '10m', help: 'Duration of periodic watch progress notifications.' },
  { name: 'cert-file', kind: 'string', def: '', help: 'Path to the client server TLS cert file (PEM).' },
  { name: 'key-file', kind: 'string', def: '', help: 'Path to the client server TLS key file (PEM).' },
  { name: 'trusted-ca-file', kind: 'string', def: '', help: 'Path to the client server TLS trusted CA cert file (PEM).' },
  { name: 'client-cert-auth', kind: 'bool', def: 'false', help: 'Enable client cert authentication (clients need a certificate signed by --trusted-ca-file).' },
  {
    name: 'log-level',
    kind: 'choice',
    def: 'info',
    choices: ['debug', 'info', 'warn', 'error', 'panic', 'fatal'],
    help: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.',
  },
  {
    name: 'initial-cluster',
    kind: 'string',
    def: '',
    cluster: true,
    help: 'Initial cluster configuration for bootstrapping (refused until replication lands).',
  },
  { name: 'listen-peer-urls', kind: 'string', def: '', cluster: true, help: 'List of URLs to listen on for peer traffic (refused until replication lands).' },
  {
    name: 'initial-advertise-peer-urls',
    kind: 'string',
    def: '',
    cluster: true,
    help: "List of this member's peer URLs to advertise to the rest of the cluster (refused until replication lands).",
  },
  {
    name: 'initial-cluster-state',
    kind: 'string',
    def: '',
    cluster: true,
    help: "Initial cluster state ('new' or 'existing') (refused until replication lands).",
  },
  {
    name: 'initial-cluster-token',
    kind: 'string',
    def: '',
    cluster: true,
    help: 'Initial cluster token for the etcd cluster during bootstrap (refused until replication lands).',
  },
];

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

/** A bad command line or environment: the message says which flag and why. */
export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

/** The settings of `metastore serve`, resolved. */
export interface ServeConfig {
  name: string;
  dataDir: string | undefined;
  listenClientUrls: string[];
  advertiseClientUrls: string[];
  listenMetricsUrls: string[];
  autoCompaction: { mode: 'revision'; retention: number } | { mode: 'periodic'; periodMs: number } | undefined;
  maxRequestBytes: number;
  maxTxnOps: number;
  watchProgressNotifyIntervalMs: number;
  certFile: string | undefined;
  keyFile: string | undefined;
  trustedCaFile: string | undefined;
  clientCertAuth: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';
  /** `--help` was given. */
  help: boolean;
  /** Where each setting came from when it was not the default (for the startup log). */
  sources: Record<string, 'flag' | 'env'>;
  /** Warnings to log (an environment variable shadowed by a flag, ...). */
  warnings: string[];
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1h30m", "500ms", "10s") in milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  if (at !== s.length || at === 0) throw new FlagError(`invalid duration ${JSON.stringify(text)} (e.g. 10m, 1h30m, 500ms)`);
  return total;
}

function parseBool(name: string, v: string): boolean {
  const t = v.toLowerCase();
  if (['1', 't', 'true'].includes(t)) return true;
  if (['0', 'f', 'false'].includes(t)) return false;
  throw new FlagError(`invalid boolean value ${JSON.stringify(v)} for --${name}`);
}

function parseInt64(name: string, v: string): number {
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v))) throw new FlagError(`invalid integer value ${JSON.stringify(v)} for --${name}`);
  return Number(v);
}

const envName = (prefix: string, flag: string): string => `${prefix}_${flag.toUpperCase().replace(/-/g, '_')}`;

/** Parses `metastore serve`'s arguments and environment. Throws {@link FlagError}. */
export function parseServeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const fromFlags = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-help' || arg === '-h') {
      help = true;
      continue;
    }
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (m === null) throw new FlagError(`unexpected argument ${JSON.stringify(arg)} (flags look like --name value or --name=value)`);
    const name = m[1]!;
    const spec = BY_NAME.get(name);
    if (spec === undefined) throw new FlagError(`flag provided but not defined: -${name}`);
    let value = m[2];
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
        value = argv[++i]!;
      }
    }
    if (fromFlags.has(name)) throw new FlagError(`flag --${name} given twice`);
    fromFlags.set(name, value);
  }
  const warnings: string[] = [];
  const sources: Record<string, 'flag' | 'env'> = {};
  const raw = (spec: FlagSpec): string => {
    const own = env[envName('METASTORE', spec.name)];
    const etcd = env[envName('ETCD', spec.name)];
    const flag = fromFlags.get(spec.name);
    if (flag !== undefined) {
      for (const [v, n] of [
        [own, envName('METASTORE', spec.name)],
        [etcd, envName('ETCD', spec.name)],
      ] as const) {
        if (v !== undefined) warnings.push(`environment variable ${n} is shadowed by the flag --${spec.name}`);
      }
      sources[spec.name] = 'flag';
      return flag;
    }
    if (own !== undefined) {
      sources[spec.name] = 'env';
      return own;
    }
    if (etcd !== undefined) {
      sources[spec.name] = 'env';
      return etcd;
    }
    return spec.def;
  };
  const values = new Map(FLAGS.map((f) => [f.name, raw(f)]));
  // As etcd does: a variable with the prefix that names no flag is reported, not fatal.
  const known = new Set(FLAGS.flatMap((f) => [envName('ETCD', f.name), envName('METASTORE', f.name)]));
  for (const name of Object.keys(env).sort()) {
    if ((name.startsWith('ETCD_') || name.startsWith('METASTORE_')) && !known.has(name)) warnings.push(`unrecognized environment variable ${name}`);
  }
  const str = (n: string): string => values.get(n)!;
  const opt = (n: string): string | undefined => (str(n) === '' ? undefined : str(n));
  for (const f of FLAGS) {
    if (f.kind === 'choice' && !f.choices!.includes(str(f.name))) {
      throw new FlagError(`invalid value ${JSON.stringify(str(f.name))} for --${f.name}: one of ${f.choices!.join(', ')}`);
    }
  }
  const urls = (n: string): string[] =>
    str(n)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  // Cluster flags: accepted on the command line, then refused with a clear message.
  const cluster = FLAGS.filter((f) => f.cluster && sources[f.name] !== undefined).map((f) => `--${f.name}`);
  if (cluster.length > 0 && !help) {
    throw new FlagError(
      `${cluster.join(', ')}: clustering needs replication, which MetaStore does not have yet; ` +
        'a MetaStore server is a single member and needs none of the cluster flags (remove them, and their ETCD_ / METASTORE_ environment variables)',
    );
  }

  const maxRequestBytes = parseInt64('max-request-bytes', str('max-request-bytes'));
  if (maxRequestBytes < 1) throw new FlagError('--max-request-bytes must be at least 1');
  const maxTxnOps = parseInt64('max-txn-ops', str('max-txn-ops'));
  if (maxTxnOps < 1) throw new FlagError('--max-txn-ops must be at least 1');
  const progress = parseDuration(str('experimental-watch-progress-notify-interval'));
  if (progress <= 0) throw new FlagError('--experimental-watch-progress-notify-interval must be positive');

  let autoCompaction: ServeConfig['autoCompaction'];
  const retention = str('auto-compaction-retention').trim();
  if (str('auto-compaction-mode') === 'revision') {
    const n = parseInt64('auto-compaction-retention', retention);
    if (n < 0) throw new FlagError('--auto-compaction-retention must not be negative');
    if (n > 0) autoCompaction = { mode: 'revision', retention: n };
  } else {
    // etcd: a bare number is hours.
    const ms = /^\d+$/.test(retention) ? Number(retention) * 3_600_000 : parseDuration(retention);
    if (ms > 0) autoCompaction = { mode: 'periodic', periodMs: Math.max(1, Math.round(ms)) };
  }

  return {
    name: str('name'),
    dataDir: opt('data-dir'),
    listenClientUrls: urls('listen-client-urls'),
    advertiseClientUrls: urls('advertise-client-urls'),
    listenMetricsUrls: urls('listen-metrics-urls'),
    autoCompaction,
    maxRequestBytes,
    maxTxnOps,
    watchProgressNotifyIntervalMs: Math.max(1, Math.round(progress)),
    certFile: opt('cert-file'),
    keyFile: opt('key-file'),
    trustedCaFile: opt('trusted-ca-file'),
    clientCertAuth: parseBool('client-cert-auth', str('client-cert-auth')),
    logLevel: str('log-level') as ServeConfig['logLevel'],
    help,
    sources,
    warnings,
  };
}

/** `metastore serve --help`. */
export function serveHelp(): string {
  const lines = [
    'usage: metastore serve [flags]',
    '',
    'An etcd v3 API server (gRPC) over a MetaStore: etcdctl, clientv3 and the etcd3 npm package work against it.',
    "Flags are etcd's (--name value or --name=value); each can also be set with the environment variable",
    'METASTORE_<FLAG> or ETCD_<FLAG> (upper case, dashes as underscores, e.g. ETCD_DATA_DIR); flags win, then METASTORE_.',
    '',
  ];
  const member = FLAGS.filter((f) => !f.cluster);
  const cluster = FLAGS.filter((f) => f.cluster);
  const show = (f: FlagSpec): void => {
    const def = f.def === '' ? '' : ` (default ${JSON.stringify(f.def)})`;
    lines.push(
      `  --${f.name}${f.kind === 'bool' ? '' : ` <${f.kind === 'urls' ? 'urls' : f.kind === 'duration' ? 'duration' : f.kind === 'int' ? 'n' : 'value'}>`}`,
    );
    lines.push(`      ${f.help}${def}`);
    lines.push(`      env: ${envName('METASTORE', f.name)}, ${envName('ETCD', f.name)}`);
  };
  member.forEach(show);
  lines.push('', 'cluster flags (refused until replication lands; a MetaStore server is one member):');
  cluster.forEach(show);
  lines.push('', '  --help    this text');
  return lines.join('\n');
}
