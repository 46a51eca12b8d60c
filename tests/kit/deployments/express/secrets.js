'use strict';
// Which config fields are secret, read once at start-up from the contract's
// JSON Schemas (contracts/schemas/config-*.json): a property marked
// `writeOnly: true` is secret; nested objects are walked. No hand-written list.
//
// A field secret for any type is kept secret whatever type it arrives with
// (a `session_token` sent with `type: azure` is still a token).

const fs = require('node:fs');
const path = require('node:path');

const DEFAULT_SCHEMA_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'contracts', 'schemas');

function walk(schema, prefix, out) {
  for (const [name, sub] of Object.entries(schema.properties || {})) {
    if (!sub || typeof sub !== 'object') continue;
    if (sub.writeOnly === true) out.push([...prefix, name]);
    else if (sub.type === 'object' && sub.properties) walk(sub, [...prefix, name], out);
  }
}

// Every secret path (an array of keys inside `config`) over every config schema.
function loadSecretPaths(dir = process.env.PLNX_SCHEMA_DIR || DEFAULT_SCHEMA_DIR) {
  const files = fs.readdirSync(dir).filter((f) => /^config-.+\.json$/.test(f));
  const seen = new Map();
  for (const file of files) {
    const found = [];
    walk(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')), [], found);
    for (const p of found) seen.set(p.join('.'), p);
  }
  if (seen.size === 0) {
    // Starting without knowing any secret field would echo them all.
    throw new Error(`no writeOnly config field found in ${dir}`);
  }
  return [...seen.values()];
}

// Split a config into [public, secrets]: `public` is a deep copy without the
// secret fields; `secrets` maps "a.b" paths to their values.
function splitSecrets(secretPaths, config) {
  const pub = structuredClone(config);
  const secrets = {};
  for (const p of secretPaths) {
    let node = pub;
    for (const part of p.slice(0, -1)) {
      node = node && typeof node === 'object' && !Array.isArray(node) ? node[part] : undefined;
    }
    const last = p[p.length - 1];
    if (node && typeof node === 'object' && !Array.isArray(node) && last in node) {
      secrets[p.join('.')] = node[last];
      delete node[last];
    }
  }
  return [pub, secrets];
}

module.exports = { loadSecretPaths, splitSecrets };
