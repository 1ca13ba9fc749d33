#!/usr/bin/env node
// Compile contracts/src with solc-js and write ABI + bytecode JSON for the Python package.
//
//   node scripts/build-artifacts.mjs            write studio/core/chain/artifacts/<Name>.json
//   node scripts/build-artifacts.mjs --check    rebuild to a temp dir; exit 1 if they differ
//   node scripts/build-artifacts.mjs --bench --out DIR   also the bench-only contracts
//
// Compiler version and settings come from "solc" in package.json, so the output depends on
// nothing but the sources: keys are sorted and the metadata hash is left out of the bytecode.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = path.resolve(ROOT, '..', 'studio', 'core', 'chain', 'artifacts');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const config = pkg.solc;

function parseArgs(argv) {
  const opts = { check: false, bench: false, out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--check') opts.check = true;
    else if (argv[i] === '--bench') opts.bench = true;
    else if (argv[i] === '--out') opts.out = path.resolve(argv[++i]);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return opts;
}

function listSources(dir, rel = 'src') {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSources(full, `${rel}/${entry.name}`));
    else if (entry.name.endsWith('.sol')) found.push(`${rel}/${entry.name}`);
  }
  return found.sort();
}

/** Fail loudly if foundry.toml drifted from the settings the artifacts are built with. */
function checkFoundryConfig() {
  const toml = fs.readFileSync(path.join(ROOT, 'foundry.toml'), 'utf8');
  const want = {
    evm_version: `"${config.settings.evmVersion}"`,
    optimizer: String(config.settings.optimizer.enabled),
    optimizer_runs: String(config.settings.optimizer.runs),
    bytecode_hash: `"${config.settings.metadata.bytecodeHash}"`,
  };
  for (const [key, value] of Object.entries(want)) {
    const match = toml.match(new RegExp(`^${key}\\s*=\\s*(.+)$`, 'm'));
    if (!match || match[1].trim() !== value) {
      throw new Error(`foundry.toml ${key} must be ${value} to match package.json "solc"`);
    }
  }
}

function compile(sourceNames) {
  const solc = require('solc');
  const version = solc.version();
  if (!version.startsWith(`${config.version}+`)) {
    throw new Error(`solc-js is ${version}, package.json pins ${config.version}: run npm ci`);
  }
  const sources = {};
  for (const name of sourceNames) {
    sources[name] = { content: fs.readFileSync(path.join(ROOT, name), 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      ...config.settings,
      outputSelection: {
        '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] },
      },
    },
  };
  // Imports resolve inside contracts/ (src/...) or node_modules (@openzeppelin/...).
  const findImports = (importPath) => {
    for (const base of [ROOT, path.join(ROOT, 'node_modules')]) {
      const candidate = path.join(base, importPath);
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
    }
    return { error: `not found: ${importPath}` };
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  // Warnings inside OpenZeppelin (e.g. its transient-storage notice) are not ours to fix.
  const ours = (output.errors || []).filter(
    (e) => e.severity === 'error' || !e.sourceLocation?.file?.startsWith('@openzeppelin/'),
  );
  for (const e of ours) process.stderr.write(`${e.formattedMessage}\n`);
  if (errors.length) throw new Error(`compilation failed with ${errors.length} error(s)`);
  return { output, version: version.replace(/\.Emscripten.*$/, '') };
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function artifacts(names, { output, version }) {
  const byName = new Map();
  for (const [sourceName, contracts] of Object.entries(output.contracts)) {
    for (const [name, c] of Object.entries(contracts)) {
      if (sourceName.startsWith('src/') && names.includes(name)) byName.set(name, { sourceName, c });
    }
  }
  const files = {};
  for (const name of names) {
    const found = byName.get(name);
    if (!found) throw new Error(`contract ${name} not found in src/`);
    const artifact = {
      contractName: name,
      sourceName: found.sourceName,
      abi: found.c.abi,
      bytecode: `0x${found.c.evm.bytecode.object}`,
      deployedBytecode: `0x${found.c.evm.deployedBytecode.object}`,
      compiler: { version, settings: config.settings },
    };
    files[`${name}.json`] = `${JSON.stringify(sortKeys(artifact), null, 2)}\n`;
  }
  return files;
}

function build(opts) {
  checkFoundryConfig();
  const all = listSources(path.join(ROOT, 'src'));
  const sources = opts.bench ? all : all.filter((s) => !s.startsWith('src/bench/'));
  const names = [...config.artifacts, ...(opts.bench ? config.benchArtifacts : [])];
  return artifacts(names, compile(sources));
}

function write(files, dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
}

function check(files, dir) {
  const problems = [];
  const committed = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  for (const [file, text] of Object.entries(files)) {
    const target = path.join(dir, file);
    if (!fs.existsSync(target)) problems.push(`missing: ${file}`);
    else if (fs.readFileSync(target, 'utf8') !== text) problems.push(`stale: ${file}`);
  }
  for (const file of committed) if (!(file in files)) problems.push(`unexpected: ${file}`);
  return problems;
}

const opts = parseArgs(process.argv.slice(2));
const files = build(opts);
if (opts.check) {
  // Also write the fresh build to a temp dir, so a failing CI run can show the difference.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-artifacts-'));
  write(files, tmp);
  const problems = check(files, opts.out);
  if (problems.length) {
    process.stderr.write(
      `artifacts in ${path.relative(process.cwd(), opts.out) || '.'} are out of date ` +
        `(fresh build in ${tmp}):\n  ${problems.join('\n  ')}\n` +
        'run: node contracts/scripts/build-artifacts.mjs\n',
    );
    process.exitCode = 1;
  } else {
    fs.rmSync(tmp, { recursive: true, force: true });
    process.stdout.write(`artifacts up to date (${Object.keys(files).length} contracts)\n`);
  }
} else {
  write(files, opts.out);
  process.stdout.write(`wrote ${Object.keys(files).length} artifacts to ${opts.out}\n`);
}
