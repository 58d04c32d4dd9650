/**
 * Run by crash.test.ts: appends to the spool in `argv[2]` from several concurrent loops until killed,
 * printing one line per acknowledged call: `<firstPosition> <lastPosition> <first event number>`.
 */
import { openFileSpool } from '../../../src/ingest/spool/index.js';
import { buildReceivedEvents } from './events.js';

const directory = process.argv[2];
const round = Number(process.argv[3] ?? 0);
if (!directory) throw new Error('usage: crash-child.ts <directory> <round>');

const spool = await openFileSpool({ directory, segmentBytes: 256 * 1024 });
process.stdout.write(`ready ${spool.stats().lastPosition}\n`);

async function appender(loop: number): Promise<void> {
  for (let i = 0; ; i++) {
    const first = round * 100_000_000 + loop * 1_000_000 + i * 100;
    const receipt = await spool.append(buildReceivedEvents(first, 1 + ((i + loop) % 13)));
    process.stdout.write(`${receipt.firstPosition} ${receipt.lastPosition} ${first}\n`);
  }
}

await Promise.all(Array.from({ length: 8 }, (_, loop) => appender(loop)));
