// tests/parquet_gen.mjs MODULES_DIR OUT_DIR [SEED]
// tests/parquet_gen.mjs MODULES_DIR fuzz/corpus/parquet seeds   (small fuzz seeds)
//
// Writes MMLU-Pro-shaped parquet files with hyparquet-writer (question_id
// int64, question string, options list<string> of 3..10 items, answer
// string, answer_index int64, cot_content string, category string, src
// string) in several variants: SNAPPY and UNCOMPRESSED, dictionary and
// PLAIN, several row groups and pages, nulls.  Beside each FILE.parquet it
// writes FILE.oracle.jsonl: what hyparquet (the pure-JS reader) reads from
// it, in the shape `xuan data show` prints (numbers as decimal text, null as
// "", lists as arrays).  Also test.parquet / validation.parquet of a small
// MMLU-Pro set (mmlu-pro/ under OUT_DIR) for the task tests.
// The random text mixes ASCII, quotes, backslashes, control characters,
// Chinese and emoji, so escaping and UTF-8 both get exercised.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'

const [modules, out, seedArg] = process.argv.slice(2)
if (!modules || !out) {
  console.error('usage: parquet_gen.mjs MODULES_DIR OUT_DIR [SEED]')
  process.exit(2)
}
const require = createRequire(path.resolve(modules, 'package.json'))
const writer = await import(require.resolve('hyparquet-writer'))
const reader = await import(require.resolve('hyparquet'))
// hyparquet-writer writes data pages v2 only; pyarrow (MMLU-Pro's own files)
// writes v1.  writeV1 below builds v1 files from the writer's own parts.
const wdir = path.dirname(require.resolve('hyparquet-writer'))
const { serializeTCompactProtocol } = await import(path.join(wdir, 'thrift.js'))
const { writeRleBitPackedHybrid } = await import(path.join(wdir, 'encoding.js'))
const { snappyCompress } = await import(path.join(wdir, 'snappy.js'))
const { ByteWriter } = await import(path.join(wdir, 'bytewriter.js'))

const SMALL = seedArg === 'seeds' // the fuzz corpus: every variant, 4 rows
const BASE = SMALL ? 99 : Number(seedArg || 1) >>> 0
let seed = BASE
function rand() { // xorshift32: the same files for the same seed
  seed ^= seed << 13; seed >>>= 0
  seed ^= seed >>> 17
  seed ^= seed << 5; seed >>>= 0
  return seed / 4294967296
}
const pick = (a) => a[Math.floor(rand() * a.length)]
const pieces = ['the', 'answer', 'is', '(B)', 'Let\'s think step by step.', '"quoted"', 'back\\slash', 'tab\there',
  'new\nline', '\u0001ctl', '概率', '医学', '😀', 'x^2', '$5.00', '', ' ', 'N/A']
function text(maxWords) {
  const n = Math.floor(rand() * maxWords)
  let s = ''
  for (let i = 0; i < n; i++) s += (i ? ' ' : '') + pick(pieces)
  return s
}
const CATS = ['math', 'law', 'health', 'computer science', 'other']
const LETTERS = 'ABCDEFGHIJ'

function rows(n, firstId) {
  const r = []
  for (let i = 0; i < n; i++) {
    const k = 3 + Math.floor(rand() * 8) // 3..10 options
    const options = []
    for (let j = 0; j < k; j++) options.push(text(6) || 'opt' + j)
    const ai = Math.floor(rand() * k)
    r.push({
      question_id: BigInt(firstId + i),
      question: 'Q' + (firstId + i) + ': ' + text(20),
      options,
      answer: LETTERS[ai],
      answer_index: BigInt(ai),
      cot_content: 'A: Let\'s think step by step. ' + text(30) + ' The answer is (' + LETTERS[ai] + ').',
      category: pick(CATS),
      src: 'ori_mmlu-' + pick(['a', 'b', 'c']),
    })
  }
  return r
}

// The schema pyarrow gives MMLU-Pro: optional leaves, a 3-level LIST.
const schema = [
  { name: 'root', num_children: 8 },
  { name: 'question_id', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'question', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'options', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'answer', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'answer_index', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'cot_content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'category', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'src', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
]
const NAMES = ['question_id', 'question', 'options', 'answer', 'answer_index', 'cot_content', 'category', 'src']

function write(file, data, opts) {
  const columnData = NAMES.map((name) => ({
    name,
    data: data.map((r) => r[name]),
    ...(opts.encoding ? { encoding: opts.encoding } : {}),
  }))
  const sch = opts.required ? schema.map((e) => (e.name === 'root' || e.name === 'list' ? e : { ...e, repetition_type: 'REQUIRED' })) : schema
  const buf = writer.parquetWriteBuffer({
    columnData, schema: sch, codec: opts.codec, rowGroupSize: opts.rowGroupSize || 100000,
    pageSize: opts.pageSize || 1048576, statistics: true,
  })
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, Buffer.from(buf))
  return buf
}

// Data page v1 files: one row group; question_id and answer_index INT64 PLAIN,
// the strings through a dictionary page and RLE_DICTIONARY, options PLAIN
// with repetition levels; each level block prefixed with its 4-byte length.
function hybridBytes(values, bitWidth) {
  const w = new ByteWriter()
  writeRleBitPackedHybrid(w, values, bitWidth)
  return new Uint8Array(w.getBuffer())
}
function levelsBlock(values, bitWidth) {
  const b = hybridBytes(values, bitWidth)
  const out = new Uint8Array(4 + b.length)
  new DataView(out.buffer).setUint32(0, b.length, true)
  out.set(b, 4)
  return out
}
function plainBytes(vals, type) {
  const w = new ByteWriter()
  for (const v of vals) {
    if (type === 'INT64') w.appendInt64(BigInt(v))
    else {
      const b = new TextEncoder().encode(v)
      w.appendUint32(b.length)
      w.appendBytes(b)
    }
  }
  return new Uint8Array(w.getBuffer())
}
const cat = (parts) => {
  const n = parts.reduce((a, p) => a + p.length, 0)
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) out.set(p, at), at += p.length
  return out
}
function writeV1(file, data, codec) {
  const body = new ByteWriter()
  body.appendBytes(new TextEncoder().encode('PAR1'))
  const chunks = []
  const page = (type, header, raw) => {
    const comp = codec === 'SNAPPY' ? snappyCompress(raw)
      : codec === 'ZSTD' ? new Uint8Array(execFileSync('zstd', ['-q', '-c', '-3'], { input: raw }))
        : raw
    const h = { field_1: type, field_2: raw.length, field_3: comp.length, ...header }
    const hw = new ByteWriter()
    serializeTCompactProtocol(hw, h)
    const hb = new Uint8Array(hw.getBuffer())
    return cat([hb, comp])
  }
  const codecId = { UNCOMPRESSED: 0, SNAPPY: 1, ZSTD: 6 }[codec]
  for (const name of NAMES) {
    const vals = data.map((r) => r[name])
    const start = body.offset
    let bytes, dictOffset, numValues, dataOffset = start
    const dataHeader = (n, enc) => ({ field_5: { field_1: n, field_2: enc, field_3: 3, field_4: 3 } })
    if (name === 'options') {
      const rep = [], def = [], present = []
      for (const v of vals) {
        if (v === null) { rep.push(0); def.push(0); continue }
        if (v.length === 0) { rep.push(0); def.push(1); continue }
        v.forEach((e, j) => { rep.push(j ? 1 : 0); def.push(e === null ? 2 : 3); if (e !== null) present.push(e) })
      }
      numValues = rep.length
      bytes = page(0, dataHeader(rep.length, 0), cat([levelsBlock(rep, 1), levelsBlock(def, 2), plainBytes(present, 'BYTE_ARRAY')]))
    } else {
      const def = vals.map((v) => (v === null ? 0 : 1))
      const present = vals.filter((v) => v !== null)
      numValues = vals.length
      const type = name === 'question_id' || name === 'answer_index' ? 'INT64' : 'BYTE_ARRAY'
      if (type === 'INT64') {
        bytes = page(0, dataHeader(vals.length, 0), cat([levelsBlock(def, 1), plainBytes(present, type)]))
      } else {
        const dict = [...new Set(present)]
        const idx = present.map((v) => dict.indexOf(v))
        let bw = 0
        while ((1 << bw) < dict.length) bw++
        const dpage = page(2, { field_7: { field_1: dict.length, field_2: 0 } }, plainBytes(dict, type))
        dictOffset = start
        dataOffset = start + dpage.length
        const dp = page(0, dataHeader(vals.length, 8), cat([levelsBlock(def, 1), new Uint8Array([bw]), hybridBytes(idx, bw)]))
        bytes = cat([dpage, dp])
      }
    }
    body.appendBytes(bytes)
    const type = name === 'question_id' || name === 'answer_index' ? 1 + 1 : 6
    chunks.push({
      field_2: BigInt(start),
      field_3: {
        field_1: type, field_2: dictOffset !== undefined ? [0, 3, 8] : [0, 3],
        field_3: name === 'options' ? ['options', 'list', 'element'] : [name],
        field_4: codecId, field_5: BigInt(numValues), field_6: BigInt(bytes.length), field_7: BigInt(bytes.length),
        field_9: BigInt(dataOffset),
        ...(dictOffset !== undefined ? { field_11: BigInt(dictOffset) } : {}),
      },
    })
  }
  const types = { INT64: 2, BYTE_ARRAY: 6 }
  const meta = {
    field_1: 1,
    field_2: schema.map((e) => ({
      field_1: e.type && types[e.type],
      field_3: e.repetition_type && ['REQUIRED', 'OPTIONAL', 'REPEATED'].indexOf(e.repetition_type),
      field_4: e.name, field_5: e.num_children,
      field_6: e.converted_type && { UTF8: 0, LIST: 3 }[e.converted_type],
    })),
    field_3: BigInt(data.length),
    field_4: [{ field_1: chunks, field_2: 0n, field_3: BigInt(data.length) }],
    field_6: 'xuan tests/parquet_gen.mjs (data page v1)',
  }
  const mw = new ByteWriter()
  serializeTCompactProtocol(mw, meta)
  const mb = new Uint8Array(mw.getBuffer())
  body.appendBytes(mb)
  body.appendUint32(mb.length)
  body.appendBytes(new TextEncoder().encode('PAR1'))
  fs.writeFileSync(file, Buffer.from(body.getBuffer()))
  return body.getBuffer()
}

// hyparquet's reading, in `xuan data show`'s shape.
async function oracle(file, buf) {
  const compressors = { ZSTD: (input) => new Uint8Array(execFileSync('zstd', ['-q', '-d', '-c'], { input })) }
  const objs = await reader.parquetReadObjects({ file: buf, compressors })
  const lines = objs.map((o, i) => {
    const r = { line: i + 1 }
    for (const k of NAMES) {
      const v = o[k]
      if (v === null || v === undefined) r[k] = ''
      else if (typeof v === 'bigint' || typeof v === 'number') r[k] = String(v)
      else if (Array.isArray(v)) r[k] = v.map((e) => (e === undefined ? null : e))
      else r[k] = v
    }
    return JSON.stringify(r)
  })
  fs.writeFileSync(file.replace(/\.parquet$/, '.oracle.jsonl'), lines.join('\n') + (lines.length ? '\n' : ''))
}

const variants = [
  ['snappy-dict', { codec: 'SNAPPY' }],
  ['snappy-plain', { codec: 'SNAPPY', encoding: 'PLAIN' }],
  ['plain-uncompressed', { codec: 'UNCOMPRESSED', encoding: 'PLAIN' }],
  ['dict-uncompressed', { codec: 'UNCOMPRESSED', encoding: 'RLE_DICTIONARY' }],
  ['groups-pages', { codec: 'SNAPPY', rowGroupSize: 37, pageSize: 512 }],
  // one-entry dictionaries (bit width 0) in row groups of 3
  ['tiny-groups-dict', { codec: 'SNAPPY', encoding: 'RLE_DICTIONARY', rowGroupSize: 3, pageSize: 64 }],
  // whole columns of nulls: pages with no values at all (fuzz_parquet's first finding)
  ['all-null', { codec: 'SNAPPY', allNull: true }],
  // required columns and a required list of required strings: no definition levels at all
  ['required', { codec: 'SNAPPY', required: true }],
]
for (const [name, opts] of variants) {
  const data = rows(SMALL ? 8 : 120, 70)
  // nulls in every column but the list's elements (and a null list, an empty list)
  if (!opts.required) {
    data[3].question = null
    data[4].options = null
    data[5].options = []
    data[6].options = ['only', null, 'three']
    data[7].answer_index = null
  } else data[5].options = [] // a required list may still be empty
  if (opts.allNull) for (const r of data) r.question = null, r.options = null, r.answer_index = null
  const file = path.join(out, name + '.parquet')
  if (SMALL) { write(file, data, { ...opts, rowGroupSize: 3, pageSize: 64 }); continue }
  await oracle(file, write(file, data, opts))
}
// ZSTD pages come from Debian's zstd program (node 20 has no zstd)
let haveZstd = true
try { execFileSync('zstd', ['--version']) } catch { haveZstd = false }
for (const codec of ['SNAPPY', 'UNCOMPRESSED', ...(haveZstd ? ['ZSTD'] : [])]) {
  const data = rows(SMALL ? 8 : 90, 500)
  data[2].question = null
  data[3].options = null
  data[4].options = []
  data[5].options = ['a', null, 'c']
  data[6].question_id = null
  const file = path.join(out, 'v1-' + codec.toLowerCase() + '.parquet')
  if (SMALL) { writeV1(file, data, codec); continue }
  await oracle(file, writeV1(file, data, codec))
}
if (SMALL) process.exit(0)
{ // an empty file (no rows)
  const file = path.join(out, 'empty.parquet')
  await oracle(file, write(file, [], { codec: 'SNAPPY' }))
}

// A small MMLU-Pro set for the task: 6 validation rows for each category but
// 'other' (3: fewer shots than asked), none for 'history' (no shots); test
// rows padded with "N/A" options at the end as MMLU-Pro pads them
// (preprocess() drops those), one question of a single option.
seed = (BASE ^ 0x9e3779b9) >>> 0 || 1 // its own stream: the set does not change when variants are added above
const val = []
let id = 0
for (const c of CATS) {
  for (const r of rows(c === 'other' ? 3 : 6, id)) val.push({ ...r, category: c })
  id += 6
}
val[1].options = [...val[1].options, 'N/A', 'N/A']
const test = rows(40, 1000)
test[0].options = ['one', 'two', 'three', 'N/A', 'N/A']
test[0].answer = 'C'
test[0].answer_index = 2n
test[1].category = 'history'
test[2].options = ['the only one']
test[2].answer = 'A'
test[2].answer_index = 0n
for (const [name, data] of [['validation', val], ['test', test]]) {
  const file = path.join(out, 'mmlu-pro', name + '.parquet')
  await oracle(file, write(file, data, { codec: 'SNAPPY' }))
}

// Files xuan must refuse, naming the column and the feature.
fs.writeFileSync(path.join(out, 'refuse-double.parquet'), Buffer.from(writer.parquetWriteBuffer({
  columnData: [{ name: 'q', data: ['a', 'b'], type: 'STRING' }, { name: 'score', data: [1.5, 2.5], type: 'DOUBLE' }],
})))
fs.writeFileSync(path.join(out, 'refuse-delta.parquet'), Buffer.from(writer.parquetWriteBuffer({
  columnData: [{ name: 'n', data: [1n, 2n, 3n], type: 'INT64', encoding: 'DELTA_BINARY_PACKED' }],
})))
fs.writeFileSync(path.join(out, 'refuse-struct.parquet'), Buffer.from(writer.parquetWriteBuffer({
  columnData: [{ name: 's', data: [{ a: 1 }, { a: 2 }] }],
  schema: [{ name: 'root', num_children: 1 }, { name: 's', repetition_type: 'OPTIONAL', num_children: 1 },
    { name: 'a', type: 'INT32', repetition_type: 'OPTIONAL' }],
})))
