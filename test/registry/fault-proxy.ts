/**
 * A node:http proxy on 127.0.0.1 in front of a real registry that records every request and
 * injects faults on the ones a rule matches: canned statuses (5xx), connection resets after N
 * body bytes, truncated bodies, flipped bytes, dropped connections, extra response headers. The
 * Host header is passed through so the registry's Location URLs point back at the proxy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status (and a JSON error body) without asking the registry. */
  | { readonly kind: 'status'; readonly status: number }
  /** Forward, send the headers and the first `bytes` of the body, then reset the connection. */
  | { readonly kind: 'reset-after'; readonly bytes: number }
  /** Forward without Range, answer 200 with only the first `bytes` of the body (consistent length). */
  | { readonly kind: 'truncate'; readonly bytes: number }
  /** Forward, flip one byte of the body. */
  | { readonly kind: 'corrupt' }
  /** Close the connection without answering. */
  | { readonly kind: 'drop' }
  /** Forward, replace the body (Content-Length adjusted). */
  | { readonly kind: 'replace-body'; readonly body: Buffer; readonly contentType?: string }
  /** Forward, add response headers. */
  | { readonly kind: 'add-headers'; readonly headers: Readonly<Record<string, string>> };

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly contentRange: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly status: number;
  readonly fault: Fault['kind'] | undefined;
}

export interface FaultRule {
  readonly method?: string;
  /** Matched against the path (with query). */
  readonly path: RegExp;
  readonly fault: Fault;
  /** How many requests it applies to. Default: all. */
  readonly times?: number;
}

export interface FaultProxy {
  /** `127.0.0.1:port`. */
  readonly host: string;
  readonly requests: RequestRecord[];
  addRule(rule: FaultRule): void;
  clearRules(): void;
  /** Requests matching method and path. */
  count(method: string, path: RegExp): number;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: { rule: FaultRule; hits: number }[] = [];
  const requests: RequestRecord[] = [];
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];

  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const entry = rules.find((r) => (r.rule.method === undefined || r.rule.method === req.method) && r.rule.path.test(path) && r.hits < (r.rule.times ?? Infinity));
    if (entry) entry.hits++;
    const fault = entry?.rule.fault;
    const record = (status: number): void => {
      requests.push({ method: req.method ?? '', path, range: req.headers.range, contentRange: req.headers['content-range'] as string | undefined, headers: req.headers, status, fault: fault?.kind });
    };
    if (fault?.kind === 'drop') {
      record(0);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      req.resume();
      record(fault.status);
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `injected ${fault.status}` }] }));
      return;
    }
    const headers = { ...req.headers };
    if (fault?.kind === 'truncate') delete headers.range;
    const up = http.request({ host: targetHost, port: targetPort, method: req.method, path, headers }, (ur) => {
      const status = ur.statusCode ?? 502;
      record(status);
      const outHeaders = { ...ur.headers };
      if (!fault || fault.kind === 'add-headers') {
        res.writeHead(status, { ...outHeaders, ...(fault?.kind === 'add-headers' ? fault.headers : {}) });
        ur.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        let body: Buffer = Buffer.concat(chunks);
        switch (fault.kind) {
          case 'reset-after':
            res.writeHead(status, outHeaders);
            res.write(body.subarray(0, fault.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
            return;
          case 'truncate':
            body = body.subarray(0, fault.bytes);
            break;
          case 'corrupt':
            if (body.length > 0) {
              body = Buffer.from(body);
              body[body.length >> 1] = (body[body.length >> 1] as number) ^ 0xff;
            }
            break;
          case 'replace-body':
            body = fault.body;
            if (fault.contentType) outHeaders['content-type'] = fault.contentType;
            // A registry serving this body would also announce its digest; the real one no longer fits.
            delete outHeaders['docker-content-digest'];
            break;
        }
        outHeaders['content-length'] = String(body.length);
        res.writeHead(status, outHeaders);
        res.end(body);
      });
    });
    up.on('error', () => {
      record(502);
      res.writeHead(502).end();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    addRule: (rule) => {
      rules.push({ rule, hits: 0 });
    },
    clearRules: () => {
      rules.length = 0;
    },
    count: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)).length,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
