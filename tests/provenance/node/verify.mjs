// Read a file with c2pa-wasm (c2pa-rs compiled to WebAssembly: a second reader, independent
// of c2pa-python's native build) and print one JSON line:
// {"state", "active_manifest", "signer", "codes": {"success", "informational", "failure"}}.
// Usage: node verify.mjs FILE MIME [TRUST_ANCHORS_PEM_FILE]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, WasmReader } from '@contentauth/c2pa-wasm';

const require = createRequire(import.meta.url);
initSync({ module: readFileSync(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });

const [path, mimeType, anchors] = process.argv.slice(2);
const context = { verify: { verify_trust: true, remote_manifest_fetch: false } };
if (anchors) context.trust = { user_anchors: readFileSync(anchors, 'utf8') };
let reader;
try {
  reader = await WasmReader.fromBytes(mimeType, new Uint8Array(readFileSync(path)),
    JSON.stringify(context));
} catch (err) {
  console.log(JSON.stringify({ state: 'error', error: String(err?.message ?? err) }));
  process.exit(0);
}
const store = JSON.parse(reader.json());
const label = store.active_manifest;
const active = store.manifests?.[label] ?? {};
const results = store.validation_results?.activeManifest ?? {};
const codes = (key) => (results[key] ?? []).map((s) => s.code);
console.log(JSON.stringify({
  state: store.validation_state,
  active_manifest: label,
  signer: active.signature_info?.common_name,
  codes: { success: codes('success'), informational: codes('informational'),
           failure: codes('failure') },
}));
