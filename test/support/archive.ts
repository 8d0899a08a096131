// Reading archive objects back in tests. They are stored as application/x-ndjson, which workerd
// does not count as text: R2ObjectBody.text() would log a warning per read, so bytes are decoded.
import { env } from 'cloudflare:workers';
import type { Env } from '../../src/env';

const utf8 = new TextDecoder();

/** The text of an archive object, or undefined when there is none at `key`. */
export async function archivedText(key: string): Promise<string | undefined> {
  const object = await (env as unknown as Env).ARCHIVE.get(key);
  return object === null ? undefined : utf8.decode(await object.arrayBuffer());
}
