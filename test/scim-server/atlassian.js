// Fake of Atlassian Cloud's user provisioning (SCIM) API for the ldap2scim
// test suite (issue 6, `scim.profile: atlassian`). Hand-written SCIM handling,
// no scimmy: it does what Atlassian documents, including where that differs
// from RFC 7643/7644. Everything lives in memory.
//
//   node atlassian.js --port 0 --token-file FILE [--port-file FILE]
//                     [--verified-domain DOMAIN]... [--directory-id ID] [--verbose]
//
// Quirks encoded, each with the documented Atlassian behaviour it stands for
// (developer.atlassian.com "User provisioning REST API" and the Atlassian
// support articles on filtering and paging provisioned users):
//
//  1. Base path /scim/directory/<directoryId>/ (default id d-test): every
//     provisioning directory has its own base URL under api.atlassian.com.
//  2. Bearer API key only; anything else is 401 with a SCIM error body. The
//     key belongs to one directory, so another directory id answers 404.
//  3. ServiceProviderConfig: PATCH and filtering yes (at most 100 results);
//     bulk, sorting, ETags and password change no. /Bulk answers 501: the
//     API offers no bulk endpoint.
//  4. Filtering is a single exact match: `userName eq "..."` or
//     `externalId eq "..."` on Users, `displayName eq "..."` or
//     `externalId eq "..."` on Groups. Any other operator, a logical
//     combination, grouping or another attribute is 400 invalidFilter.
//     userName and displayName compare case-insensitively (the service
//     treats them as unique regardless of case).
//  5. Paging with startIndex and count; a page holds at most 100 resources
//     (the documented page size), sortBy is ignored (sorting unsupported).
//  6. Creating a user needs userName and emails, with exactly one email
//     marked primary; the primary email's domain must be a domain verified
//     in the organisation (--verified-domain), else 400. The same rules hold
//     for the result of every PUT and PATCH.
//  7. userName (case-insensitive) and externalId are unique in a directory:
//     409 uniqueness. Group displayName likewise (case-insensitive).
//  8. The enterprise user extension (department, organization, costCenter,
//     division, employeeNumber, manager) is accepted and stored.
//  9. PUT replaces the whole user: attributes left out are cleared (active
//     falls back to true, as on creation). PATCH changes only what it names;
//     add/replace/remove with or without path, `name.givenName`,
//     `emails[type eq "work"].value`, `active`, enterprise attributes.
// 10. DELETE /Users/{id} deactivates: Atlassian keeps the account and only
//     switches it off. Here it stays readable with GET (active=false) and
//     keeps its group memberships; /_test/stats counts it in userDeletes and
//     marks the log entry, so a test can prove the agent never sends it.
//     (The real service then hides the user from later requests with 404;
//     keeping it readable lets tests look at it.)
// 11. Group rename is unsupported: a PATCH or PUT that changes displayName
//     is 400 (the documented workaround is create new, move members, delete
//     old). PATCH adds and removes members (value = user id; a member must
//     be a user of this directory, 400 otherwise; groups do not nest);
//     `members[value eq "ID"]` removes one. DELETE /Groups/{id} removes it.
// 12. Answers are application/json; meta carries no version (no ETags).
//
// Test-only admin routes (no auth; loopback only), as in server.js:
//   GET /_test/dump            {Users:[...], Groups:[...]} as stored
//   GET /_test/stats[?log=0]   {requests, writes, byMethod, userDeletes, log}
//   POST /_test/reset-stats, POST /_test/reset
//   POST /_test/seed           {Users, Groups}: kept ids and meta, uniqueness
//                              and member rules apply, email rules do not

import crypto from "node:crypto";
import fs from "node:fs";
import process from "node:process";
import express from "express";

const MAX_RESULTS = 100;
const BODY_LIMIT = "64mb";
const CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const MSG = "urn:ietf:params:scim:api:messages:2.0:";
const PATCH_OP = `${MSG}PatchOp`;

function usage(msg) {
    if (msg) process.stderr.write(`atlassian-fake: ${msg}\n`);
    process.stderr.write("usage: node atlassian.js --port PORT --token-file FILE [--port-file FILE]"
        + " [--verified-domain DOMAIN]... [--directory-id ID] [--verbose]\n");
    process.exit(2);
}

function parseArgs(argv) {
    const opts = {port: 0, tokenFile: null, portFile: null, verbose: false,
        directoryId: "d-test", domains: new Set()};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) usage(`option '${arg}' needs a value`);
            return argv[++i];
        };
        if (arg === "--port") opts.port = Number(value());
        else if (arg === "--token-file") opts.tokenFile = value();
        else if (arg === "--port-file") opts.portFile = value();
        else if (arg === "--verified-domain") opts.domains.add(value().toLowerCase());
        else if (arg === "--directory-id") opts.directoryId = value();
        else if (arg === "--verbose" || arg === "-v") opts.verbose = true;
        else if (arg === "--help" || arg === "-h") usage();
        else usage(`unknown option '${arg}'`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage("invalid port");
    if (!opts.tokenFile) usage("--token-file is required");
    if (!/^[\w.-]+$/.test(opts.directoryId)) usage(`invalid directory id '${opts.directoryId}'`);
    return opts;
}

const opts = parseArgs(process.argv.slice(2));
const BASE_PATH = `/scim/directory/${opts.directoryId}`;

// Re-read on every request so a test can rotate the token while the fake
// runs. A single trailing newline is stripped.
function readToken() {
    const raw = fs.readFileSync(opts.tokenFile, "utf8");
    return raw.endsWith("\n") ? raw.slice(0, -1).replace(/\r$/, "") : raw;
}

try {
    if (!readToken().length) usage(`token file '${opts.tokenFile}' is empty`);
} catch (ex) {
    usage(`cannot read token file '${opts.tokenFile}': ${ex.code ?? ex.message}`);
}

// ---------------------------------------------------------------------------
// errors

class ScimError extends Error {
    constructor(status, detail, scimType) {
        super(detail);
        this.status = status;
        this.scimType = scimType;
    }
}

const fail = (status, detail, scimType) => {
    throw new ScimError(status, detail, scimType);
};

function sendError(res, status, detail, scimType) {
    const body = {schemas: [`${MSG}Error`], status: String(status), ...(scimType ? {scimType} : {}), detail};
    res.status(status).type("application/json").send(JSON.stringify(body));
}

// ---------------------------------------------------------------------------
// storage

const store = {
    Users: new Map(),        // id -> stored user
    Groups: new Map(),       // id -> stored group
    userNames: new Map(),    // lower-cased userName -> id
    externalIds: new Map(),  // externalId -> user id
    groupNames: new Map(),   // lower-cased displayName -> id
};

const stats = {requests: 0, writes: 0, byMethod: {}, userDeletes: 0, log: []};

function resetStats() {
    Object.assign(stats, {requests: 0, writes: 0, byMethod: {}, userDeletes: 0, log: []});
}

function resetData() {
    for (const map of Object.values(store)) map.clear();
}

const clone = (value) => JSON.parse(JSON.stringify(value));
const now = () => new Date().toISOString();
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const lower = (v) => (typeof v === "string" ? v.toLowerCase() : v);

let publicBase = `http://127.0.0.1${BASE_PATH}`;

// Attribute names are case-insensitive in SCIM; stored resources use these
// spellings.
const CANONICAL = new Map([
    "schemas", "id", "externalId", "meta", "userName", "name", "formatted", "familyName", "givenName",
    "middleName", "honorificPrefix", "honorificSuffix", "displayName", "nickName", "title",
    "preferredLanguage", "locale", "timezone", "active", "emails", "phoneNumbers", "value", "type",
    "primary", "display", "members", "groups", "department", "organization", "costCenter", "division",
    "employeeNumber", "manager", "userType", "profileUrl", "addresses",
].map((name) => [name.toLowerCase(), name]));

// the key of obj that spells name (any case), else the canonical spelling
function keyIn(obj, name) {
    const want = name.toLowerCase();
    if (isObject(obj)) for (const key of Object.keys(obj)) if (key.toLowerCase() === want) return key;
    return CANONICAL.get(want) ?? name;
}

// a copy of body with canonical top-level names, the extension under its
// URN, and id, meta and schemas left out
function normalizeBody(body, kind) {
    if (!isObject(body)) fail(400, "request body must be a JSON object", "invalidSyntax");
    const out = {};
    for (const [key, value] of Object.entries(body)) {
        const low = key.toLowerCase();
        if (low === "id" || low === "meta" || low === "schemas") continue;
        if (kind === "Users" && low === ENTERPRISE.toLowerCase()) {
            if (!isObject(value)) fail(400, `'${ENTERPRISE}' must be an object`, "invalidValue");
            out[ENTERPRISE] = {...(out[ENTERPRISE] ?? {}), ...canonicalKeys(value)};
        } else if (kind === "Users" && low.startsWith(`${ENTERPRISE.toLowerCase()}:`)) {
            const attr = keyIn(null, key.slice(ENTERPRISE.length + 1));
            out[ENTERPRISE] = {...(out[ENTERPRISE] ?? {}), [attr]: value};
        } else {
            out[keyIn(null, key)] = value;
        }
    }
    return out;
}

function canonicalKeys(obj) {
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [keyIn(null, k), v]));
}

function resourceOut(kind, stored) {
    const out = clone(stored);
    out.meta = {...out.meta, location: `${publicBase}/${kind}/${stored.id}`};
    return out;
}

function findUser(id) {
    return store.Users.get(id) ?? fail(404, `user '${id}' not found`);
}

function findGroup(id) {
    return store.Groups.get(id) ?? fail(404, `group '${id}' not found`);
}

// ---- users

function emailDomain(address) {
    const at = address.lastIndexOf("@");
    return at < 0 ? "" : address.slice(at + 1).toLowerCase();
}

// Atlassian's rules for a user being created or changed (quirks 6 and 7).
function checkUser(user, selfId, {emailRules = true} = {}) {
    if (typeof user.userName !== "string" || !user.userName.trim().length)
        fail(400, "userName is required", "invalidValue");
    if (user.externalId !== undefined && typeof user.externalId !== "string")
        fail(400, "externalId must be a string", "invalidValue");
    if (user.active !== undefined && typeof user.active !== "boolean")
        fail(400, "active must be a boolean", "invalidValue");

    if (emailRules) {
        const emails = user.emails;
        if (!Array.isArray(emails) || !emails.length)
            fail(400, "emails is required, with exactly one value marked primary", "invalidValue");
        for (const email of emails) {
            if (!isObject(email) || typeof email.value !== "string" || !email.value.length)
                fail(400, "every email needs a value", "invalidValue");
        }
        const primaries = emails.filter((email) => email.primary === true);
        if (primaries.length !== 1)
            fail(400, `emails must have exactly one value marked primary, not ${primaries.length}`, "invalidValue");
        const domain = emailDomain(primaries[0].value);
        if (!opts.domains.has(domain))
            fail(400, `email domain '${domain}' is not verified`, "invalidValue");
    }

    const owner = store.userNames.get(user.userName.toLowerCase());
    if (owner !== undefined && owner !== selfId)
        fail(409, `userName '${user.userName}' is already taken`, "uniqueness");
    if (user.externalId !== undefined) {
        const other = store.externalIds.get(user.externalId);
        if (other !== undefined && other !== selfId)
            fail(409, `externalId '${user.externalId}' is already taken`, "uniqueness");
    }
}

// Store body as user id (new when id is undefined); body is normalized and
// checked already. Keeps created and id of the previous version.
function putUser(body, id, preset = {}) {
    const previous = id !== undefined ? store.Users.get(id) : undefined;
    const newId = id ?? crypto.randomUUID();
    const stamp = now();
    const user = {
        schemas: body[ENTERPRISE] ? [CORE_USER, ENTERPRISE] : [CORE_USER],
        id: newId,
        ...body,
        active: body.active ?? true,
        meta: {
            resourceType: "User",
            created: previous?.meta.created ?? preset.meta?.created ?? stamp,
            lastModified: preset.meta?.lastModified ?? stamp,
        },
    };
    if (user[ENTERPRISE] && !Object.keys(user[ENTERPRISE]).length) {
        delete user[ENTERPRISE];
        user.schemas = [CORE_USER];
    }
    if (previous) {
        store.userNames.delete(previous.userName.toLowerCase());
        if (previous.externalId !== undefined) store.externalIds.delete(previous.externalId);
    }
    store.userNames.set(user.userName.toLowerCase(), newId);
    if (user.externalId !== undefined) store.externalIds.set(user.externalId, newId);
    store.Users.set(newId, user);
    return user;
}

// ---- groups

// Members must be users of this directory (quirk 11); duplicates collapse.
function checkMembers(members) {
    if (members === undefined) return undefined;
    if (!Array.isArray(members)) fail(400, "members must be an array", "invalidValue");
    const seen = new Set();
    const out = [];
    for (const member of members) {
        const id = isObject(member) ? member[keyIn(member, "value")] : undefined;
        if (typeof id !== "string" || !id.length) fail(400, "group member without a value", "invalidValue");
        if (!store.Users.has(id)) fail(400, `member '${id}' is not a user of this directory`, "invalidValue");
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(canonicalKeys(member));
    }
    return out;
}

function checkGroup(group, selfId) {
    if (typeof group.displayName !== "string" || !group.displayName.trim().length)
        fail(400, "displayName is required", "invalidValue");
    const owner = store.groupNames.get(group.displayName.toLowerCase());
    if (owner !== undefined && owner !== selfId)
        fail(409, `group '${group.displayName}' already exists`, "uniqueness");
    group.members = checkMembers(group.members);
    if (group.members !== undefined && !group.members.length) delete group.members;
}

function checkNoRename(previous, next) {
    if (next.displayName !== previous.displayName)
        fail(400, `group rename is not supported: '${previous.displayName}' cannot become '${next.displayName}'`,
            "mutability");
}

function putGroup(body, id, preset = {}) {
    const previous = id !== undefined ? store.Groups.get(id) : undefined;
    const newId = id ?? crypto.randomUUID();
    const stamp = now();
    const group = {
        schemas: [CORE_GROUP],
        id: newId,
        ...body,
        meta: {
            resourceType: "Group",
            created: previous?.meta.created ?? preset.meta?.created ?? stamp,
            lastModified: preset.meta?.lastModified ?? stamp,
        },
    };
    if (previous) store.groupNames.delete(previous.displayName.toLowerCase());
    store.groupNames.set(group.displayName.toLowerCase(), newId);
    store.Groups.set(newId, group);
    return group;
}

// ---------------------------------------------------------------------------
// filters and paging (quirks 4 and 5)

const FILTERABLE = {
    Users: {username: {key: "userName", fold: true}, externalid: {key: "externalId", fold: false}},
    Groups: {displayname: {key: "displayName", fold: true}, externalid: {key: "externalId", fold: false}},
};

function parseFilter(kind, text) {
    const m = /^\s*([A-Za-z]\w*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(text);
    if (!m) fail(400, `unsupported filter '${text}': only a single 'attribute eq "value"' is supported`, "invalidFilter");
    const attr = FILTERABLE[kind][m[1].toLowerCase()];
    if (!attr) fail(400, `filtering on '${m[1]}' is not supported`, "invalidFilter");
    let value;
    try {
        value = JSON.parse(`"${m[2]}"`);
    } catch {
        fail(400, `invalid string in filter '${text}'`, "invalidFilter");
    }
    return attr.fold
        ? (r) => typeof r[attr.key] === "string" && r[attr.key].toLowerCase() === value.toLowerCase()
        : (r) => r[attr.key] === value;
}

function pageNumber(query, name, fallback) {
    if (query[name] === undefined) return fallback;
    const n = Number(query[name]);
    if (!Number.isInteger(n)) fail(400, `${name} '${query[name]}' is not an integer`, "invalidValue");
    return n;
}

function list(kind, req, res) {
    let matches = [...store[kind].values()];
    if (req.query.filter !== undefined) {
        if (typeof req.query.filter !== "string") fail(400, "filter given more than once", "invalidFilter");
        const match = parseFilter(kind, req.query.filter);
        matches = matches.filter(match);
    }
    const startIndex = Math.max(1, pageNumber(req.query, "startIndex", 1));
    const count = Math.min(MAX_RESULTS, Math.max(0, pageNumber(req.query, "count", MAX_RESULTS)));
    const page = matches.slice(startIndex - 1, startIndex - 1 + count);
    res.json({
        schemas: [`${MSG}ListResponse`],
        totalResults: matches.length,
        startIndex,
        itemsPerPage: page.length,
        Resources: page.map((r) => resourceOut(kind, r)),
    });
}

// ---------------------------------------------------------------------------
// PATCH (quirk 9 and 11)

const PATH_RE = /^([A-Za-z][\w$-]*)(?:\[\s*([A-Za-z][\w$-]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false|-?\d+(?:\.\d+)?)\s*\])?(?:\.([A-Za-z][\w$-]*))?$/i;

// Split a PATCH path into {ext, attr, filter, sub}. ext is ENTERPRISE when
// the path names an enterprise attribute; attr is null for the whole
// extension.
function parsePath(kind, path) {
    let rest = path.trim();
    let ext = null;
    const low = rest.toLowerCase();
    if (kind === "Users" && low.startsWith(ENTERPRISE.toLowerCase())) {
        ext = ENTERPRISE;
        rest = rest.slice(ENTERPRISE.length);
        if (!rest.length) return {ext, attr: null};
        if (rest[0] !== ":") fail(400, `invalid path '${path}'`, "invalidPath");
        rest = rest.slice(1);
    } else {
        const core = kind === "Users" ? CORE_USER : CORE_GROUP;
        if (low.startsWith(`${core.toLowerCase()}:`)) rest = rest.slice(core.length + 1);
    }
    const m = PATH_RE.exec(rest);
    if (!m) fail(400, `invalid path '${path}'`, "invalidPath");
    let filter = null;
    if (m[2]) filter = {attr: m[2], value: JSON.parse(m[3])};
    return {ext, attr: m[1], filter, sub: m[4] ?? null};
}

const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function memberKey(el) {
    return isObject(el) && typeof el.value === "string" ? el.value : JSON.stringify(el);
}

// add/replace value at target[name]; a complex value merges into a complex
// attribute, add appends to a multi-valued one (skipping values present)
function setAttr(target, name, value, op) {
    const key = keyIn(target, name);
    const current = target[key];
    if (key === "active" && typeof value === "string" && /^(true|false)$/i.test(value))
        value = value.toLowerCase() === "true";
    if (value === null) {
        delete target[key];
    } else if (op === "add" && Array.isArray(current)) {
        const have = new Set(current.map(memberKey));
        for (const item of Array.isArray(value) ? value : [value]) {
            const itemKey = memberKey(item);
            if (have.has(itemKey)) continue;
            have.add(itemKey);
            current.push(isObject(item) ? canonicalKeys(item) : item);
        }
    } else if (isObject(current) && isObject(value)) {
        Object.assign(current, canonicalKeys(value));
    } else {
        target[key] = isObject(value) ? canonicalKeys(value) : value;
    }
}

function applyNoPath(kind, resource, op, value) {
    if (!isObject(value)) fail(400, `'${op}' without a path needs an object value`, "invalidValue");
    for (const [name, inner] of Object.entries(value)) {
        const low = name.toLowerCase();
        if (kind === "Users" && low === ENTERPRISE.toLowerCase()) {
            if (!isObject(inner)) fail(400, `'${ENTERPRISE}' must be an object`, "invalidValue");
            resource[ENTERPRISE] ??= {};
            for (const [attr, v] of Object.entries(inner)) setAttr(resource[ENTERPRISE], attr, v, op);
        } else if (kind === "Users" && low.startsWith(`${ENTERPRISE.toLowerCase()}:`)) {
            resource[ENTERPRISE] ??= {};
            setAttr(resource[ENTERPRISE], name.slice(ENTERPRISE.length + 1), inner, op);
        } else if (["id", "meta", "schemas"].includes(low)) {
            continue;
        } else {
            setAttr(resource, name, inner, op);
        }
    }
}

function applyOperation(kind, resource, operation) {
    if (!isObject(operation)) fail(400, "each PATCH operation must be an object", "invalidSyntax");
    const op = String(operation[keyIn(operation, "op")] ?? "").toLowerCase();
    const rawPath = operation[keyIn(operation, "path")];
    const value = operation.value;
    if (!["add", "replace", "remove"].includes(op))
        fail(400, `unsupported PATCH op '${operation.op}'`, "invalidSyntax");
    if (rawPath === undefined || rawPath === null || rawPath === "") {
        if (op === "remove") fail(400, "'remove' needs a path", "noTarget");
        applyNoPath(kind, resource, op, value);
        return;
    }
    if (typeof rawPath !== "string") fail(400, "path must be a string", "invalidPath");
    const path = parsePath(kind, rawPath);

    let target = resource;
    if (path.ext) {
        resource[ENTERPRISE] ??= {};
        target = resource[ENTERPRISE];
        if (path.attr === null) {
            if (op === "remove") delete resource[ENTERPRISE];
            else applyNoPath(kind, resource, op, {[ENTERPRISE]: value});
            return;
        }
    }
    const key = keyIn(target, path.attr);

    if (!path.filter) {
        if (!path.sub) {
            if (op !== "remove") {
                setAttr(target, key, value, op);
            } else if (Array.isArray(target[key]) && Array.isArray(value)) {
                // remove listed values, e.g. members: [{value: ID}]
                const drop = new Set(value.map(memberKey));
                target[key] = target[key].filter((el) => !drop.has(memberKey(el)));
                if (!target[key].length) delete target[key];
            } else {
                delete target[key];
            }
            return;
        }
        if (op === "remove") {
            if (isObject(target[key])) {
                delete target[key][keyIn(target[key], path.sub)];
                if (!Object.keys(target[key]).length) delete target[key];
            }
            return;
        }
        if (!isObject(target[key])) target[key] = {};
        setAttr(target[key], path.sub, value, op);
        return;
    }

    // attr[sub eq "x"](.sub)?
    const list = Array.isArray(target[key]) ? target[key] : [];
    const hit = (el) => isObject(el) && sameValue(el[keyIn(el, path.filter.attr)], path.filter.value);
    const matches = list.filter(hit);
    if (op === "remove") {
        if (!path.sub) {
            target[key] = list.filter((el) => !hit(el));
        } else {
            for (const el of matches) delete el[keyIn(el, path.sub)];
        }
        if (Array.isArray(target[key]) && !target[key].length) delete target[key];
        return;
    }
    if (!matches.length) {
        // nothing matches: add (and replace) create the value, e.g. a first
        // work email through emails[type eq "work"].value
        const el = {[keyIn(null, path.filter.attr)]: path.filter.value};
        if (path.sub) el[keyIn(null, path.sub)] = value;
        else if (isObject(value)) Object.assign(el, canonicalKeys(value));
        else fail(400, `'${rawPath}' needs an object value`, "invalidValue");
        list.push(el);
        target[key] = list;
        return;
    }
    for (const el of matches) {
        if (path.sub) setAttr(el, path.sub, value, "replace");
        else if (isObject(value)) Object.assign(el, canonicalKeys(value));
        else fail(400, `'${rawPath}' needs an object value`, "invalidValue");
    }
}

function applyPatch(kind, stored, body) {
    if (!isObject(body)) fail(400, "request body must be a JSON object", "invalidSyntax");
    const schemas = body[keyIn(body, "schemas")];
    if (!Array.isArray(schemas) || !schemas.includes(PATCH_OP))
        fail(400, `PATCH body must name schema '${PATCH_OP}'`, "invalidSyntax");
    const operations = body[keyIn(body, "Operations")];
    if (!Array.isArray(operations) || !operations.length)
        fail(400, "PATCH body needs a non-empty Operations array", "invalidSyntax");
    const next = clone(stored);
    delete next.meta;
    delete next.schemas;
    for (const operation of operations) applyOperation(kind, next, operation);
    delete next.id;
    return next;
}

// ---------------------------------------------------------------------------
// SCIM routes

const scim = express.Router({caseSensitive: false});

const handle = (fn) => (req, res, next) => {
    try {
        fn(req, res);
    } catch (ex) {
        next(ex);
    }
};

const SERVICE_PROVIDER_CONFIG = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    documentationUri: "https://developer.atlassian.com/cloud/admin/user-provisioning/rest/",
    patch: {supported: true},
    bulk: {supported: false, maxOperations: 0, maxPayloadSize: 0},
    filter: {supported: true, maxResults: MAX_RESULTS},
    changePassword: {supported: false},
    sort: {supported: false},
    etag: {supported: false},
    authenticationSchemes: [{
        type: "oauthbearertoken",
        name: "OAuth Bearer Token",
        description: "API key of the provisioning directory, sent as a bearer token",
    }],
    meta: {resourceType: "ServiceProviderConfig"},
};

scim.get("/ServiceProviderConfig", (req, res) => res.json(SERVICE_PROVIDER_CONFIG));

scim.get("/ResourceTypes", (req, res) => res.json({
    schemas: [`${MSG}ListResponse`],
    totalResults: 2,
    Resources: [
        {schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], id: "User", name: "User",
            endpoint: "/Users", schema: CORE_USER, schemaExtensions: [{schema: ENTERPRISE, required: false}]},
        {schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], id: "Group", name: "Group",
            endpoint: "/Groups", schema: CORE_GROUP},
    ],
}));

scim.all(["/Bulk", "/Bulk/*"], () => fail(501, "bulk operations are not supported"));

// users

scim.get("/Users", handle((req, res) => list("Users", req, res)));

scim.post("/Users", handle((req, res) => {
    const body = normalizeBody(req.body, "Users");
    checkUser(body, undefined);
    const user = putUser(body, undefined);
    res.status(201).json(resourceOut("Users", user));
}));

scim.get("/Users/:id", handle((req, res) => {
    res.json(resourceOut("Users", findUser(req.params.id)));
}));

scim.put("/Users/:id", handle((req, res) => {
    findUser(req.params.id);
    const body = normalizeBody(req.body, "Users");
    checkUser(body, req.params.id);
    res.json(resourceOut("Users", putUser(body, req.params.id)));
}));

scim.patch("/Users/:id", handle((req, res) => {
    const next = applyPatch("Users", findUser(req.params.id), req.body);
    checkUser(next, req.params.id);
    res.json(resourceOut("Users", putUser(next, req.params.id)));
}));

scim.delete("/Users/:id", handle((req, res) => {
    const user = findUser(req.params.id);
    user.active = false;
    user.meta.lastModified = now();
    stats.userDeletes++;
    res.locals.note = "user delete only deactivates";
    res.status(204).end();
}));

// groups

scim.get("/Groups", handle((req, res) => list("Groups", req, res)));

scim.post("/Groups", handle((req, res) => {
    const body = normalizeBody(req.body, "Groups");
    checkGroup(body, undefined);
    res.status(201).json(resourceOut("Groups", putGroup(body, undefined)));
}));

scim.get("/Groups/:id", handle((req, res) => {
    res.json(resourceOut("Groups", findGroup(req.params.id)));
}));

scim.put("/Groups/:id", handle((req, res) => {
    const previous = findGroup(req.params.id);
    const body = normalizeBody(req.body, "Groups");
    checkGroup(body, req.params.id);
    checkNoRename(previous, body);
    res.json(resourceOut("Groups", putGroup(body, req.params.id)));
}));

scim.patch("/Groups/:id", handle((req, res) => {
    const previous = findGroup(req.params.id);
    const next = applyPatch("Groups", previous, req.body);
    checkNoRename(previous, next);
    checkGroup(next, req.params.id);
    res.json(resourceOut("Groups", putGroup(next, req.params.id)));
}));

scim.delete("/Groups/:id", handle((req, res) => {
    const group = findGroup(req.params.id);
    store.Groups.delete(group.id);
    store.groupNames.delete(group.displayName.toLowerCase());
    res.status(204).end();
}));

scim.use((req, res) => sendError(res, 404, `no such endpoint '${req.method} ${req.originalUrl.split("?")[0]}'`));

// ---------------------------------------------------------------------------
// app

const app = express();
app.disable("x-powered-by");
app.set("etag", false);

// request accounting: every request under /scim, whatever its answer
app.use("/scim", (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
        const path = req.originalUrl.split("?")[0];
        const method = req.method;
        stats.requests++;
        stats.byMethod[method] = (stats.byMethod[method] ?? 0) + 1;
        if (["POST", "PUT", "PATCH", "DELETE"].includes(method)) stats.writes++;
        const q = req.originalUrl.indexOf("?");
        const query = q >= 0 ? req.originalUrl.slice(q + 1) : undefined;
        const bytes = Number(req.get("content-length") ?? 0);
        stats.log.push({method, path, status: res.statusCode, bytes, ...(query ? {query} : {}),
            ...(res.locals.note ? {note: res.locals.note} : {})});
        if (opts.verbose) {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            process.stderr.write(`${new Date().toISOString()} ${method} ${req.originalUrl} ${res.statusCode} ${ms.toFixed(1)}ms\n`);
        }
    });
    next();
});

function authenticate(req, res, next) {
    const m = /^Bearer\s+(.+)$/i.exec(req.get("authorization") ?? "");
    if (!m) {
        res.set("WWW-Authenticate", 'Bearer realm="atlassian-scim"');
        return sendError(res, 401, "authorization required");
    }
    let want;
    try {
        want = Buffer.from(readToken());
    } catch {
        want = Buffer.alloc(0);
    }
    const given = Buffer.from(m[1].trim());
    if (!want.length || given.length !== want.length || !crypto.timingSafeEqual(given, want)) {
        res.set("WWW-Authenticate", 'Bearer realm="atlassian-scim", error="invalid_token"');
        return sendError(res, 401, "invalid bearer token");
    }
    next();
}

app.use("/scim", authenticate);
app.use(BASE_PATH, (req, res, next) => {
    publicBase = `http://${req.get("host") ?? "127.0.0.1"}${BASE_PATH}`;
    next();
}, express.json({type: ["application/scim+json", "application/json"], limit: BODY_LIMIT}), scim);
app.use("/scim/directory/:dir", (req, res) => sendError(res, 404, `directory '${req.params.dir}' not found`));

// ---- test-only admin routes (no auth; the fake binds to loopback only)

const admin = express.Router();
admin.use(express.json({limit: BODY_LIMIT}));

admin.get("/dump", (req, res) => {
    res.json({Users: [...store.Users.values()], Groups: [...store.Groups.values()]});
});

admin.get("/stats", (req, res) => {
    const withLog = !["0", "false", "no"].includes(String(req.query.log ?? "").toLowerCase());
    res.json({requests: stats.requests, writes: stats.writes, byMethod: stats.byMethod,
        userDeletes: stats.userDeletes, ...(withLog ? {log: stats.log} : {})});
});

admin.post("/reset-stats", (req, res) => {
    resetStats();
    res.status(204).end();
});

admin.post("/reset", (req, res) => {
    resetData();
    resetStats();
    res.status(204).end();
});

// Preload what the directory already holds: ids and meta are kept, the
// uniqueness and member rules apply, the email rules do not (an account may
// predate a domain's verification). Users go first so groups can name them.
admin.post("/seed", handle((req, res) => {
    const body = req.body ?? {};
    const out = {Users: [], Groups: []};
    for (const kind of ["Users", "Groups"]) {
        const items = body[kind] ?? [];
        if (!Array.isArray(items)) fail(400, `'${kind}' must be an array`, "invalidSyntax");
        for (const item of items) {
            if (!isObject(item)) fail(400, `'${kind}' holds a non-object`, "invalidSyntax");
            if (item.id !== undefined && (typeof item.id !== "string" || !item.id.length))
                fail(400, "id must be a non-empty string", "invalidValue");
            if (item.id !== undefined && (store.Users.has(item.id) || store.Groups.has(item.id)))
                fail(409, `id '${item.id}' already exists`, "uniqueness");
            const data = normalizeBody(item, kind);
            if (kind === "Users") {
                checkUser(data, item.id, {emailRules: false});
                out.Users.push(putUser(data, item.id, {meta: item.meta}));
            } else {
                checkGroup(data, item.id);
                out.Groups.push(putGroup(data, item.id, {meta: item.meta}));
            }
        }
    }
    res.status(201).json(out);
}));

app.use("/_test", admin);

app.use((req, res) => sendError(res, 404, `no such endpoint '${req.method} ${req.originalUrl.split("?")[0]}'`));

app.use((err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ScimError) return sendError(res, err.status, err.message, err.scimType);
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (err.type === "entity.parse.failed") return sendError(res, 400, "request body is not valid JSON", "invalidSyntax");
    if (status >= 500) process.stderr.write(`atlassian-fake: ${err.stack ?? err}\n`);
    return sendError(res, status, status >= 500 ? "internal error" : err.message.toLowerCase());
});

const server = app.listen(opts.port, "127.0.0.1", () => {
    const {port} = server.address();
    if (opts.portFile) {
        const tmp = `${opts.portFile}.tmp`;
        fs.writeFileSync(tmp, `${port}\n`);
        fs.renameSync(tmp, opts.portFile);
    }
    process.stdout.write(`listening on 127.0.0.1:${port}${BASE_PATH}\n`);
});
server.keepAliveTimeout = 30000;
server.on("error", (err) => {
    process.stderr.write(`atlassian-fake: cannot listen: ${err.message}\n`);
    process.exit(1);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
        server.close();
        process.exit(0);
    });
}
