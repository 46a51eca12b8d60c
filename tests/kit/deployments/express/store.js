'use strict';
// The credentials of every workspace, in memory. Public settings and secret
// values live in two separate maps; only the public one is ever rendered.

const crypto = require('node:crypto');

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const notFound = () => new ApiError(404, 'NOT_FOUND', 'No credential with this id.');

// Merge `changes` into `base` key by key; null removes a key (nested objects merge).
function merge(base, changes) {
  const out = structuredClone(base);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = merge(out[key], value);
    else out[key] = structuredClone(value);
  }
  return out;
}

function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

class Store {
  constructor(split, bug) {
    this.split = split; // config -> [public, secrets]
    this.bug = bug;
    this.records = new Map(); // id -> record (public settings only)
    this.secrets = new Map(); // id -> { "a.b": value }: never rendered
    this.seq = 0;
    this.lastMs = 0;
  }

  // ISO 8601 with milliseconds and `Z`; never earlier than a stamp already given.
  now() {
    this.lastMs = Math.max(this.lastMs, Date.now());
    return new Date(this.lastMs).toISOString();
  }

  view(rec) {
    const out = {
      id: rec.id,
      name: rec.name,
      type: rec.type,
      status: rec.status,
      created_at: rec.created_at,
      updated_at: rec.updated_at,
      deleted_at: rec.deleted_at,
      config: structuredClone(rec.config),
    };
    if (rec.status !== 'deleted') delete out.deleted_at;
    return out;
  }

  find(ws, id) {
    const rec = this.records.get(id);
    if (!rec || (rec.ws !== ws && this.bug !== 'isolation')) throw notFound();
    return rec;
  }

  findActive(ws, id) {
    const rec = this.find(ws, id);
    if (rec.status === 'deleted') {
      throw new ApiError(409, 'CREDENTIAL_DELETED', 'The credential is deleted; restore it first.');
    }
    return rec;
  }

  // Names are unique among the workspace's active credentials.
  claimName(ws, name, exceptId) {
    for (const rec of this.records.values()) {
      if (rec.ws === ws && rec.name === name && rec.id !== exceptId && rec.status === 'active') {
        throw new ApiError(409, 'NAME_TAKEN', "Field 'name' is already used in this workspace.");
      }
    }
  }

  list(ws, { status, type, afterSeq, limit }) {
    const rows = [...this.records.values()]
      .filter((r) => r.ws === ws && r.seq > afterSeq)
      .filter((r) => status === 'all' || r.status === status)
      .filter((r) => !type || r.type === type)
      .sort((a, b) => a.seq - b.seq);
    const page = rows.slice(0, limit);
    const next = rows.length > limit ? page[page.length - 1].seq : null;
    return { items: page.map((r) => this.view(r)), next };
  }

  create(ws, body) {
    this.claimName(ws, body.name, null);
    const [config, secrets] = this.split(body.config);
    const stamp = this.now();
    this.seq += 1;
    const rec = {
      id: `cred_${crypto.randomBytes(10).toString('hex')}`,
      seq: this.seq,
      ws,
      name: body.name,
      type: body.type,
      status: 'active',
      created_at: stamp,
      updated_at: stamp,
      deleted_at: null,
      config,
    };
    this.records.set(rec.id, rec);
    this.secrets.set(rec.id, dropNulls(secrets));
    const out = this.view(rec);
    const first = Object.values(secrets).find((v) => typeof v === 'string' && v.length >= 8);
    if (this.bug === 'leak' && first) out.config.hint = first.slice(0, 8);
    return out;
  }

  update(ws, id, body) {
    const rec = this.findActive(ws, id);
    if (body.type !== undefined && body.type !== rec.type) {
      throw new ApiError(400, 'TYPE_IMMUTABLE', "Field 'type' cannot change; create a new credential.");
    }
    if (body.name !== undefined) this.claimName(ws, body.name, id);
    if (body.config !== undefined) {
      const [config, secrets] = this.split(body.config);
      rec.config = merge(rec.config, config);
      this.secrets.set(id, dropNulls({ ...this.secrets.get(id), ...secrets }));
    }
    if (body.name !== undefined) rec.name = body.name;
    rec.updated_at = this.now();
    return this.view(rec);
  }

  softDelete(ws, id) {
    const rec = this.find(ws, id);
    if (rec.status === 'deleted') {
      throw new ApiError(409, 'ALREADY_DELETED', 'The credential is already deleted.');
    }
    rec.status = 'deleted';
    rec.deleted_at = this.now();
    rec.updated_at = rec.deleted_at;
    return { id: rec.id, status: 'deleted', deleted_at: rec.deleted_at };
  }

  restore(ws, id) {
    const rec = this.find(ws, id);
    if (rec.status !== 'deleted') {
      throw new ApiError(409, 'NOT_DELETED', 'The credential is not deleted.');
    }
    this.claimName(ws, rec.name, id);
    rec.status = 'active';
    rec.deleted_at = null;
    if (this.bug === 'lifecycle') {
      // The bug: restore stamps created_at anew (at least 1 ms later, so it shows).
      this.lastMs = Math.max(this.lastMs, Date.parse(rec.created_at) + 1);
      rec.updated_at = this.now();
      rec.created_at = rec.updated_at;
    } else {
      rec.updated_at = this.now();
    }
    return { id: rec.id, status: 'active', deleted_at: null };
  }

  purge(ws, id) {
    const rec = this.find(ws, id);
    this.records.delete(rec.id);
    this.secrets.delete(rec.id);
    return { id: rec.id, purged: true };
  }
}

function dropNulls(secrets) {
  return Object.fromEntries(Object.entries(secrets).filter(([, v]) => v !== null));
}

module.exports = { ApiError, Store };
