'use strict';
// A Planasonix Credentials API on Express, written from the published page
// alone. See README.md for the readings it takes where the page is silent.
//
// Usage: node server.js [PORT]   (or PORT=...; 0 picks a free port)
// Prints "listening on http://127.0.0.1:PORT" once it accepts connections.
// BUG=leak|isolation|lifecycle makes a one-bug copy.

const express = require('express');
const { loadSecretPaths, splitSecrets } = require('./secrets');
const { ApiError, Store } = require('./store');

const TYPES = ['aws', 'azure', 'gcp', 'database', 'api_key', 'oauth', 'password'];
const KEYS = { plnx_ind_a: 'ws_a', plnx_ind_b: 'ws_b' };
const READ_ONLY_KEYS = { plnx_ind_ro: 'ws_a' };
const PREFIXES = ['/api/credentials', '/v1/api/credentials'];
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const refused = (message) => new ApiError(400, 'VALIDATION_FAILED', message);

function authenticate(req, res, next) {
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(req.get('Authorization') || '');
  const key = match ? match[1] : '';
  const ws = KEYS[key] || READ_ONLY_KEYS[key];
  if (!ws) {
    res.set('WWW-Authenticate', 'Bearer');
    return next(new ApiError(401, 'UNAUTHENTICATED', 'Send a valid API key as Authorization: Bearer.'));
  }
  if (key in READ_ONLY_KEYS && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    return next(new ApiError(403, 'FORBIDDEN', 'This API key may only read credentials.'));
  }
  req.workspace = ws;
  return next();
}

// The body as JSON (whatever its Content-Type), or undefined when none was sent.
function jsonBody(req) {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8'));
  } catch {
    // JSON.parse's own message quotes the input, which may hold a secret.
    throw refused('The body is not valid JSON.');
  }
}

function checkName(value) {
  if (typeof value !== 'string' || !value.trim() || value.length > 255 || CONTROL.test(value)) {
    throw refused("Field 'name' must be 1 to 255 characters, not blank, without control characters.");
  }
}

function checkBody(body, { partial }) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw refused('The body must be a JSON object.');
  }
  for (const field of Object.keys(body)) {
    if (!['name', 'type', 'config'].includes(field)) {
      // Named only when it looks like a field name: a key could carry anything.
      const named = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(field) ? `Field '${field}'` : 'A field';
      throw refused(`${named} is not known; send name, type and config.`);
    }
  }
  for (const field of ['name', 'type', 'config']) {
    if (body[field] === undefined) {
      if (!partial) throw refused(`Field '${field}' is required.`);
      continue;
    }
    const value = body[field];
    if (field === 'name') checkName(value);
    if (field === 'type' && !TYPES.includes(value)) {
      throw refused(`Field 'type' must be one of ${TYPES.join(', ')}.`);
    }
    if (field === 'config' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw refused("Field 'config' must be an object.");
    }
  }
  return body;
}

function single(query, name) {
  const value = query[name];
  if (value !== undefined && typeof value !== 'string') {
    throw refused(`Parameter '${name}' must be given once.`);
  }
  return value;
}

function listOptions(query) {
  const rawLimit = single(query, 'limit');
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : Number(rawLimit);
  if (!/^\d+$/.test(rawLimit ?? '1') || limit < 1 || limit > MAX_LIMIT) {
    throw refused(`Parameter 'limit' must be an integer from 1 to ${MAX_LIMIT}.`);
  }
  const status = single(query, 'status') ?? 'all';
  if (!['active', 'deleted', 'all'].includes(status)) {
    throw refused("Parameter 'status' must be active, deleted or all.");
  }
  const type = single(query, 'type');
  if (type !== undefined && !TYPES.includes(type)) {
    throw refused(`Parameter 'type' must be one of ${TYPES.join(', ')}.`);
  }
  return { limit, status, type, afterSeq: decodeCursor(single(query, 'cursor')) };
}

// The cursor is opaque to clients: base64url of {"after": <sequence number>}.
function decodeCursor(cursor) {
  if (!cursor) return 0;
  try {
    const after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')).after;
    if (Number.isInteger(after) && after >= 0) return after;
  } catch {
    // refused below
  }
  throw refused("Parameter 'cursor' is not a cursor this API gave out.");
}

const encodeCursor = (seq) => Buffer.from(JSON.stringify({ after: seq })).toString('base64url');

const notAllowed = (allow) => (req, res, next) => {
  res.set('Allow', allow);
  next(new ApiError(405, 'METHOD_NOT_ALLOWED', `Use ${allow} here.`));
};

function credentialsRouter(store) {
  const router = express.Router();
  router.use(authenticate);
  router
    .route('/')
    .get((req, res) => {
      const options = listOptions(req.query);
      const { items, next } = store.list(req.workspace, options);
      const cursor = next === null ? null : encodeCursor(next);
      res.json({ data: items, meta: { page: { limit: options.limit, cursor } } });
    })
    .post((req, res) => {
      const body = checkBody(jsonBody(req), { partial: false });
      res.status(201).json({ data: store.create(req.workspace, body) });
    })
    .all(notAllowed('GET, POST'));
  router
    .route('/:id')
    .get((req, res) => res.json({ data: store.view(store.find(req.workspace, req.params.id)) }))
    .put((req, res) => {
      const body = checkBody(jsonBody(req), { partial: true });
      res.json({ data: store.update(req.workspace, req.params.id, body) });
    })
    .delete((req, res) => res.json({ data: store.softDelete(req.workspace, req.params.id) }))
    .all(notAllowed('GET, PUT, DELETE'));
  router
    .route('/:id/restore')
    .post((req, res) => res.json({ data: store.restore(req.workspace, req.params.id) }))
    .all(notAllowed('POST'));
  router
    .route('/:id/permanent')
    .delete((req, res) => res.json({ data: store.purge(req.workspace, req.params.id) }))
    .all(notAllowed('DELETE'));
  return router;
}

// Error bodies: {"error": "<message>", "code": "<CODE>"}. Messages are fixed
// strings of this file: never the request, never an exception's own text.
function errorBody(err, req, res, next) {
  if (res.headersSent) return next(err);
  let failure = err;
  if (!(err instanceof ApiError)) {
    failure =
      err && err.type === 'entity.too.large'
        ? new ApiError(413, 'BODY_TOO_LARGE', 'The body is larger than 1 MiB.')
        : err && err.status >= 400 && err.status < 500
          ? refused('The request could not be read.')
          : new ApiError(500, 'INTERNAL', 'Something went wrong.');
  }
  return res.status(failure.status).json({ error: failure.message, code: failure.code });
}

function build(bug) {
  const secretPaths = loadSecretPaths();
  const store = new Store((config) => splitSecrets(secretPaths, config), bug);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.raw({ type: () => true, limit: '1mb' }));
  app.use(PREFIXES, credentialsRouter(store));
  app.use((req, res, next) => next(new ApiError(404, 'NOT_FOUND', 'No such route.')));
  app.use(errorBody);
  return app;
}

function main() {
  const bug = process.env.BUG || null;
  if (bug && !['leak', 'isolation', 'lifecycle'].includes(bug)) {
    console.error('BUG must be leak, isolation or lifecycle');
    process.exit(2);
  }
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  const server = build(bug).listen(port, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
  // Longer than any client pool keeps an idle connection: no reset mid-request.
  server.keepAliveTimeout = 65000;
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main();

module.exports = { build };
