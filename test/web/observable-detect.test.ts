import { describe, expect, it } from 'vitest';
import { detectObservable } from '../../web/src/observable-detect.js';

describe('detectObservable (which timeline values get an "add as observable" button)', () => {
  it('types values by their ECS field name when the value fits', () => {
    expect(detectObservable(['source', 'ip'], '203.0.113.7')).toBe('ip');
    expect(detectObservable(['source', 'ip'], 'not-an-ip')).toBeNull();
    expect(detectObservable(['user', 'name'], 'jdoe')).toBe('user');
    expect(detectObservable(['host', 'name'], 'ws-042')).toBe('host');
    expect(detectObservable(['dns', 'question', 'name'], 'evil.example')).toBe('domain');
    expect(detectObservable(['file', 'hash', 'sha256'], 'a'.repeat(64))).toBe('hash_sha256');
    expect(detectObservable(['file', 'hash', 'sha256'], 'a'.repeat(40))).toBeNull();
  });

  it('recognises values by shape under any field name', () => {
    expect(detectObservable(['x'], '2001:db8::1')).toBe('ip');
    expect(detectObservable(['x'], 'd41d8cd98f00b204e9800998ecf8427e')).toBe('hash_md5');
    expect(detectObservable(['x'], 'https://evil.example/a')).toBe('url');
    expect(detectObservable(['x'], 'ana@example.org')).toBe('email');
    expect(detectObservable(['x'], 'login.evil.example')).toBe('domain');
  });

  it('offers nothing for ordinary values, numbers under plain names, or huge strings', () => {
    expect(detectObservable(['severity'], 'high')).toBeNull();
    expect(detectObservable(['count'], 3)).toBeNull();
    expect(detectObservable(['version'], '1.2.3')).toBeNull();
    expect(detectObservable(['user', 'name'], 'x'.repeat(5000))).toBeNull();
    expect(detectObservable(['user'], { name: 'jdoe' })).toBeNull();
  });

  it('answers quickly on long adversarial input (no catastrophic backtracking)', () => {
    const started = Date.now();
    detectObservable(['x'], `${'a.'.repeat(1000)}!`);
    detectObservable(['x'], `${'a'.repeat(2000)}@`);
    expect(Date.now() - started).toBeLessThan(200);
  });
});
