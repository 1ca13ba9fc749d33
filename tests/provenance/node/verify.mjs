// Read a file with c2pa-node (a second C2PA implementation) and print
// {"state": ..., "active_manifest": ..., "signer": ...} as JSON.
// Usage: node verify.mjs FILE MIME
import * as c2paNode from '@contentauth/c2pa-node';

const [path, mimeType] = process.argv.slice(2);
let store;
if (c2paNode.Reader?.fromAsset) {
  // c2pa-node >= 0.9 (neon bindings)
  const reader = await c2paNode.Reader.fromAsset({ path, mimeType });
  store = reader ? reader.json() : null;
} else {
  // c2pa-node 0.5 - 0.8
  const c2pa = c2paNode.createC2pa();
  store = await c2pa.read({ path, mimeType });
}
if (!store) {
  console.log(JSON.stringify({ state: 'none' }));
} else {
  const label = store.active_manifest?.label ?? store.active_manifest;
  const manifest = store.manifests?.[label] ?? store.active_manifest ?? {};
  const failures = (store.validation_status ?? []).filter(
    (s) => !String(s.code).endsWith('.untrusted'));
  console.log(JSON.stringify({
    state: store.validation_state ?? (failures.length ? 'Invalid' : 'Valid'),
    failures,
    active_manifest: label,
    signer: manifest.signature_info?.common_name ?? manifest.signatureInfo?.common_name,
  }));
}
