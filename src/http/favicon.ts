/**
 * The gateway's icon, made here rather than shipped as a binary: an SVG for the pages
 * (`/favicon.svg`) and the same picture as a 16×16 Windows icon for `/favicon.ico`, which browsers
 * ask for on their own.
 */

const BACKGROUND = [0x0f, 0x17, 0x2a]; // the bar's navy
const ACCENT = [0x38, 0xbd, 0xf8]; // the bar's sky blue

/** An eye: a ring with a pupil on a rounded navy square. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0f172a"/><circle cx="8" cy="8" r="5.5" fill="none" stroke="#38bdf8" stroke-width="1.6"/><circle cx="8" cy="8" r="2.2" fill="#38bdf8"/></svg>\n`;

function pixel(x: number, y: number): [number, number, number, number] {
  const cx = x + 0.5 - 8;
  const cy = y + 0.5 - 8;
  const r = Math.hypot(cx, cy);
  const corner = Math.max(Math.abs(cx), Math.abs(cy)) > 7.5 || (Math.abs(cx) > 5 && Math.abs(cy) > 5 && Math.hypot(Math.abs(cx) - 5, Math.abs(cy) - 5) > 3);
  if (corner) return [0, 0, 0, 0];
  const [red, green, blue] = (r >= 4.7 && r <= 6.3) || r <= 2.2 ? ACCENT : BACKGROUND;
  return [red!, green!, blue!, 255];
}

/** A 16×16, 32-bit ICO (one BMP image with alpha and its AND mask). */
function buildIco(): Buffer {
  const size = 16;
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(1, 4); // one image
  const info = Buffer.alloc(40);
  info.writeUInt32LE(40, 0);
  info.writeInt32LE(size, 4);
  info.writeInt32LE(size * 2, 8); // XOR image and AND mask
  info.writeUInt16LE(1, 12);
  info.writeUInt16LE(32, 14);
  const pixels = Buffer.alloc(size * size * 4);
  const mask = Buffer.alloc(size * 4); // rows padded to 32 bits; alpha decides, so all zero
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, size - 1 - y); // bottom-up rows
      pixels.set([b, g, r, a], (y * size + x) * 4);
    }
  }
  const image = Buffer.concat([info, pixels, mask]);
  const entry = Buffer.alloc(16);
  entry.writeUInt8(size, 0);
  entry.writeUInt8(size, 1);
  entry.writeUInt16LE(1, 4);
  entry.writeUInt16LE(32, 6);
  entry.writeUInt32LE(image.length, 8);
  entry.writeUInt32LE(header.length + entry.length, 12);
  return Buffer.concat([header, entry, image]);
}

/** `/favicon.ico`'s bytes. */
export const FAVICON_ICO = buildIco();
