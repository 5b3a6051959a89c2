// Every annals RPC from Node, as a Node client writes it: @grpc/grpc-js,
// with @grpc/proto-loader 0.8 (protobufjs 7) loading the .proto files of
// proto/ as they are. Appends the example events, a sanction and the seed
// timeline, then reads everything back through every method and checks
// what it decodes: whole relationship states (every field, now, as of a
// position and as of a date), subscriptions, the signed tree head (Ed25519,
// with Node's crypto), inclusion proofs (with Sigstore's RFC 6962 verifier,
// not annals' code) and the BadRequest in an error's trailer.
//
//   node interop.js ADDRESS PROTO_DIR EXAMPLES_JSONL SEED_JSONL
//
// Prints one line per check; exits 0 when all passed, 1 at the first that
// failed (naming it).
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
// RFC 6962 inclusion proofs, as Sigstore clients check Rekor's: leaf =
// SHA-256(0x00 || bytes), node = SHA-256(0x01 || left || right).
const { verifyMerkleInclusion } = require('@sigstore/verify/dist/timestamp/merkle');

const [address, protoDir, examplesFile, seedFile] = process.argv.slice(2);
if (!seedFile) {
  console.error('usage: node interop.js ADDRESS PROTO_DIR EXAMPLES_JSONL SEED_JSONL');
  process.exit(2);
}

const LOADER_OPTIONS = {
  longs: String, enums: String, defaults: false, oneofs: true, includeDirs: [protoDir],
};
const definition = protoLoader.loadSync(
  ['annals/v1/event_log.proto', 'annals/v1/query.proto',
    'annals/v1/subscription.proto', 'annals/v1/audit.proto',
    'annals/v1/server_info.proto'],
  LOADER_OPTIONS);
const v1 = grpc.loadPackageDefinition(definition).annals.v1;
const credentials = grpc.credentials.createInsecure();
const eventLog = new v1.EventLog(address, credentials);
const relationships = new v1.Relationships(address, credentials);
const admin = new v1.Admin(address, credentials);
const subscriptions = new v1.Subscriptions(address, credentials);
const audit = new v1.Audit(address, credentials);
const serverInfo = new v1.ServerInfo(address, credentials);

// What no RPC returns as a message, decoded with protobufjs itself: the
// error model of the trailer, and the stored bytes of audit proofs.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => `${protoDir}/${target}`;
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto',
  'annals/v1/event.proto'], { keepCase: true });
const RpcStatus = root.lookupType('google.rpc.Status');
const BadRequest = root.lookupType('google.rpc.BadRequest');
const RecordedEvent = root.lookupType('annals.v1.RecordedEvent');

let passed = 0;
async function check(name, body) {
  try {
    await body();
  } catch (error) {
    console.error(`FAILED: ${name}\n${error.stack || error}`);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok ${passed} - ${name}`);
}

function unary(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 20000 }, (error, response) => {
      if (error) reject(error); else resolve(response);
    });
  });
}

function readJsonLines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const be64 = (value) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(value));
  return bytes;
};

// A sanction, which the example events and the seed timeline have none of:
// with it every field of the JPN-PRK state is set.
const SANCTION = {
  id: 'jpn-prk-2006-10-13-import-ban',
  sanction: {
    action: 'ACTION_IMPOSED',
    measures: ['import ban', 'port entry ban'],
    legalBasis: 'Foreign Exchange and Foreign Trade Act',
  },
  source: ['JPN'],
  target: ['PRK'],
  occurred: { start: { year: 2006, month: 10, day: 13 }, precision: 'DATE_PRECISION_DAY' },
  cameoCode: '163',
  summary: 'Japan banned all imports from North Korea and port calls by its ships after its nuclear test.',
  tags: ['sanctions'],
  sources: [{
    publisher: 'Ministry of Foreign Affairs of Japan',
    title: 'Measures against North Korea (descriptive title)',
    published: { year: 2006, month: 10, day: 13 },
  }],
};

// Every field of RelationshipState, named as proto-loader names them.
const STATE_FIELDS = definition['annals.v1.RelationshipState'].type.field
  .map((f) => f.name.replace(/_([a-z])/g, (_m, c) => c.toUpperCase()));

function expectWholeState(state) {
  assert.equal(state.dyad, 'JPN-PRK');
  for (const field of STATE_FIELDS) {
    const value = state[field];
    assert.ok(value !== undefined && value !== null, `state.${field} is missing`);
    if (Array.isArray(value)) assert.ok(value.length > 0, `state.${field} is empty`);
  }
}

async function main() {
  const examples = readJsonLines(examplesFile);
  const seed = readJsonLines(seedFile);
  let head = 0;

  await check('EventLog.Append: the examples, atomically, to one stream', async () => {
    const appended = await unary(eventLog, 'Append', { stream: 'examples', events: examples });
    assert.equal(appended.stream, 'examples');
    assert.equal(appended.positions.length, examples.length);
    assert.equal(appended.streamVersion, String(examples.length));
  });

  await check('EventLog.Append: default stream, then an idempotent retry', async () => {
    const first = await unary(eventLog, 'Append', { noStream: {}, events: [SANCTION] });
    assert.equal(first.stream, 'JPN-PRK');
    const again = await unary(eventLog, 'Append', { events: [SANCTION] });
    assert.equal(again.alreadyRecorded, true);
    assert.deepEqual(again.positions, first.positions);
  });

  await check('EventLog.AppendSession: the seed timeline, pipelined', async () => {
    const session = eventLog.AppendSession({ deadline: Date.now() + 30000 });
    const acks = [];
    const ended = new Promise((resolve, reject) => {
      session.on('data', (response) => acks.push(...response.acks));
      session.on('error', reject);
      session.on('end', resolve);
    });
    let requests = 0;
    for (let i = 0; i < seed.length; i += 10) {
      requests += 1;
      session.write({ correlationId: String(requests), append: { stream: 'seed', events: seed.slice(i, i + 10) } });
    }
    session.end();
    await ended;
    assert.deepEqual(acks.map((a) => a.correlationId),
      Array.from({ length: requests }, (_v, i) => String(i + 1)));
    for (const ack of acks) assert.equal(ack.result, 'appended', JSON.stringify(ack.error));
    head = Number(acks[acks.length - 1].appended.head);
    assert.equal(head, examples.length + 1 + seed.length);
  });

  await check('EventLog.ReadStream', async () => {
    const read = await unary(eventLog, 'ReadStream', { stream: 'examples', direction: 'DIRECTION_FORWARD' });
    assert.deepEqual(read.events.map((e) => e.event.id), examples.map((e) => e.id));
    assert.equal(read.endOfStream, true);
  });

  await check('EventLog.ReadAll', async () => {
    const read = await unary(eventLog, 'ReadAll', { fromPosition: '1', limit: 1000 });
    assert.equal(read.events.length, head);
    assert.equal(read.head, String(head));
    assert.equal(read.endOfLog, true);
  });

  await check('EventLog.GetEvent', async () => {
    const got = await unary(eventLog, 'GetEvent', { id: SANCTION.id });
    assert.deepEqual(got.event.event.sanction.measures, SANCTION.sanction.measures);
    assert.equal(got.event.stream, 'JPN-PRK');
  });

  let current;
  await check('Relationships.GetRelationship: now, every field of the state', async () => {
    current = await unary(relationships, 'GetRelationship', { dyad: 'PRK-JPN' });
    expectWholeState(current.state);
    assert.equal(current.head, String(head));
    assert.ok(Number(current.index.eventCount) >= 0 && current.index.endYear > 0);
  });

  await check('Relationships.GetRelationship: as of the head position, the same state', async () => {
    const atHead = await unary(relationships, 'GetRelationship', { dyad: 'JPN-PRK', asOfPosition: String(head) });
    expectWholeState(atHead.state);
    assert.deepEqual(atHead.state, current.state);
    assert.deepEqual(atHead.index, current.index);
  });

  await check('Relationships.GetRelationship: as of a date', async () => {
    const byNow = await unary(relationships, 'GetRelationship', { dyad: 'JPN-PRK', asOfDate: { year: 2100 } });
    expectWholeState(byNow.state);
    assert.deepEqual(byNow.state, current.state);
    const before = await unary(relationships, 'GetRelationship', { dyad: 'JPN-PRK', asOfDate: { year: 2003, month: 6 } });
    assert.ok(Number(before.state.eventCount) > 0);
    assert.ok(Number(before.state.eventCount) < Number(current.state.eventCount));
    assert.ok(!before.state.sanctions, 'a sanction of 2006 as of 2003-06');
    assert.equal(before.index.endYear, 2003);
    assert.equal(before.index.endMonth, 6);
  });

  await check('Relationships.ListRelationships', async () => {
    const listed = await unary(relationships, 'ListRelationships',
      { orderBy: 'ORDER_BY_INDEX', actor: 'PRK', pageSize: 100 });
    const jpnPrk = listed.relationships.find((r) => r.dyad === 'JPN-PRK');
    assert.ok(jpnPrk, 'JPN-PRK is not listed');
    assert.equal(jpnPrk.eventCount, current.state.eventCount);
    assert.deepEqual(jpnPrk.index, current.index);
  });

  await check('Relationships.QueryTimeline, page by page', async () => {
    const ids = [];
    let pageToken = '';
    do {
      const page = await unary(relationships, 'QueryTimeline',
        { dyad: 'JPN-PRK', kinds: ['sanction', 'agreement'], pageSize: 1, pageToken });
      ids.push(...(page.entries || []).map((e) => e.event.id));
      pageToken = page.nextPageToken || '';
    } while (pageToken !== '');
    assert.ok(ids.includes(SANCTION.id));
    assert.equal(ids.length, current.state.agreements.length + 1);
  });

  await check('Admin.RebuildProjections: check', async () => {
    const report = await unary(admin, 'RebuildProjections', { repair: false });
    assert.equal(report.matched, true, report.firstDifference);
    assert.equal(report.events, String(head));
  });

  await check('Subscriptions.Subscribe: from the start until caught up', async () => {
    const call = subscriptions.Subscribe({ fromStart: {} });
    const positions = [];
    const caughtUp = await new Promise((resolve, reject) => {
      call.on('data', (message) => {
        if (message.message === 'event') positions.push(Number(message.event.position));
        if (message.message === 'caughtUp') resolve(message.caughtUp);
      });
      call.on('error', reject);
    });
    call.on('error', () => {});  // the cancellation below
    call.cancel();
    assert.equal(caughtUp.position, String(head));
    assert.deepEqual(positions, Array.from({ length: head }, (_v, i) => i + 1));
  });

  await check('Subscriptions.WatchRelationship: the first state', async () => {
    const call = subscriptions.WatchRelationship({ dyad: 'JPN-PRK' });
    const first = await new Promise((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
    });
    call.on('error', () => {});
    call.cancel();
    expectWholeState(first.state);
    assert.deepEqual(first.state, current.state);
    assert.ok(Number(first.position) >= head);
  });

  let key;
  let treeHead;
  await check('Audit.GetPublicKey and GetTreeHead: the Ed25519 signature', async () => {
    const publicKey = await unary(audit, 'GetPublicKey', {});
    key = crypto.createPublicKey(publicKey.publicKeyPem);
    assert.deepEqual(publicKey.keyId, sha256(key.export({ type: 'spki', format: 'der' })));
    treeHead = (await unary(audit, 'GetTreeHead', {})).treeHead;
    assert.equal(treeHead.treeSize, String(head));
    assert.deepEqual(treeHead.keyId, publicKey.keyId);
    const signed = Buffer.concat([Buffer.from('annals-tree-head-v1\0', 'latin1'),
      be64(treeHead.treeSize), treeHead.rootHash, be64(treeHead.timestampUnixMicros)]);
    assert.equal(signed.length, 68);
    assert.ok(crypto.verify(null, signed, key, treeHead.signature), 'bad tree head signature');
  });

  await check('ServerInfo.GetServerInfo: the version, the commit and the head', async () => {
    const info = await unary(serverInfo, 'GetServerInfo', {});
    assert.match(info.version, /^\d+\.\d+\.\d+$/);
    assert.ok(info.commit.length > 0);
    assert.equal(info.headPosition, treeHead.treeSize);
    assert.equal(info.writable, true);
  });

  await check('Admin.CreateBackup: the signed tree head beside the backup', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'annals-node-backup-'));
    try {
      const backup = await unary(admin, 'CreateBackup', { to: path.join(dir, 'backups') });
      assert.equal(backup.backupId, 1);
      assert.equal(backup.headPosition, treeHead.treeSize);
      assert.deepEqual(backup.treeHead.rootHash, treeHead.rootHash);
      const written = JSON.parse(fs.readFileSync(backup.treeHeadFile, 'utf8')).treeHead;
      assert.equal(written.rootHash, backup.treeHead.rootHash.toString('base64'));
      const signed = Buffer.concat([Buffer.from('annals-tree-head-v1\0', 'latin1'),
        be64(backup.treeHead.treeSize), backup.treeHead.rootHash,
        be64(backup.treeHead.timestampUnixMicros)]);
      assert.ok(crypto.verify(null, signed, key, backup.treeHead.signature), 'bad signature');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  await check('Audit.ProveInclusion and ReadStored: RFC 6962, independently verified', async () => {
    for (const position of [1, 2, Math.floor(head / 2), head - 1, head]) {
      const proof = await unary(audit, 'ProveInclusion',
        { position: String(position), treeSize: treeHead.treeSize });
      const entry = {
        canonicalizedBody: proof.stored,
        inclusionProof: {
          logIndex: String(position - 1),
          treeSize: treeHead.treeSize,
          rootHash: treeHead.rootHash,
          hashes: proof.auditPath || [],
        },
      };
      verifyMerkleInclusion(entry);
      const tampered = Buffer.from(proof.stored);
      tampered[tampered.length - 1] ^= 1;
      assert.throws(() => verifyMerkleInclusion({ ...entry, canonicalizedBody: tampered }));
      const stored = await unary(audit, 'ReadStored', { fromPosition: String(position), maxCount: 1 });
      assert.deepEqual(stored.events[0].stored, proof.stored);
      assert.equal(RecordedEvent.decode(proof.stored).position.toString(), String(position));
    }
  });

  await check('Audit.ReadStored: the hash chain', async () => {
    const stored = await unary(audit, 'ReadStored', { fromPosition: '1', maxCount: 1000 });
    assert.equal(stored.events.length, head);
    let chain = Buffer.alloc(32);
    for (const event of stored.events) {
      chain = sha256(chain, event.stored);
      assert.deepEqual(event.chainHash, chain, `chain hash of ${event.position}`);
    }
  });

  await check('Audit.ProveConsistency', async () => {
    const old = examples.length;
    const proof = await unary(audit, 'ProveConsistency', { oldSize: String(old), newSize: treeHead.treeSize });
    assert.deepEqual(proof.newRootHash, treeHead.rootHash);
    const oldRoot = (await unary(audit, 'ProveInclusion', { position: '1', treeSize: String(old) })).rootHash;
    assert.deepEqual(proof.oldRootHash, oldRoot);
    assert.ok(proof.proof.length > 0);
  });

  await check('INVALID_ARGUMENT: the BadRequest in grpc-status-details-bin', async () => {
    const error = await unary(relationships, 'GetRelationship', { dyad: 'JPN-XYZ' }).then(
      () => assert.fail('an unknown actor was accepted'), (e) => e);
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    const [details] = error.metadata.get('grpc-status-details-bin');
    assert.ok(details, 'no grpc-status-details-bin trailer');
    const status = RpcStatus.decode(details);
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    const badRequest = status.details.find((d) => d.type_url === 'type.googleapis.com/google.rpc.BadRequest');
    assert.ok(badRequest, 'no BadRequest among the details');
    const violations = BadRequest.decode(badRequest.value).field_violations;
    assert.deepEqual(violations.map((v) => v.field), ['dyad']);
    assert.match(violations[0].description, /XYZ/);
  });

  for (const client of [eventLog, relationships, admin, subscriptions, audit]) client.close();
  console.log(`${passed} passed, 0 failed`);
}

main().catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
