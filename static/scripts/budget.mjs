// Budget: each route's initial JavaScript, gzipped, must stay at or below
// 120 KB. "Initial" = the entry chunk and its static imports, plus the route's
// page chunk with everything it imports (statically or lazily, e.g. uPlot on
// the monitor page), counted once. Reads Vite's manifest; exits 1 over budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const LIMIT = 120 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}dist/.vite/manifest.json`, 'utf8'));
const routes = JSON.parse(readFileSync(`${root}routes.json`, 'utf8'));
const pagesSrc = readFileSync(`${root}src/app/pages.ts`, 'utf8');

// '/monitors': { access: 'tenant', load: () => import('../monitors/Dashboard') },
const pageOf = new Map();
for (const m of pagesSrc.matchAll(/'([^']+)':\s*\{[^}]*import\('\.\.\/([^']+)'\)/g)) {
  pageOf.set(m[1], `src/${m[2]}.tsx`);
}

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
if (!entryKey) throw new Error('no entry chunk in the manifest');
const sizes = new Map();
function gz(file) {
  if (!sizes.has(file)) sizes.set(file, gzipSync(readFileSync(`${root}dist/${file}`), { level: 9 }).length);
  return sizes.get(file);
}
function closure(key, seen, withDynamic) {
  if (seen.has(key)) return;
  const chunk = manifest[key];
  if (!chunk) throw new Error(`manifest has no ${key}`);
  seen.add(key);
  for (const dep of chunk.imports ?? []) closure(dep, seen, withDynamic);
  if (withDynamic) for (const dep of chunk.dynamicImports ?? []) closure(dep, seen, withDynamic);
}

let failed = false;
const rows = [];
for (const route of routes) {
  const page = pageOf.get(route);
  if (!page || !manifest[page]) {
    console.error(`budget: route ${route} has no page chunk (src/app/pages.ts: ${page ?? 'missing'})`);
    failed = true;
    continue;
  }
  const keys = new Set();
  closure(entryKey, keys, false);
  closure(page, keys, true);
  const files = new Set([...keys].map((k) => manifest[k].file).filter((f) => f.endsWith('.js')));
  const total = [...files].reduce((sum, f) => sum + gz(f), 0);
  rows.push([route, total]);
  if (total > LIMIT) failed = true;
}
const width = Math.max(...rows.map(([r]) => r.length));
console.log(`Initial JS per route (gzip), budget ${(LIMIT / 1024).toFixed(0)} KB:`);
for (const [route, total] of rows) {
  console.log(`  ${route.padEnd(width)}  ${(total / 1024).toFixed(1).padStart(6)} KB${total > LIMIT ? '  OVER BUDGET' : ''}`);
}
if (failed) {
  console.error('budget: FAILED');
  process.exit(1);
}
console.log('budget: ok');
