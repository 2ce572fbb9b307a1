import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as the receiver decoded it, the same whether it came as protobuf or JSON. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  statusCode: number;
  resource: Record<string, unknown>;
}

/** A real OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf or JSON) on a free loopback port. */
export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Every request body as received (to search for what must never be exported). */
  bodies: Buffer[];
  /** Content types of the export requests seen. */
  contentTypes: Set<string>;
  close(): Promise<void>;
}

// --- protobuf wire format, for the OTLP trace messages (opentelemetry/proto/trace/v1/trace.proto)

type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    pos = next;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p] = readVarint(buf, pos);
      out.push({ no, wire, varint: v });
      pos = p;
    } else if (wire === 1) {
      out.push({ no, wire, fixed: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 2) {
      const [len, p] = readVarint(buf, pos);
      out.push({ no, wire, bytes: buf.subarray(p, p + Number(len)) });
      pos = p + Number(len);
    } else if (wire === 5) {
      out.push({ no, wire, fixed: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const sub = (f: Field[], no: number) => f.filter((x) => x.no === no && x.bytes).map((x) => x.bytes!);
const str = (f: Field[], no: number) => sub(f, no)[0]?.toString('utf8') ?? '';
const hex = (f: Field[], no: number) => sub(f, no)[0]?.toString('hex') ?? '';

function anyValue(buf: Buffer): unknown {
  const f = fields(buf)[0];
  if (!f) return null;
  switch (f.no) {
    case 1:
      return f.bytes!.toString('utf8');
    case 2:
      return f.varint !== 0n;
    case 3:
      return Number(BigInt.asIntN(64, f.varint!));
    case 4:
      return f.fixed!.readDoubleLE(0);
    case 5:
      return sub(fields(f.bytes!), 1).map(anyValue);
    case 6:
      return keyValues(sub(fields(f.bytes!), 1));
    default:
      return f.bytes?.toString('hex') ?? null;
  }
}

function keyValues(list: Buffer[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((kv) => {
      const f = fields(kv);
      const value = sub(f, 2)[0];
      return [str(f, 1), value ? anyValue(value) : null];
    }),
  );
}

function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of sub(fields(body), 1)) {
    const rsf = fields(rs);
    const resourceBytes = sub(rsf, 1)[0];
    const resource = resourceBytes ? keyValues(sub(fields(resourceBytes), 1)) : {};
    for (const ss of sub(rsf, 2)) {
      const ssf = fields(ss);
      const scopeBytes = sub(ssf, 1)[0];
      const scope = scopeBytes ? str(fields(scopeBytes), 1) : '';
      for (const sp of sub(ssf, 2)) {
        const f = fields(sp);
        const status = sub(f, 15)[0];
        spans.push({
          traceId: hex(f, 1),
          spanId: hex(f, 2),
          parentSpanId: hex(f, 4),
          name: str(f, 5),
          kind: Number(f.find((x) => x.no === 6)?.varint ?? 0n),
          scope,
          attributes: keyValues(sub(f, 9)),
          events: sub(f, 11).map((e) => {
            const ef = fields(e);
            return { name: str(ef, 2), attributes: keyValues(sub(ef, 3)) };
          }),
          statusCode: status ? Number(fields(status).find((x) => x.no === 3)?.varint ?? 0n) : 0,
          resource,
        });
      }
    }
  }
  return spans;
}

// --- OTLP/JSON

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}

function jsonValue(v: JsonAnyValue | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  if (v.kvlistValue) return jsonAttributes(v.kvlistValue.values);
  return null;
}

const jsonAttributes = (list: JsonKeyValue[] | undefined) => Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));

interface JsonExport {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: JsonKeyValue[];
        events?: { name: string; attributes?: JsonKeyValue[] }[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

function decodeJson(body: Buffer): ReceivedSpan[] {
  const parsed = JSON.parse(body.toString('utf8')) as JsonExport;
  return (parsed.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? '',
        name: s.name,
        kind: s.kind ?? 0,
        scope: ss.scope?.name ?? '',
        attributes: jsonAttributes(s.attributes),
        events: (s.events ?? []).map((e) => ({ name: e.name, attributes: jsonAttributes(e.attributes) })),
        statusCode: s.status?.code ?? 0,
        resource: jsonAttributes(rs.resource?.attributes),
      })),
    ),
  );
}

/** Starts the receiver. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, 'close' | 'endpoint'> = { spans: [], bodies: [], contentTypes: new Set() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        receiver.bodies.push(body);
        receiver.contentTypes.add(type);
        if (type === 'application/x-protobuf') {
          receiver.spans.push(...decodeProtobuf(body));
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else if (type === 'application/json') {
          receiver.spans.push(...decodeJson(body));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else res.writeHead(415).end();
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
