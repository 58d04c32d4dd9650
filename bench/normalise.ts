/**
 * Normaliser speed: 200,000 mixed syslog lines (sshd logins and disconnects, sudo, cron, systemd,
 * RFC 5424) through `normalise`, in events per second of wall and CPU time, beside a baseline measured
 * in the same run over the same events: splitting each line on spaces (the least any parser does).
 * `FIREBREAK_BENCH_EVENTS` overrides the count.
 */
import type { ReceivedEvent } from '../src/ingest/event-record.js';
import { normalise } from '../src/ingest/normalise/index.js';

const COUNT = Number(process.env['FIREBREAK_BENCH_EVENTS'] ?? 200_000);
const USERS = ['root', 'admin', 'alice', 'bob', 'deploy', 'oracle', 'postgres', 'ubuntu', 'test', 'git'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A deterministic mix: about 60% sshd, 10% sudo, 30% other daemons, a fifth of them with PRI or RFC 5424. */
function line(i: number): string {
  const ip = `${((i * 7) % 223) + 1}.${(i * 13) % 256}.${(i * 17) % 256}.${((i * 31) % 254) + 1}`;
  const port = 1024 + ((i * 97) % 60000);
  const user = USERS[i % USERS.length]!;
  const host = `web${pad(i % 40)}`;
  const stamp = `${MONTHS[i % 12]} ${String((i % 28) + 1).padStart(2, ' ')} ${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}`;
  const pid = 1000 + (i % 30000);
  const kind = i % 10;
  let body: string;
  switch (kind) {
    case 0:
    case 1:
    case 2:
      body = `sshd[${pid}]: Failed password for ${i % 3 === 0 ? 'invalid user ' : ''}${user} from ${ip} port ${port} ssh2`;
      break;
    case 3:
      body = `sshd[${pid}]: Accepted publickey for ${user} from ${ip} port ${port} ssh2: ED25519 SHA256:${i.toString(36)}`;
      break;
    case 4:
      body = `sshd[${pid}]: Invalid user ${user}${i % 100} from ${ip} port ${port}`;
      break;
    case 5:
      body = `sshd[${pid}]: Connection closed by authenticating user ${user} ${ip} port ${port} [preauth]`;
      break;
    case 6:
      body = `sudo:    ${user} : TTY=pts/${i % 9} ; PWD=/home/${user} ; USER=root ; COMMAND=/usr/bin/systemctl restart app${i % 7}`;
      break;
    case 7:
      body = `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`;
      break;
    case 8:
      body = `systemd[1]: Started Session ${i} of User ${user}.`;
      break;
    default:
      return `<38>1 2024-11-19T07:${pad(i % 60)}:${pad((i * 3) % 60)}.${String(i % 1000).padStart(3, '0')}Z ${host} sshd ${pid} - [meta seq="${i}"] Failed password for ${user} from ${ip} port ${port} ssh2`;
  }
  return i % 5 === 0 ? `<38>${stamp} ${host} ${body}` : `${stamp} ${host} ${body}`;
}

function events(count: number): ReceivedEvent[] {
  const out: ReceivedEvent[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      id: `e${i}`,
      orgId: 'org',
      receivedAt: '2024-11-20T08:30:00.000Z',
      source: { kind: 'syslog', name: 'udp', peer: '192.0.2.1:514' },
      format: i % 2 === 0 ? 'syslog' : 'auto',
      raw: line(i),
    });
  }
  return out;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function time(run: () => void): Timing {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  run();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Runs the normaliser benchmark and returns its report (several lines of text). */
export async function runNormaliseBench(): Promise<string> {
  const input = events(COUNT);
  // Warm up both paths so the JIT has compiled them before timing.
  let sink = 0;
  for (let i = 0; i < Math.min(20_000, input.length); i++) sink += normalise(input[i]!).observables.length;
  const baseline = time(() => {
    for (const e of input) sink += (e.raw as string).split(' ').length;
  });
  const parsers = new Map<string, number>();
  const run = time(() => {
    for (const e of input) {
      const n = normalise(e);
      parsers.set(n.parser, (parsers.get(n.parser) ?? 0) + 1);
    }
  });
  const rate = (t: Timing, ms: number): string =>
    `${Math.round((COUNT / ms) * 1000).toLocaleString('en')} events/s`;
  const mix = [...parsers.entries()].map(([p, n]) => `${p} ${n}`).join(', ');
  return [
    `normalise: ${COUNT.toLocaleString('en')} mixed syslog lines (${mix})`,
    `  baseline split(' '): ${baseline.wallMs.toFixed(0)} ms wall (${rate(baseline, baseline.wallMs)})`,
    `  normalise:           ${run.wallMs.toFixed(0)} ms wall, ${run.cpuMs.toFixed(0)} ms CPU (${rate(run, run.wallMs)} wall, ${rate(run, run.cpuMs)} CPU)`,
    `  ${((run.wallMs / COUNT) * 1000).toFixed(2)} µs per event; ratio to baseline ${(run.wallMs / baseline.wallMs).toFixed(1)}x${sink < 0 ? '' : ''}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await runNormaliseBench()}\n`);
}
