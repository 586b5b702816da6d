import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

// Mocha's own expansion of a spec pattern, so this sees what `mocha PATTERN` runs (it ships no types).
const LOOKUP_FILES: string = 'mocha/lib/cli/lookup-files.js';
const { lookupFiles } = (await import(LOOKUP_FILES)) as { lookupFiles: (pattern: string, extensions: string[]) => string[] };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The spec files a package.json script hands to mocha, in order, as paths relative to the root. */
function filesOf(script: string): string[] {
  const patterns = scripts[script]!.split(' ').filter((word) => word !== 'mocha' && !word.startsWith('--'));
  return patterns.flatMap((pattern) => lookupFiles(join(ROOT, pattern.replaceAll("'", '')), ['.ts']).map((file) => relative(ROOT, file)));
}

function specFilesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.spec.ts'))
    .map((file) => join(dir, file));
}

describe('The test scripts of package.json', () => {
  it('npm test runs every spec file under test/ exactly once (the longest ones named first, the rest by pattern)', () => {
    const files = filesOf('test:all');
    expect([...files].sort()).to.deep.equal(specFilesUnder('test').sort());
  });

  it('npm run test:fast runs no spec file that needs the real stores (it starts no servers)', () => {
    const files = filesOf('test:fast');
    expect(files.length).to.be.greaterThan(30);
    for (const file of files) expect(readFileSync(join(ROOT, file), 'utf8'), file).to.not.match(/useRealStores\(/);
  });
});
