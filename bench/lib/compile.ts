/**
 * Bench child processes run as plain CommonJS under `node`, never through tsx: a TypeScript
 * loader would add its own start-up CPU to every whole-process figure. The clients in
 * bench/clients are transpiled once per bench run into bench/results/tmp/clients, and our
 * library is compiled from src/ into bench/results/tmp/dist (private outDir, so a bench run
 * never touches the package's dist/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './gst-server';

export const TMP = join(ROOT, 'bench', 'results', 'tmp');
export const CLIENTS = join(TMP, 'clients');
export const DIST = join(TMP, 'dist');

export function compileClients(): void {
  mkdirSync(CLIENTS, { recursive: true });
  const dir = join(ROOT, 'bench', 'clients');
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.ts')) continue;
    const out = ts.transpileModule(readFileSync(join(dir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(CLIENTS, f.replace(/\.ts$/, '.cjs')), out.outputText);
  }
}

/** Compiles src/ (tsc emits even when some half-written file has type errors). */
export function compileLibrary(): boolean {
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', DIST,
      '--declaration', 'false', '--sourceMap', 'false'], { cwd: ROOT, stdio: 'pipe' });
  } catch (e) {
    const out = (e as { stdout?: Buffer }).stdout?.toString() ?? '';
    process.stderr.write(`bench: tsc reported errors in src/ (emitting anyway):\n${out.split('\n').slice(0, 8).join('\n')}\n`);
  }
  return existsSync(join(DIST, 'index.js'));
}

export const clientPath = (name: string): string => join(CLIENTS, `${name}.cjs`);
