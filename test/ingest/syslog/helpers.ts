/** Test helpers for the syslog listeners: collecting sinks, raw clients, waiting. */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { SyslogFrame, SyslogSink } from '../../../src/ingest/syslog/index.js';

export const execFileAsync = promisify(execFile);

export interface Collector {
  readonly frames: SyslogFrame[];
  readonly calls: number[];
  readonly sink: SyslogSink;
}

/** A sink that keeps every frame and the size of every call. */
export function collectingSink(): Collector {
  const frames: SyslogFrame[] = [];
  const calls: number[] = [];
  return {
    frames,
    calls,
    sink: async (batch) => {
      calls.push(batch.length);
      frames.push(...batch);
    },
  };
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Poll until `check` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function openClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Resolves when the socket has closed (from either side). */
export function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed && socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
}

export function write(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));
}

/** Octet-counted frame (RFC 6587 §3.4.1). */
export const octet = (msg: string): string => `${Buffer.byteLength(msg)} ${msg}`;
