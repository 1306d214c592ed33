import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseOwner } from '../lambdas/core/identity.js';
import { LocalJwt } from './api/local-jwt.js';

/** `npm run token -- <owner>`: prints a bearer token the local API accepts for that owner. */
async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'data-dir': { type: 'string' } },
  });
  const [owner, ...extra] = positionals;
  if (!owner || extra.length > 0) throw new Error('usage: npm run token -- <owner> [--data-dir DIR]');
  const dataDir = resolve(values['data-dir'] ?? process.env.APERTURE_DATA_DIR ?? '.aperture');
  const jwt = await LocalJwt.inDataDir(dataDir);
  console.log(jwt.issue(parseOwner(owner)));
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(2);
});
