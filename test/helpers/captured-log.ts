import { Writable } from 'node:stream';

/** Everything a gateway logged into it (hand it to `createLogger` as the destination): raw text, and one parsed JSON object per line. */
export class CapturedLog extends Writable {
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }

  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
