'use strict';
// Field-level encryption at the edge: a Lambda@Edge origin-request handler
// (Include Body) that encrypts chosen fields of JSON and
// application/x-www-form-urlencoded bodies with RSA public keys
// (RSAES-OAEP SHA-256, the algorithm of KMS RSAES_OAEP_SHA_256) as
//
//   #<key id>#<base64 of the ciphertext of the UTF-8 value>#10#
//
// Key id "01" is the seed's marker ("#01#...#10#"): the default key. Other ids
// name other keys, so the decrypt side picks the KMS key by marker.
//
// Zero dependencies: Node's crypto only. Lambda@Edge has no environment
// variables, so config.json beside this file (written at synth by
// constructs/fieldencryption) holds the keys and the rules.
//
// It fails closed: a request whose body cannot be protected gets a 4xx with a
// one-line reason and never reaches the origin. Logs name fields, never values.

const crypto = require('node:crypto');

const SUFFIX = '#10#';
// CloudFront exposes at most 1 MB of the body to an origin-request function
// and accepts a replacement body of at most 1 MB.
const MAX_BODY = 1024 * 1024;
const KEY_ID = /^(0[1-9]|1[1-9]|[2-9][0-9])$/; // two digits, not 00 or 10 (the suffix)

class Refusal extends Error {
  constructor(status, reason, field) {
    super(reason);
    this.status = status;
    this.field = field;
  }
}

// compile checks a configuration and prepares it; a bad one throws at cold
// start, so CloudFront answers 5xx and nothing is forwarded.
function compile(cfg) {
  const where = 'fieldencryption config';
  if (!cfg || typeof cfg !== 'object') throw new Error(`${where}: expected an object`);
  const keys = new Map();
  for (const [id, pem] of Object.entries(cfg.keys || {})) {
    if (!KEY_ID.test(id)) throw new Error(`${where}: keys.${id}: expected a two-digit key id other than 00 and 10`);
    const key = crypto.createPublicKey(pem);
    const bits = key.asymmetricKeyDetails && key.asymmetricKeyDetails.modulusLength;
    if (key.asymmetricKeyType !== 'rsa' || !(bits >= 2048)) throw new Error(`${where}: keys.${id}: expected an RSA public key of at least 2048 bits`);
    keys.set(id, { key, prefix: `#${id}#`, limit: bits / 8 - 2 * 32 - 2 });
  }
  if (keys.size === 0) throw new Error(`${where}: keys: expected at least one public key`);
  const names = new Map();
  const paths = [];
  (cfg.fields || []).forEach((f, i) => {
    const key = keys.get(f.key || '01');
    if (!key) throw new Error(`${where}: fields[${i}].key: expected one of ${[...keys.keys()].join(', ')}, got ${JSON.stringify(f.key)}`);
    if (typeof f.name === 'string' && f.name !== '' && f.path === undefined) names.set(f.name, key);
    else if (typeof f.path === 'string' && f.name === undefined) paths.push({ segments: parsePath(f.path, `${where}: fields[${i}].path`), key, path: f.path });
    else throw new Error(`${where}: fields[${i}]: expected exactly one of name or path`);
  });
  if (names.size + paths.length === 0) throw new Error(`${where}: fields: expected at least one field`);
  const upper = (l) => (l || []).map((m) => String(m).toUpperCase());
  const lower = (l) => (l || []).map((m) => String(m).toLowerCase());
  return {
    keys, names, paths,
    methods: new Set(upper(cfg.methods || ['POST', 'PUT', 'PATCH'])),
    contentTypes: new Set(lower(cfg.contentTypes || ['application/json', 'application/x-www-form-urlencoded'])),
  };
}

// parsePath reads $.a.b, $[*].c, $.items[2].d into segments: a member name,
// '*' (every array element) or an array index (a number).
function parsePath(p, where) {
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\*|[0-9]+)\]/y;
  if (!p.startsWith('$')) throw new Error(`${where}: expected a path starting with $, got ${JSON.stringify(p)}`);
  const out = [];
  re.lastIndex = 1;
  while (re.lastIndex < p.length) {
    const at = re.lastIndex;
    const m = re.exec(p);
    if (!m) throw new Error(`${where}: expected .name, ["name"], [*] or [N] at character ${at} of ${JSON.stringify(p)}`);
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(JSON.parse(`"${m[2]}"`));
    else out.push(m[3] === '*' ? '*' : Number(m[3]));
  }
  if (out.length === 0) throw new Error(`${where}: expected a path below $, got "$"`);
  return out;
}

function encryptValue(key, text, field) {
  const plain = Buffer.from(text, 'utf8');
  if (plain.length > key.limit) {
    throw new Refusal(400, `field ${field}: value is ${plain.length} bytes, RSA-OAEP SHA-256 with this key holds at most ${key.limit}`, field);
  }
  const ct = crypto.publicEncrypt({ key: key.key, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plain);
  return key.prefix + ct.toString('base64') + SUFFIX;
}

// ---- JSON: a strict RFC 8259 scanner that keeps every byte it does not encrypt.

const utf8 = new TextDecoder('utf-8', { fatal: true });

function protectJSON(cfg, text) {
  const s = new Scanner(text);
  const edits = [];
  s.ws();
  s.value([], null, edits, cfg);
  s.ws();
  if (s.i !== text.length) s.fail('expected the end of the document');
  if (edits.length === 0) return { body: text, fields: [] };
  let out = '';
  let done = 0;
  for (const e of edits) {
    out += text.slice(done, e.start) + '"' + e.marker + '"';
    done = e.end;
  }
  return { body: out + text.slice(done), fields: edits.map((e) => e.field) };
}

class Scanner {
  constructor(t) { this.t = t; this.i = 0; }
  fail(what) { throw new Refusal(400, `body: malformed JSON: ${what} at character ${this.i}`); }
  ws() {
    const t = this.t;
    let c;
    while ((c = t.charCodeAt(this.i)) === 32 || c === 9 || c === 10 || c === 13) this.i++;
  }
  // value reads one JSON value at path; sel is the key that encrypts it
  // (a chosen field or an element of a chosen list), or null.
  value(path, sel, edits, cfg) {
    const c = this.t[this.i];
    if (c === '{') return this.object(path, sel, edits, cfg);
    if (c === '[') return this.array(path, sel, edits, cfg);
    if (c === '"') {
      const start = this.i;
      const v = this.string();
      if (sel) edits.push({ start, end: this.i, marker: encryptValue(sel, v, render(path)), field: render(path) });
      return;
    }
    if (c === undefined) this.fail('unexpected end of the document');
    if (c === 'n') return this.literal('null');
    if (sel) throw new Refusal(400, `field ${render(path)}: expected a string or a list of strings, got ${c === 't' || c === 'f' ? 'true or false' : 'a number'}`, render(path));
    if (c === 't') return this.literal('true');
    if (c === 'f') return this.literal('false');
    this.number();
  }
  object(path, sel, edits, cfg) {
    if (sel) throw new Refusal(400, `field ${render(path)}: expected a string or a list of strings, got an object`, render(path));
    this.i++;
    this.ws();
    if (this.t[this.i] === '}') { this.i++; return; }
    for (;;) {
      this.ws();
      if (this.t[this.i] !== '"') this.fail('expected a member name');
      const name = this.string();
      this.ws();
      if (this.t[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.ws();
      const p = path.concat([name]);
      this.value(p, choose(cfg, p, name), edits, cfg);
      this.ws();
      const d = this.t[this.i++];
      if (d === '}') return;
      if (d !== ',') { this.i--; this.fail("expected ',' or '}'"); }
    }
  }
  array(path, sel, edits, cfg) {
    this.i++;
    this.ws();
    if (this.t[this.i] === ']') { this.i++; return; }
    for (let n = 0; ; n++) {
      this.ws();
      const p = path.concat([n]);
      this.value(p, sel || choose(cfg, p, null), edits, cfg);
      this.ws();
      const d = this.t[this.i++];
      if (d === ']') return;
      if (d !== ',') { this.i--; this.fail("expected ',' or ']'"); }
    }
  }
  string() {
    const t = this.t;
    const start = ++this.i;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(this.i);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 34) break;
      if (c < 32) this.fail('control character in a string');
      if (c === 92) {
        escaped = true;
        const e = t[this.i + 1];
        if (e === 'u') {
          if (!/^[0-9A-Fa-f]{4}$/.test(t.substr(this.i + 2, 4))) this.fail('bad \\u escape');
          this.i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e) || e === undefined) this.fail('bad escape');
        this.i += 2;
        continue;
      }
      this.i++;
    }
    const raw = t.slice(start, this.i++);
    return escaped ? JSON.parse('"' + raw + '"') : raw;
  }
  literal(word) {
    if (this.t.startsWith(word, this.i)) { this.i += word.length; return; }
    this.fail('unexpected character');
  }
  number() {
    const re = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    re.lastIndex = this.i;
    const m = re.exec(this.t);
    if (!m || m[0] === '' || m[0] === '-') this.fail('unexpected character');
    this.i += m[0].length;
  }
}

// choose returns the key of the first rule that selects the value at path:
// a member name (at any depth) or a path.
function choose(cfg, path, name) {
  for (const r of cfg.paths) {
    if (r.segments.length === path.length && r.segments.every((s, i) => s === '*' ? typeof path[i] === 'number' : s === path[i])) return r.key;
  }
  return name !== null ? cfg.names.get(name) || null : null;
}

// render names a field as a path: $[0].ssn, $.customer["e-mail"].
function render(path) {
  let out = '$';
  for (const s of path) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) out += '.' + s;
    else out += '[' + JSON.stringify(s) + ']';
  }
  return out;
}

// ---- application/x-www-form-urlencoded

// protectForm encrypts the values of chosen names. A marker is written
// form-encoded: '#' stays (it has no meaning in a form body), and the base64
// '+', '/' and '=' become %2B, %2F and %3D, so any form parser reads back
// "#01#<base64>#10#". Pairs not chosen are kept byte for byte.
function protectForm(cfg, text) {
  const fields = [];
  const pairs = text.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = formDecode(rawName, 'a field name');
    const key = cfg.names.get(name);
    if (!key) return pair;
    const value = formDecode(eq < 0 ? '' : pair.slice(eq + 1), `the value of field ${name}`, name);
    fields.push(name);
    const marker = encryptValue(key, value, name);
    return rawName + '=' + marker.replace(/\+/g, '%2B').replace(/\//g, '%2F').replace(/=/g, '%3D');
  });
  return { body: fields.length ? pairs.join('&') : text, fields };
}

function formDecode(s, what, field) {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new Refusal(400, `body: malformed form encoding in ${what}`, field);
  }
}

// ---- the origin-request handler

function contentType(headers) {
  const h = headers && headers['content-type'];
  if (!h || h.length === 0) return { type: '', charset: '' };
  const [type, ...params] = h[0].value.split(';');
  let charset = '';
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k && k.trim().toLowerCase() === 'charset' && v) charset = v.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

// protect returns the request to forward, or throws a Refusal.
function protect(cfg, request) {
  const method = String(request.method || '').toUpperCase();
  const body = request.body;
  const hasBody = body && typeof body.data === 'string' && body.data !== '';
  if (!cfg.methods.has(method)) {
    if (hasBody || (body && body.inputTruncated)) throw new Refusal(405, `method ${method}: bodies are accepted only with ${[...cfg.methods].join(', ')}`);
    return { request, fields: [] };
  }
  if (!body) throw new Refusal(500, 'body: not included: the origin-request trigger must set IncludeBody');
  if (body.inputTruncated) throw new Refusal(413, 'body: over the 1 MB that CloudFront passes to Lambda@Edge (inputTruncated); not forwarded');
  if (!hasBody) throw new Refusal(400, 'body: expected a body, got none');
  const ct = contentType(request.headers);
  if (!cfg.contentTypes.has(ct.type)) throw new Refusal(415, `content-type: expected one of ${[...cfg.contentTypes].join(', ')}, got ${ct.type ? JSON.stringify(ct.type) : 'none'}`);
  if (ct.charset && ct.charset !== 'utf-8' && ct.charset !== 'utf8') throw new Refusal(415, `content-type: expected charset utf-8, got ${JSON.stringify(ct.charset)}`);
  let bytes;
  if (body.encoding === 'base64') bytes = Buffer.from(body.data, 'base64');
  else if (body.encoding === 'text') bytes = Buffer.from(body.data, 'utf8');
  else throw new Refusal(500, `body: encoding: expected base64 or text, got ${JSON.stringify(body.encoding)}`);
  let text;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Refusal(400, 'body: expected UTF-8 text');
  }
  const out = ct.type === 'application/x-www-form-urlencoded' ? protectForm(cfg, text) : protectJSON(cfg, text);
  let forwardedBytes = bytes;
  if (out.fields.length > 0) {
    forwardedBytes = Buffer.from(out.body, 'utf8');
    if (forwardedBytes.length > MAX_BODY) throw new Refusal(413, `body: ${forwardedBytes.length} bytes once encrypted, over the 1 MB CloudFront accepts from Lambda@Edge`);
    request.body = { action: 'replace', encoding: 'base64', data: forwardedBytes.toString('base64'), inputTruncated: false };
  }
  // Origin access control signs requests to a Lambda function URL, which
  // takes no unsigned payload: a PUT or POST must carry the SHA-256 of the
  // body it forwards, which only this function knows once it has replaced it.
  request.headers = request.headers || {};
  request.headers['x-amz-content-sha256'] = [{ key: 'X-Amz-Content-Sha256', value: crypto.createHash('sha256').update(forwardedBytes).digest('hex') }];
  return { request, fields: out.fields };
}

const REASONS = { 400: 'Bad Request', 405: 'Method Not Allowed', 413: 'Content Too Large', 415: 'Unsupported Media Type', 500: 'Internal Server Error' };

function refuse(status, reason) {
  return {
    status: String(status),
    statusDescription: REASONS[status] || 'Bad Request',
    headers: {
      'content-type': [{ key: 'Content-Type', value: 'text/plain; charset=utf-8' }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
    },
    body: `field-level encryption: ${reason}\n`,
  };
}

function log(entry) {
  console.log(JSON.stringify(entry));
}

// newHandler returns the origin-request handler for a configuration.
function newHandler(config) {
  const cfg = compile(config);
  return async function handler(event) {
    const cf = event && event.Records && event.Records[0] && event.Records[0].cf;
    const requestId = cf && cf.config ? cf.config.requestId : undefined;
    if (!cf || !cf.request) {
      log({ level: 'ERROR', msg: 'field-level encryption', requestId, error: 'event: expected a CloudFront origin-request event' });
      return refuse(500, 'event: expected a CloudFront origin-request event');
    }
    try {
      const { request, fields } = protect(cfg, cf.request);
      log({ level: 'INFO', msg: 'field-level encryption', requestId, fields });
      return request;
    } catch (err) {
      if (!(err instanceof Refusal)) {
        // Never forward on an unexpected error; its message may not name a value.
        log({ level: 'ERROR', msg: 'field-level encryption', requestId, error: 'internal error' });
        return refuse(500, 'internal error; not forwarded');
      }
      log({ level: 'WARN', msg: 'field-level encryption refused', requestId, status: err.status, field: err.field, reason: err.message });
      return refuse(err.status, err.message);
    }
  };
}

module.exports = { newHandler };
// In the bundle, config.json sits beside this file; tests call newHandler.
try {
  module.exports.handler = newHandler(require('./config.json'));
} catch (err) {
  if (err && err.code !== 'MODULE_NOT_FOUND') throw err;
}
