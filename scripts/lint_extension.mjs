#!/usr/bin/env node
// `web-ext lint` over the extension's own files only (manifest.json, extension/,
// _locales/: what `codecatch pack` ships), staged into a temporary folder so nothing
// else in the repository is linted. Fails on any error, and on any warning or notice
// that is not listed below as expected, with its reason.
// https://extensionworkshop.com/documentation/develop/web-ext-command-reference/#web-ext-lint

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHIPPED = ['manifest.json', 'extension', '_locales'];

// Expected findings: a code, a test on the message, and why it is fine.
export const EXPECTED = [
  {
    code: 'BACKGROUND_SERVICE_WORKER_IGNORED',
    match: /background\/service_worker/,
    reason: 'one manifest for both browsers: Chromium runs background.service_worker, '
      + 'Firefox runs background.scripts and ignores the worker (docs/browser-notes.md section 4)',
  },
  {
    code: 'MANIFEST_PERMISSIONS',
    match: /Invalid permissions "offscreen"/,
    reason: 'Chromium-only: the offscreen document writes and clears the clipboard there; Firefox '
      + 'ignores the permission and uses the clipboard from its background page',
  },
];

export function classify(report) {
  const problems = [];
  const expected = [];
  for (const m of report.errors ?? []) problems.push({ kind: 'error', ...m });
  for (const kind of ['warnings', 'notices']) {
    for (const m of report[kind] ?? []) {
      const known = EXPECTED.find((e) => e.code === m.code && e.match.test(m.message ?? ''));
      if (known) expected.push({ ...m, reason: known.reason });
      else problems.push({ kind: kind.slice(0, -1), ...m });
    }
  }
  return { problems, expected };
}

function stage() {
  const dir = mkdtempSync(join(tmpdir(), 'codecatch-lint-'));
  for (const name of SHIPPED) {
    if (existsSync(join(ROOT, name))) cpSync(join(ROOT, name), join(dir, name), { recursive: true });
  }
  return dir;
}

function main() {
  const dir = stage();
  try {
    const bin = join(ROOT, 'node_modules', '.bin', 'web-ext');
    const run = spawnSync(bin, ['lint', '--source-dir', dir, '--self-hosted', '--output', 'json', '--no-config-discovery'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    let report;
    try {
      report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    } catch {
      console.error(`web-ext lint gave no JSON report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
      return 2;
    }
    const { problems, expected } = classify(report);
    for (const m of expected) console.log(`expected ${m.code} (${m.file ?? ''}): ${m.message}\n  why: ${m.reason}`);
    for (const m of problems) console.error(`${m.kind.toUpperCase()} ${m.code} ${m.file ?? ''}${m.line ? `:${m.line}` : ''}: ${m.message}`);
    console.log(`web-ext lint: ${report.summary?.errors ?? '?'} errors, ${report.summary?.warnings ?? '?'} warnings, `
      + `${report.summary?.notices ?? '?'} notices; ${expected.length} expected, ${problems.length} not`);
    return problems.length ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main());
