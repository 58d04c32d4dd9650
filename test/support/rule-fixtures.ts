import yazl from 'yazl';

/** Rules and archives shared by the detection service and rules API tests. */

export const FAILED_LOGIN = `# counts failed logins
title: Failed login
id: 6a1f0d2e-0000-4000-8000-000000000001
level: low
logsource:
  category: firebreak_test
detection:
  selection:
    event.outcome: failure
  condition: selection
`;

export const ROOT_SHELL = `title: Root shell
id: 6a1f0d2e-0000-4000-8000-000000000002
level: high
logsource:
  category: firebreak_test
detection:
  selection:
    process.name: bash
    user.name: root
  condition: selection
`;

export const BRUTE_FORCE = `title: Brute force
id: 6a1f0d2e-0000-4000-8000-000000000003
level: critical
correlation:
  type: event_count
  rules: [6a1f0d2e-0000-4000-8000-000000000001]
  group-by: [source.ip]
  timespan: 10m
  condition: { gte: 3 }
  generate: true
`;

/** A zip archive of the given files (yazl writes it; tests may patch the bytes). */
export async function zipOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files))
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
