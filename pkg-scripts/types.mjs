// The .d.ts files shipped beside the public API's modules (www/lesionlab.d.ts,
// www/api/lesionlab.d.ts, www/api/lesion-lab-element.d.ts and what they import), written by
// TypeScript from the JSDoc. `--check` writes nothing and fails when the shipped ones differ
// from what the JS says now (pkg-scripts/test runs it).
//
//   node pkg-scripts/types.mjs [--check]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const check = process.argv.includes('--check');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lesionlab-types-'));
const out = path.join(work, 'out');
try {
  // From a copy of the JS without the shipped .d.ts files, which TypeScript would read instead
  // of the JS beside them.
  fs.cpSync(path.join(root, 'www'), path.join(work, 'www'), {
    recursive: true,
    filter: (f) => !f.endsWith('.d.ts') && !f.includes(`${path.sep}samples`),
  });
  fs.cpSync(path.join(root, 'types'), path.join(work, 'types'), { recursive: true });
  const options = {
    extends: path.join(root, 'tsconfig.api.json'),
    compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, rootDir: 'www', outDir: 'out' },
    files: ['www/lesionlab.js', 'www/lesion-lab-element.js', 'types/page-globals.d.ts'],
  };
  fs.writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify(options));
  execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: work, stdio: 'inherit' });
  // The API's own declarations: the entry points and what they import, never the page's.
  const wanted = new Set();
  const visit = (file) => {
    if (wanted.has(file) || !fs.existsSync(path.join(out, file))) return;
    wanted.add(file);
    const text = fs.readFileSync(path.join(out, file), 'utf8');
    for (const m of text.matchAll(/(?:from |import\()["'](\.\.?\/[^"']+)\.js["']/g)) {
      visit(path.posix.join(path.posix.dirname(file), `${m[1]}.d.ts`));
    }
  };
  for (const entry of ['lesionlab.d.ts', 'lesion-lab-element.d.ts', 'api/lesion-lab-element.d.ts']) visit(entry);
  const shipped = (dir) =>
    fs
      .readdirSync(path.join(root, 'www', dir))
      .filter((f) => f.endsWith('.d.ts'))
      .map((f) => path.posix.join(dir === '.' ? '' : dir, f));
  const stale = [...shipped('.'), ...shipped('api'), ...shipped('page'), ...shipped('worker')].filter(
    (f) => !wanted.has(f),
  );
  const differ = [...wanted].filter((f) => {
    const now = path.join(root, 'www', f);
    return !fs.existsSync(now) || fs.readFileSync(now, 'utf8') !== fs.readFileSync(path.join(out, f), 'utf8');
  });
  if (check) {
    if (differ.length || stale.length) {
      console.error(
        `the shipped .d.ts files are out of date (${[...differ, ...stale].join(', ')}): run node pkg-scripts/types.mjs`,
      );
      process.exit(1);
    }
    console.log(`.d.ts: ${wanted.size} files, current`);
  } else {
    for (const f of stale) fs.rmSync(path.join(root, 'www', f));
    for (const f of wanted) fs.copyFileSync(path.join(out, f), path.join(root, 'www', f));
    console.log(`.d.ts: wrote ${[...wanted].join(', ')}`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
