'use strict';

// Differential test: our Rust mapping engine (the package's `/mapping`
// subpath) against @walkeros/core 4.2.1 on the same inputs. Hand-written
// cases cover every form; a seeded generator adds thousands of random events
// and mapping values. A failure prints the seed and a minimal case.
//
// PARITY_SEED=n picks the seed; PARITY_CASES=n the number of generated cases.

const test = require('node:test');
const assert = require('node:assert/strict');
const { isDeepStrictEqual, inspect } = require('node:util');
const core = require('@walkeros/core');
const { startFlow } = require('@walkeros/collector');
const ours = require('../../pkg/dist/mapping.js');

const SEED = Number(process.env.PARITY_SEED || 20261124);
const CASES = Number(process.env.PARITY_CASES || 3000);

let collectorPromise;
function collector() {
  // A quiet collector: walkerOS logs callback failures through it.
  collectorPromise ||= startFlow({ logger: { level: 0, handler: () => {} } }).then((f) => f.collector);
  return collectorPromise;
}

async function theirsValue(event, mapping, consent) {
  return core.getMappingValue(event, mapping, { collector: await collector(), consent });
}

async function oursValue(event, mapping, consent) {
  const direct = await ours.getMappingValue(event, mapping, { collector: await collector(), consent });
  // The destination's path: the event cut down to what the mapping reads,
  // as plain JSON (so only for events JSON carries exactly).
  if (event && typeof event === 'object' && !Array.isArray(event) && isDeepStrictEqual(JSON.parse(JSON.stringify(event)), event)) {
    const projected = ours.compileMappings({ v: mapping }).resolve(event, { consent }).v;
    if (!isDeepStrictEqual(projected, direct)) {
      return { projectionDiffers: { projected, direct } };
    }
  }
  return direct;
}

async function outcome(fn) {
  try {
    return { value: await fn() };
  } catch (error) {
    return { threw: true };
  }
}

async function compareValue(event, mapping, consent) {
  const [a, b] = [await outcome(() => oursValue(event, mapping, consent)), await outcome(() => theirsValue(event, mapping, consent))];
  return { same: isDeepStrictEqual(a, b), ours: a, theirs: b };
}

// ---------------------------------------------------------------- fixtures

const E = core.getEvent();
const O = core.getEvent('order complete');

const handWritten = [
  [E, 'data.string'],
  [E, 'context.dev'],
  [E, 'context.dev.0'],
  [E, 'nested.*.data.is'],
  [E, 'data.array.2'],
  [E, 'nested.length'],
  [E, 'data.string.length'],
  [E, 'this'],
  [{ a: 1, b: 'x' }, ''],
  [E, 'data.array.*'],
  [O, 'nested.*.data.price'],
  [{ a: { b: null, c: 1 } }, 'a'],
  [{ a: null }, { key: 'a', value: 'fb' }],
  [{ a: [{ b: 1 }, {}] }, { key: 'a.*.b', value: 'd' }],
  [E, { key: 'data.string', value: 'static' }],
  [{}, { value: 0 }],
  [E, {}],
  [E, []],
  [{ a: 0, b: 'x' }, ['a', 'b']],
  [{ a: 0, b: 'x' }, [['a', 'b']]],
  [E, { map: { a: { value: 'x' }, b: 'nope', c: { value: 0 } } }],
  [E, { key: 'data', map: { a: 'string', b: 'data.string' } }],
  [E, { set: ['data.string', 'nope', { value: 1 }] }],
  [{ user: { email: 'x@y.z' } }, { set: ['data.email', 'user.email', { value: 'anonymous' }] }],
  [O, { loop: ['nested', 'data.name'] }],
  [O, { loop: ['nested', { key: 'data.price' }] }],
  [E, { loop: ['this', { key: 'name' }] }],
  [{ arr: [1, 'foo', false] }, { loop: ['arr', ''] }],
  [{ a: 'x' }, { loop: ['a', 'b'] }],
  [{ a: [1, 2] }, { loop: ['a', ''], map: { x: { value: 1 } } }],
  [{ foo: 'bar' }, { key: 'foo', consent: { collectorLevel: true } }, { collectorLevel: true }],
  [{ foo: 'bar', consent: { collectorLevel: false } }, { key: 'foo', consent: { collectorLevel: true } }, { collectorLevel: true }],
  [{ foo: 'bar', consent: {} }, { key: 'foo', consent: { collectorLevel: true } }, { collectorLevel: true }],
  [{ foo: 'bar' }, { key: 'foo', consent: { marketing: true }, value: 'denied' }, { collectorLevel: true }],
  [{ foo: 'bar' }, { key: 'foo', consent: { marketing: true, collectorLevel: true } }, { collectorLevel: true }],
  [{ a: 1 }, { fn: () => 'fn', key: 'a' }],
  [E, { condition: () => false, value: 'fb' }],
  [E, { key: 'data.id', validate: () => false, value: 'fb' }],
  [{ a: 1 }, [{ fn: () => { throw new Error('boom'); } }, { value: 'next' }]],
  // More callbacks: arguments, results, throwing conditions and validators.
  [O, { fn: (value, ctx) => `${value.name}|${ctx.event.name}|${typeof ctx.mapping.fn}` }],
  [O, { fn: (value) => value.data.total * 2 }],
  [O, { fn: () => new Date() }],
  [O, { fn: () => ({ ok: [1, { deep: 'x' }] }) }],
  [O, { loop: ['nested', { fn: (item, ctx) => `${item.entity}@${ctx.event.name}` }] }],
  [O, { condition: (value) => value.data.total > 100, key: 'data.total' }],
  [O, { condition: () => { throw new Error('no'); }, value: 'fb' }],
  [O, { key: 'data.total', validate: (v) => v > 1000, value: 'small' }],
  [O, { key: 'data.total', validate: () => { throw new Error('no'); } }],
  [O, { map: { total: { key: 'data.total', fn: () => 'ignored by key' }, cur: { fn: (e) => e.data.currency } } }],
  [{ foo: 'bar', consent: { a: true } }, { fn: (v, ctx) => JSON.stringify(ctx.consent) }],
  [O, { fn: 'not a function', value: 'v' }],
  [O, { condition: 'not a function', value: 'v' }],
  // Shapes walkerOS does not expect.
  [E, null],
  [E, 42],
  [E, true],
  [E, [null, 'data.string']],
  [E, { key: 5 }],
  [E, [{ key: 5 }, 'data.number']],
  [E, { loop: 'nested' }],
  [E, { map: 'x' }],
  [E, { set: 'x' }],
  [E, { unknown: 1 }],
  [E, { value: null }],
  [E, { value: [1, null] }],
  [E, { consent: 'x', value: 'v' }],
  ['a string', 'length'],
  [[1, 2, 3], '1'],
  [[1, 2, 3], 'length'],
  [{ a: [1, 2] }, 'a.01'],
  [{ a: [1, 2] }, 'a.-1'],
  [{ a: { '': 'empty key' } }, 'a.'],
  [{ a: [{ '': 1 }, {}] }, 'a.*'],
  [{ '*': 'star' }, '*'],
  [{ a: { b: 1 } }, 'a.toString'],
  [{ a: { b: 1 } }, { key: 'a.constructor', value: 'd' }],
  [{ a: [{ b: 1 }] }, { key: 'a.*.toString', value: 'd' }],
  [0, { value: 1 }],
  ['', ''],
  [false, { key: '', value: 'x' }],
];

// ---------------------------------------------------------------- generator

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed) {
  const rand = mulberry32(seed);
  const int = (n) => Math.floor(rand() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => rand() < p;

  const KEYS = ['a', 'b', 'id', 'name', 'price', 'email', 'ü', '日本', '0', '1', 'x y', '', 'length', 'data', 'nested', '🙂'];
  const STRINGS = ['', 'foo', '0', '007', '+49 170', 'ünï', '日本語', '🙂', 'a.b', 'true', ' '];

  function scalar() {
    switch (int(6)) {
      case 0: return pick(STRINGS);
      case 1: return int(201) - 100 || 0;
      case 2: return Math.round(rand() * 1e6) / 100;
      case 3: return pick([0, 1, 1e21, 0.1, 123456789.123, -0.5]);
      case 4: return chance(0.5);
      default: return chance(0.15) ? null : pick(STRINGS);
    }
  }

  function value(depth) {
    if (depth > 3 || chance(0.45)) return scalar();
    if (chance(0.4)) return Array.from({ length: int(4) }, () => value(depth + 1));
    return object(depth + 1);
  }

  function object(depth) {
    const out = {};
    for (let i = int(5); i > 0; i--) out[pick(KEYS)] = value(depth);
    return out;
  }

  function event() {
    const e = {};
    const sections = {
      name: () => `${pick(['page', 'product', 'order', 'user'])} ${pick(['view', 'add', 'complete', 'login'])}`,
      data: () => object(1),
      user: () => ({ id: pick(['u1', 'u2', '']), ...(chance(0.6) ? { email: pick(['a@b.c', '', 'X@Y.Z']) } : {}), ...object(2) }),
      globals: () => object(2),
      context: () => ({ [pick(KEYS)]: [scalar(), int(3)] }),
      nested: () => Array.from({ length: int(4) }, () => ({ entity: pick(['product', 'gift']), data: object(2) })),
      consent: () => ({ marketing: chance(0.5), functional: chance(0.5) }),
      timestamp: () => 1700000000000 + int(1e6),
    };
    for (const [key, make] of Object.entries(sections)) if (chance(0.75)) e[key] = make();
    return e;
  }

  /** A path into `root`, mostly along keys that exist. */
  function path(root) {
    if (chance(0.05)) return pick(['', 'this', '*', 'nope', 'data.nope.deeper']);
    const parts = [];
    let cur = root;
    for (let depth = 0; depth < 4; depth++) {
      if (Array.isArray(cur) && cur.length) {
        if (chance(0.4)) {
          parts.push('*');
          cur = cur[0];
        } else {
          const i = chance(0.8) ? int(cur.length) : pick(['length', String(cur.length + 1), '01']);
          parts.push(String(i));
          cur = cur[i];
        }
      } else if (cur && typeof cur === 'object' && !Array.isArray(cur) && Object.keys(cur).length && chance(0.85)) {
        const key = pick(Object.keys(cur));
        parts.push(key);
        cur = cur[key];
      } else {
        parts.push(pick(KEYS));
        break;
      }
      if (chance(0.3)) break;
    }
    return parts.join('.');
  }

  function mapping(root, depth = 0) {
    const leaf = () => path(root);
    if (depth > 2) return leaf();
    const sub = () => mapping(root, depth + 1);
    switch (int(12)) {
      case 0: case 1: return leaf();
      case 2: return chance(0.5) ? { key: leaf(), value: scalar() } : { key: leaf() };
      case 3: return { value: value(2) };
      case 4: {
        const map = {};
        for (let i = 1 + int(3); i > 0; i--) map[pick(KEYS)] = sub();
        return chance(0.3) ? { key: leaf(), map } : { map };
      }
      case 5: return { loop: [chance(0.2) ? 'this' : leaf(), chance(0.5) ? '' : mapping(chance(0.5) ? {} : root, depth + 1)] };
      case 6: return { set: Array.from({ length: 1 + int(3) }, sub) };
      case 7: return { key: leaf(), consent: { [pick(['marketing', 'functional', 'analytics'])]: chance(0.8) }, ...(chance(0.5) ? { value: scalar() } : {}) };
      case 8: return Array.from({ length: 1 + int(3) }, sub);
      case 9: return [Array.from({ length: 1 + int(3) }, () => (chance(0.5) ? leaf() : { key: leaf() }))];
      case 10: return { loop: [leaf(), sub()], map: { x: sub() } };
      default: return { map: { a: sub() }, set: [sub()], ...(chance(0.5) ? { key: leaf() } : {}) };
    }
  }

  /** A rule table over a few entities and actions, with wildcards and
   * conditions (functions of the event). */
  function rules() {
    const table = {};
    for (const entity of ['page', 'product', '*']) {
      if (chance(0.4)) continue;
      const actions = {};
      for (const action of ['view', 'add', '*']) {
        if (chance(0.5)) continue;
        const rule = () => {
          const r = { name: `r${int(1000)}` };
          if (chance(0.3)) {
            const x = int(3);
            r.condition = (e) => e.data && e.data.x === x;
          }
          return r;
        };
        actions[action] = chance(0.3) ? Array.from({ length: 1 + int(3) }, rule) : rule();
      }
      table[entity] = chance(0.1) ? null : actions;
    }
    return table;
  }

  function ruleEvent() {
    return { name: `${pick(['page', 'product', 'order', ''])} ${pick(['view', 'add', 'buy', ''])}`, data: { x: int(3) } };
  }

  return { event, mapping, rules, ruleEvent, consent: () => (chance(0.5) ? { marketing: chance(0.5), analytics: true } : undefined) };
}

// ---------------------------------------------------------------- shrinking

function* simpler(x) {
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) yield [...x.slice(0, i), ...x.slice(i + 1)];
    for (let i = 0; i < x.length; i++) yield x[i];
    for (let i = 0; i < x.length; i++) for (const c of simpler(x[i])) yield [...x.slice(0, i), c, ...x.slice(i + 1)];
  } else if (x && typeof x === 'object') {
    for (const k of Object.keys(x)) {
      const { [k]: _, ...rest } = x;
      yield rest;
    }
    for (const k of Object.keys(x)) for (const c of simpler(x[k])) yield { ...x, [k]: c };
  } else if (typeof x === 'string' && x.length > 0) {
    yield '';
  } else if (typeof x === 'number' && x !== 0) {
    yield 0;
  }
}

async function shrink(event, mapping, consent) {
  let budget = 3000;
  let changed = true;
  while (changed && budget > 0) {
    changed = false;
    for (const target of ['mapping', 'event']) {
      for (const candidate of simpler(target === 'mapping' ? mapping : event)) {
        if (--budget <= 0) break;
        const [e, m] = target === 'mapping' ? [event, candidate] : [candidate, mapping];
        if (!(await compareValue(e, m, consent)).same) {
          [event, mapping] = [e, m];
          changed = true;
          break;
        }
      }
      if (changed) break;
    }
  }
  return { event, mapping };
}

function show(x) {
  return inspect(x, { depth: null, breakLength: 120 });
}

// ---------------------------------------------------------------- tests

test('hand-written cases: every mapping form, callbacks and odd shapes match @walkeros/core', async () => {
  for (const [event, mapping, consent] of handWritten) {
    const result = await compareValue(event, mapping, consent);
    assert.ok(result.same, `mapping ${show(mapping)} on ${show(event)}: ours ${show(result.ours)}, walkerOS ${show(result.theirs)}`);
  }
});

test(`${CASES} generated cases match @walkeros/core (seed ${SEED})`, async () => {
  const gen = generator(SEED);
  let nonTrivial = 0;
  for (let i = 0; i < CASES; i++) {
    const event = gen.event();
    const mapping = gen.mapping(event);
    const consent = gen.consent();
    const result = await compareValue(event, mapping, consent);
    if (!result.same) {
      const minimal = await shrink(event, mapping, consent);
      const again = await compareValue(minimal.event, minimal.mapping, consent);
      assert.fail(
        `parity failure at case ${i} (PARITY_SEED=${SEED}); minimal case:\n` +
          `  event:   ${show(minimal.event)}\n  mapping: ${show(minimal.mapping)}\n  consent: ${show(consent)}\n` +
          `  ours:    ${show(again.ours)}\n  walkerOS: ${show(again.theirs)}`,
      );
    }
    if (result.ours.value !== undefined) nonTrivial++;
  }
  // A generator whose mappings all resolve to nothing would prove little.
  assert.ok(nonTrivial > CASES / 3, `only ${nonTrivial} of ${CASES} cases resolved to a value`);
});

// Rule resolution: the mapping key and the very rule object.
const A = { name: 'A' };
const B = { name: 'B' };
const C = { name: 'C' };
const D = { name: 'D' };
const S = { name: 'S' };
const conditional = [{ condition: (e) => e.data && e.data.x === 1, name: 'c1' }, { name: 'second' }];
const ruleTables = [
  [{ '*': { '*': A, view: B }, page: { '*': C, view: D } }, ['page view', 'page click', 'x view', 'x y']],
  [{ bar: { baz: A }, '*': { action: S } }, ['bar action', 'foo action', 'bar baz']],
  [{ product: { view: [{ condition: () => false }] }, '*': { '*': A } }, ['product view', 'product add']],
  [{ page: { view: conditional } }, ['page view', 'page click']],
  [{ page: { view: A } }, ['page', '', ' view', 'page  view', 'toString view', 'page view extra']],
  [{ page: {}, '*': { view: B } }, ['page view']],
  [{ page: null, '*': { view: B } }, ['page view']],
  [{ page: { view: null, '*': C } }, ['page view']],
  [{ '*': { '*': [{ condition: () => false }, D] } }, ['a b']],
];

test('rule resolution matches getMappingEvent, including conditions and own keys only', async () => {
  const c = await collector();
  for (const [mapping, names] of ruleTables) {
    for (const name of names) {
      for (const data of [{ x: 1 }, { x: 2 }]) {
        const event = { name, data };
        for (const withCollector of [undefined, c]) {
          const [a, b] = [await ours.getMappingEvent(event, mapping, withCollector), await core.getMappingEvent(event, mapping, withCollector)];
          assert.deepEqual(a, b, `${JSON.stringify(name)} on ${show(mapping)}`);
          assert.equal(a.eventMapping, b.eventMapping, 'the same rule object');
        }
      }
    }
  }
  // The one deliberate difference: own keys only. walkerOS matches the
  // inherited function `mapping.page.toString` for "page toString".
  assert.deepEqual(await ours.getMappingEvent({ name: 'page toString' }, { page: { view: A } }), {
    eventMapping: undefined,
    mappingKey: '',
  });
  assert.equal((await core.getMappingEvent({ name: 'page toString' }, { page: { view: A } })).mappingKey, 'page toString');

  const throwing = { page: { view: [{ condition: () => { throw new Error('x'); } }] } };
  await assert.rejects(ours.getMappingEvent({ name: 'page view' }, throwing));
  await assert.rejects(core.getMappingEvent({ name: 'page view' }, throwing));
});

test(`${Math.ceil(CASES / 3)} generated rule tables resolve as getMappingEvent does (seed ${SEED})`, async () => {
  const gen = generator(SEED + 1);
  const c = await collector();
  for (let i = 0; i < Math.ceil(CASES / 3); i++) {
    const table = gen.rules();
    const event = gen.ruleEvent();
    const [a, b] = [await ours.getMappingEvent(event, table, c), await core.getMappingEvent(event, table, c)];
    assert.deepEqual(a, b, `case ${i} (PARITY_SEED=${SEED}): ${show(event)} on ${show(table)}`);
    assert.equal(a.eventMapping, b.eventMapping);
  }
});
