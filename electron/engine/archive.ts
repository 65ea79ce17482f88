/**
 * A tar archive of one file, for Docker's `PUT /containers/{id}/archive` (which takes tar
 * only). The ustar format: a 512-byte header (octal fields, a checksum over the header with
 * the checksum field read as spaces), the data padded to 512 bytes, then two empty blocks.
 * POSIX.1-1988 ustar, as `tar --format=ustar` writes it.
 */
const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** The archive holding `name` (a plain relative file name, at most 100 bytes) with `data`. */
export function singleFileTar(name: string, data: Buffer, { mode = 0o644, mtime = Date.now() } = {}): Buffer {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(name))
    throw new Error(`not a plain file name: ${JSON.stringify(name)}`);
  const header = Buffer.alloc(BLOCK, 0);
  const put = (offset: number, text: string) => header.write(text, offset, 'latin1');
  put(0, name);
  put(100, octal(mode, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(data.length, 12));
  put(136, octal(Math.floor(mtime / 1000), 12));
  put(148, ' '.repeat(8));
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  let sum = 0;
  for (const byte of header) sum += byte;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, data, Buffer.alloc(padding + 2 * BLOCK, 0)]);
}
