/**
 * NCSA common and combined access logs (Apache, nginx):
 * `host ident user [dd/Mmm/yyyy:hh:mm:ss +zzzz] "request" status bytes ["referrer" "user agent"]`.
 * Hand-scanned; quoted strings honour `\"` and `\\` (Apache) and keep nginx's `\x22` as written.
 */
import { clfTimeAt } from './time.js';
import { put, putAddress, parseUint, type Fields, type Parsed } from './fields.js';

/** Reads a token up to the next space from p; returns [token, index after the space]. */
function token(line: string, p: number): [string, number] {
  const sp = line.indexOf(' ', p);
  return sp < 0 ? [line.slice(p), line.length] : [line.slice(p, sp), sp + 1];
}

/** Reads a `"..."` string at p (with backslash escapes); undefined when p is not at a quote or it is unterminated. */
function quoted(line: string, p: number): [string, number] | undefined {
  if (line.charCodeAt(p) !== 34) return undefined;
  let out = '';
  let run = p + 1;
  let i = p + 1;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 92 && i + 1 < line.length) {
      const next = line.charCodeAt(i + 1);
      if (next === 34 || next === 92) {
        out += line.slice(run, i) + line[i + 1];
        i += 2;
        run = i;
        continue;
      }
      i++;
      continue;
    }
    if (c === 34) {
      out += line.slice(run, i);
      let after = i + 1;
      if (line.charCodeAt(after) === 32) after++;
      return [out, after];
    }
    i++;
  }
  return undefined;
}

function putRequest(fields: Fields, request: string): void {
  put(fields, 'http.request.original', request);
  const s1 = request.indexOf(' ');
  if (s1 <= 0) return;
  const method = request.slice(0, s1);
  // Methods are short upper-case tokens; anything else (TLS bytes sent to a plain port) stays unparsed.
  if (method.length > 20 || !/^[A-Z]+$/.test(method)) return;
  const s2 = request.lastIndexOf(' ');
  let target = request.slice(s1 + 1);
  if (s2 > s1) {
    const proto = request.slice(s2 + 1);
    if (proto.startsWith('HTTP/')) {
      put(fields, 'http.version', proto.slice(5));
      target = request.slice(s1 + 1, s2);
    }
  }
  put(fields, 'http.request.method', method);
  put(fields, 'url.original', target);
  const scheme = target.indexOf('://');
  let path = target;
  if (scheme > 0 && scheme < 10) {
    // Proxy requests carry an absolute URL.
    const hostStart = scheme + 3;
    const slash = target.indexOf('/', hostStart);
    put(fields, 'url.scheme', target.slice(0, scheme));
    const authority = slash < 0 ? target.slice(hostStart) : target.slice(hostStart, slash);
    const colon = authority.lastIndexOf(':');
    put(fields, 'url.domain', colon > 0 && !authority.endsWith(']') ? authority.slice(0, colon) : authority);
    path = slash < 0 ? '/' : target.slice(slash);
  } else if (method === 'CONNECT') {
    return;
  }
  const q = path.indexOf('?');
  const hash = path.indexOf('#');
  const pathEnd = q >= 0 ? q : hash >= 0 ? hash : path.length;
  put(fields, 'url.path', path.slice(0, pathEnd));
  if (q >= 0) put(fields, 'url.query', path.slice(q + 1, hash > q ? hash : path.length));
}

/**
 * Pure; never throws. Parses an access log line (combined or common), or returns undefined when the
 * line does not have that shape (host, two tokens, a bracketed time, a quoted request, a status).
 */
export function parseAccessLog(line: string): Parsed | undefined {
  const [host, p1] = token(line, 0);
  if (host.length === 0 || host.length > 255 || p1 >= line.length) return undefined;
  const [ident, p2] = token(line, p1);
  const [user, p3] = token(line, p2);
  if (ident.length === 0 || user.length === 0 || line.charCodeAt(p3) !== 91) return undefined;
  const t = clfTimeAt(line, p3 + 1);
  if (t === undefined || line.charCodeAt(t.end) !== 93 || line.charCodeAt(t.end + 1) !== 32) return undefined;
  const req = quoted(line, t.end + 2);
  if (req === undefined) return undefined;
  const [statusText, p5] = token(line, req[1]);
  const status = parseUint(statusText);
  if (status === undefined || status < 100 || status > 999) return undefined;
  const fields: Fields = {};
  put(fields, 'event.module', 'access_log');
  put(fields, 'event.dataset', 'access_log');
  put(fields, 'event.kind', 'event');
  put(fields, 'event.category', ['web']);
  put(fields, 'event.type', ['access']);
  putAddress(fields, 'source', host);
  if (ident !== '-') put(fields, 'access_log.ident', ident);
  if (user !== '-') put(fields, 'user.name', user);
  putRequest(fields, req[0]);
  put(fields, 'http.response.status_code', status);
  put(fields, 'event.outcome', status < 400 ? 'success' : 'failure');
  if (p5 < line.length) {
    const [bytes, p6] = token(line, p5);
    put(fields, 'http.response.body.bytes', parseUint(bytes));
    const ref = quoted(line, p6);
    if (ref !== undefined) {
      put(fields, 'http.request.referrer', ref[0]);
      const ua = quoted(line, ref[1]);
      if (ua !== undefined) put(fields, 'user_agent.original', ua[0]);
    }
  }
  put(fields, 'message', line);
  return { parser: 'access_log', fields, time: t.time };
}
