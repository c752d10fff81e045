#!/usr/bin/env node
// Generates the code and the reference tables of MetaStore's binary formats from their one
// declaration each in formats/*.mjs (formats/README.md describes them): Rust constants, enums and
// compile-time layout assertions, TypeScript constants and offsets objects, and docs/formats.md.
//
//   node scripts/gen-formats.mjs           (re)writes every generated file
//   node scripts/gen-formats.mjs --check   writes nothing; exits 1, naming each generated file
//                                          that differs from what the declarations give (CI)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = 'scripts/gen-formats.mjs';

/** The declarations, in the order docs/formats.md presents them. */
const FORMATS = ['codec', 'results', 'errors', 'entry', 'snapshot', 'wal'];

/** Which formats each generated file holds, and in which language. */
const OUTPUTS = [
  { path: 'crates/metastore-core/src/layout.rs', lang: 'rust', formats: ['codec', 'results', 'errors', 'entry', 'snapshot'] },
  { path: 'crates/metastore-wal/src/layout.rs', lang: 'rust', formats: ['wal'] },
  { path: 'ts/codec/layout.ts', lang: 'ts', formats: ['codec'] },
  { path: 'ts/codec/results-layout.ts', lang: 'ts', formats: ['results'] },
  { path: 'ts/codec/error-numbers.ts', lang: 'ts', formats: ['errors'] },
  { path: 'ts/log/entry-layout.ts', lang: 'ts', formats: ['entry'] },
  // The WAL is read in JavaScript only by tests, some of them plain .mjs run by node.
  { path: 'test/wal-layout.mjs', lang: 'js', formats: ['wal'] },
  { path: 'test/wal-layout.d.mts', lang: 'dts', formats: ['wal'] },
  { path: 'docs/formats.md', lang: 'md', formats: FORMATS },
];

const SCALARS = { u8: 1, u16: 2, u32: 4, u64: 8, i64: 8 };

class SpecError extends Error {}
const fail = (where, message) => {
  throw new SpecError(`${where}: ${message}`);
};

// ---------------------------------------------------------------------------------------------
// Reading the declarations

/** Every declared item by name, across formats (types refer to each other across files). */
const byName = new Map();

async function loadFormats() {
  const formats = [];
  for (const id of FORMATS) {
    const file = `formats/${id}.mjs`;
    const spec = (await import(join(root, file))).default;
    const format = { id, file, title: spec.title, doc: spec.doc, rules: spec.rules, items: [] };
    for (const raw of spec.items) {
      const kind = ['layout', 'union', 'enum', 'flags', 'errors', 'constant'].find((k) => k in raw);
      if (kind === undefined) fail(file, `item ${JSON.stringify(raw).slice(0, 60)} has no kind`);
      const item = { ...raw, kind, name: raw[kind], format };
      if (!item.doc) fail(file, `${item.name} has no doc`);
      if (byName.has(item.name)) fail(file, `${item.name} is declared twice`);
      byName.set(item.name, item);
      format.items.push(item);
    }
    formats.push(format);
  }
  for (const format of formats) for (const item of format.items) check(item);
  for (const format of formats) for (const item of format.items) if (item.kind === 'layout') measure(item);
  return formats;
}

/** Checks an item's own shape (layouts are checked as they are measured). */
function check(item) {
  const where = `${item.format.file}: ${item.name}`;
  if (item.kind === 'enum' || item.kind === 'errors' || item.kind === 'flags') {
    if (!(item.type in SCALARS)) fail(where, `type ${item.type} is not an integer type`);
    const list = item.kind === 'flags' ? item.bits : item.values;
    const seen = new Set();
    for (const v of list) {
      if (!/^[A-Z][A-Z0-9_]*$/.test(v.name)) fail(where, `${v.name} is not UPPER_SNAKE_CASE`);
      if (!v.doc) fail(where, `${v.name} has no doc`);
      const n = item.kind === 'flags' ? v.bit : v.value;
      if (!Number.isInteger(n) || seen.has(n)) fail(where, `${v.name}: ${n} is not a new integer`);
      const limit = item.kind === 'flags' ? 8 * SCALARS[item.type] : 2 ** (8 * SCALARS[item.type]);
      if (n < 0 || n >= limit) fail(where, `${v.name}: ${n} does not fit a ${item.type}`);
      seen.add(n);
    }
  }
  if (item.kind === 'enum') {
    for (const v of item.values) if (v.flags !== undefined && byName.get(v.flags)?.kind !== 'flags') fail(where, `${v.name}: no flags ${v.flags}`);
  }
  if (item.kind === 'union') {
    for (const member of item.of) if (byName.get(member)?.kind !== 'layout') fail(where, `member ${member} is not a layout`);
  }
}

/**
 * Parses a field type: a scalar (`u32`), bytes (`bytes[8]`, `bytes[keyLen]`), a layout or union
 * (`Kv`), or a list of any of these (`Op[count]`, `u32[count]`). Returns the element type, the
 * count as written, and the element's and the field's size in bytes (undefined when it varies).
 */
function parseType(type, where, earlier) {
  const m = /^(\w+)(?:\[(\w+)\])?$/.exec(type);
  if (m === null) fail(where, `cannot read type ${type}`);
  const [, element, count] = m;
  let elementSize;
  if (element === 'bytes') {
    if (count === undefined) fail(where, 'bytes needs a length: bytes[8] or bytes[lengthField]');
    elementSize = 1;
  } else if (element in SCALARS) {
    elementSize = SCALARS[element];
  } else {
    const ref = byName.get(element);
    if (ref?.kind === 'layout') elementSize = measure(ref).varies ? undefined : ref.fixedSize;
    else if (ref?.kind === 'union') elementSize = undefined;
    else fail(where, `unknown type ${element}`);
  }
  let counted;
  if (count === undefined) counted = 1;
  else if (/^\d+$/.test(count)) counted = Number(count);
  else {
    const length = earlier.find((f) => f.name === count);
    if (length === undefined || !(length.type in SCALARS)) fail(where, `${count} must be an integer field before it`);
  }
  const size = counted === undefined || elementSize === undefined ? undefined : counted * elementSize;
  return { element, count, elementSize, size };
}

/** Works out a layout's field offsets and fixed size (once; layouts may embed one another). */
function measure(layout) {
  if (layout.fixedSize !== undefined) return layout;
  if (layout.measuring) fail(layout.format.file, `${layout.name} contains itself`);
  layout.measuring = true;
  const where = `${layout.format.file}: ${layout.name}`;
  for (const key of ['prefix', 'size']) if (!/^[A-Z][A-Z0-9_]*$/.test(layout[key] ?? '')) fail(where, `${key} must be an UPPER_SNAKE_CASE name`);
  let at = 0; // undefined once a field of varying size has passed
  let fixedSize = 0;
  const varyingTerms = []; // what the fields of varying size before a field add to its offset
  const fields = [];
  for (const raw of layout.fields) {
    const f = { ...raw, ...parseType(raw.type, `${where}.${raw.name}`, fields) };
    if (!/^[a-z][A-Za-z0-9]*$/.test(f.name)) fail(where, `field ${f.name} is not camelCase`);
    if (!f.doc) fail(where, `field ${f.name} has no doc`);
    if (fields.some((g) => g.name === f.name)) fail(where, `field ${f.name} twice`);
    checkValue(f, `${where}.${f.name}`);
    if (f.enum !== undefined && !['enum', 'errors'].includes(byName.get(f.enum)?.kind)) fail(where, `field ${f.name}: no enum ${f.enum}`);
    if (f.flags !== undefined && byName.get(f.flags)?.kind !== 'flags') fail(where, `field ${f.name}: no flags ${f.flags}`);
    f.at = at;
    f.offsetText = varyingTerms.length === 0 ? String(fixedSize) : [...(fixedSize === 0 ? [] : [fixedSize]), ...varyingTerms].join(' + ');
    f.sizeText =
      f.size !== undefined ? String(f.size) : f.element === 'bytes' ? f.count : f.elementSize !== undefined ? `${f.elementSize}·${f.count}` : 'varies';
    if (f.size !== undefined) {
      fixedSize += f.size;
      if (at !== undefined) at += f.size;
    } else {
      at = undefined;
      varyingTerms.push(f.sizeText === 'varies' ? f.name : f.sizeText);
    }
    fields.push(f);
  }
  Object.assign(layout, { fields, fixedSize, varies: at === undefined, measuring: false });
  return layout;
}

/** A field's fixed value: magic text for bytes, 0 for zeros, a number, or `Enum.NAME`. */
function checkValue(f, where) {
  if (f.value === undefined) {
    if (f.const !== undefined) fail(where, 'const needs a value');
    return;
  }
  if (f.element === 'bytes') {
    if (typeof f.value === 'string') {
      if (f.value.length !== f.size || !/^[\x20-\x7e]+$/.test(f.value)) fail(where, `${JSON.stringify(f.value)} is not ${f.size} ASCII bytes`);
    } else if (f.value !== 0) fail(where, 'bytes take a text value or 0');
  } else if (f.element in SCALARS && f.count === undefined) {
    if (typeof f.value === 'string') {
      const [enumName, valueName] = f.value.split('.');
      const value = byName.get(enumName)?.values?.find((v) => v.name === valueName);
      if (value === undefined) fail(where, `no ${f.value}`);
      f.resolved = value.value;
    } else if (!Number.isInteger(f.value)) fail(where, 'value must be an integer');
    else f.resolved = f.value;
  } else fail(where, 'only bytes and integer fields take a value');
  if (f.const !== undefined && !/^[A-Z][A-Z0-9_]*$/.test(f.const)) fail(where, `const ${f.const} is not UPPER_SNAKE_CASE`);
}

// ---------------------------------------------------------------------------------------------
// Names

const snake = (camel) => camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const pascal = (upper) => upper.toLowerCase().replace(/(^|_)([a-z0-9])/g, (_, __, c) => c.toUpperCase());
const offsetConst = (layout, field) => `${layout.prefix}_${snake(field.name)}_AT`;
const offsetsObject = (layout) => `${layout.name}Offsets`;
const flagValue = (bit) => 2 ** bit.bit;
const hexBytes = (text) => [...text].map((c) => `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
const oneLine = (text) => text.replace(/\s+/g, ' ').trim();

/** Columns a comment line may take (less inside a Rust module, whose lines get indented). */
let commentWidth = 100;

/** `text` as comment lines of at most `commentWidth` columns, each starting with `lead`. */
function wrap(text, lead) {
  const lines = [];
  let line = '';
  for (const word of oneLine(text).split(' ')) {
    if (line !== '' && lead.length + line.length + 1 + word.length > commentWidth) {
      lines.push(lead + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(lead + line);
  return `${lines.join('\n')}\n`;
}

/** A layout's fields that come with a constant of their own: magics and fixed versions. */
const fieldConstants = (layout) => layout.fields.filter((f) => f.const !== undefined);
/** The Rust constant of an enum value (enums declared with `rust: { consts: PREFIX }`). */
const rustConstName = (item, v) => `${item.rust.consts}${v.name}`;

function header(lang, formats) {
  const from = formats.map((id) => `formats/${id}.mjs`).join(', ');
  const text = `Generated by ${SELF} from ${from}; do not edit. Change the declaration and run \`node ${SELF}\`.`;
  return lang === 'md' ? `<!-- ${text} -->\n` : wrap(text, '// ');
}

// ---------------------------------------------------------------------------------------------
// Rust

function rustDoc(text, indent = '') {
  return wrap(text, `${indent}/// `);
}

function rustItems(formats) {
  if (formats.length === 1) return `\n// ${'-'.repeat(20)} ${formats[0].title} (${formats[0].file}) ${'-'.repeat(20)}\n${rustFormat(formats[0])}`;
  // One module per format when a crate holds several, so that each hand-written module can take
  // its own format whole (`pub use crate::layout::codec::*`).
  return formats
    .map((format) => {
      const about = wrap(`${format.title} (${format.file}).`, '/// ');
      commentWidth = 96;
      const sizeOf = format.items.some((item) => item.kind === 'layout') ? 'use core::mem::size_of;\n' : '';
      const body = indent(`${sizeOf}${rustFormat(format)}`);
      commentWidth = 100;
      return `\n${about}pub mod ${format.id} {\n${body}}\n`;
    })
    .join('');
}

const rustFormat = (format) => format.items.map(rustItem).join('');
const indent = (text) => text.replace(/^(?=.)/gm, '    ');

function rustItem(item) {
  switch (item.kind) {
    case 'constant': {
      if (item.type.startsWith('bytes')) return `\n${rustDoc(item.doc)}pub const ${item.name}: [u8; ${item.value.length}] = *b"${item.value}";\n`;
      return `\n${rustDoc(item.doc)}pub const ${item.name}: ${item.type} = ${item.value};\n`;
    }
    case 'union':
      return '';
    case 'flags': {
      let out = `\n${wrap(`${item.name}: ${item.doc}`, '// ')}`;
      for (const bit of item.bits)
        out += `${rustDoc(`${item.name}.${bit.name}: ${bit.doc}`)}pub const ${item.rust.consts}${bit.name}: ${item.type} = 1 << ${bit.bit};\n`;
      return out;
    }
    case 'enum':
    case 'errors':
      return item.rust?.consts ? rustConsts(item) : rustEnum(item);
    case 'layout':
      return rustLayout(item);
  }
}

function rustConsts(item) {
  let out = `\n${wrap(`${item.name}: ${item.doc}`, '// ')}`;
  for (const v of item.values) out += `${rustDoc(`${item.name}.${v.name}: ${v.doc}`)}pub const ${rustConstName(item, v)}: ${item.type} = ${v.value};\n`;
  if (item.definedFlags) {
    const max = Math.max(...item.values.map((v) => v.value));
    const masks = Array.from({ length: max + 1 }, (_, n) => {
      const flags = byName.get(item.values.find((v) => v.value === n)?.flags);
      return flags === undefined ? '0' : flags.bits.map((b) => `${flags.rust.consts}${b.name}`).join(' | ');
    });
    out += rustDoc(`The flag bits each ${item.name} defines, indexed by type; any other bit set makes an op malformed.`);
    out += `pub const ${item.definedFlags}: [${item.type}; ${max + 1}] = [${masks.join(', ')}];\n`;
  }
  return out;
}

function rustEnum(item) {
  let out = `\n${rustDoc(item.doc)}#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]\n#[repr(${item.type})]\npub enum ${item.name} {\n`;
  for (const v of item.values) out += `${rustDoc(v.doc, '    ')}    ${pascal(v.name)} = ${v.value},\n`;
  out += `}\n\nimpl ${item.name} {\n`;
  out += `    /// The value numbered \`n\`, if there is one.\n    pub const fn from_repr(n: ${item.type}) -> Option<Self> {\n        match n {\n`;
  for (const v of item.values) out += `            ${v.value} => Some(Self::${pascal(v.name)}),\n`;
  out += `            _ => None,\n        }\n    }\n`;
  if (item.kind === 'errors') {
    out += `\n    /// The stable code the TypeScript side exposes (\`ERR_\` and the name).\n    pub fn code(self) -> &'static str {\n        match self {\n`;
    for (const v of item.values) out += `            Self::${pascal(v.name)} => "ERR_${v.name}",\n`;
    out += `        }\n    }\n`;
  }
  return `${out}}\n`;
}

/** The Rust expression for a field's size, for the layout assertions. */
function rustSize(f) {
  if (f.const !== undefined && f.element === 'bytes') return `${f.const}.len()`;
  if (f.element === 'bytes') return String(f.size);
  const one = f.element in SCALARS ? `size_of::<${f.element}>()` : byName.get(f.element).size;
  return f.count === undefined ? one : `${f.count} * ${one}`;
}

function rustLayout(layout) {
  const { fields } = layout;
  let out = `\n${wrap(`${layout.name}: ${layout.doc}`, '// ')}`;
  for (const f of fieldConstants(layout)) {
    const doc = `${layout.name}.${f.name}: ${f.doc}`;
    out +=
      typeof f.value === 'string'
        ? `${rustDoc(doc)}pub const ${f.const}: [u8; ${f.size}] = *b"${f.value}";\n`
        : `${rustDoc(doc)}pub const ${f.const}: ${f.element} = ${f.value};\n`;
  }
  const varying = fields.filter((f) => f.size === undefined).map((f) => f.name);
  const sizeDoc =
    varying.length === 0 ? `${layout.name}: its size in bytes.` : `${layout.name}: bytes of its fixed-size fields (all but ${varying.join(', ')}).`;
  out += `${rustDoc(sizeDoc)}pub const ${layout.size}: usize = ${layout.fixedSize};\n`;
  for (const f of fields) {
    if (f.at === undefined) continue;
    out += `${rustDoc(`${layout.name}.${f.name} (${f.type}): ${f.doc}`)}pub const ${offsetConst(layout, f)}: usize = ${f.at};\n`;
  }
  // The offsets follow one another and the fixed size adds up: a hand edit here fails the build.
  for (let i = 1; i < fields.length; i++) {
    const [before, f] = [fields[i - 1], fields[i]];
    if (f.at === undefined || before.at === undefined) continue;
    out += `const _: () = assert!(${offsetConst(layout, f)} == ${offsetConst(layout, before)} + ${rustSize(before)});\n`;
  }
  const sum = fields.filter((f) => f.size !== undefined).map(rustSize);
  out += `const _: () = assert!(${layout.size} == ${sum.length === 0 ? '0' : sum.join(' + ')});\n`;
  return out;
}

function rust(output, formats) {
  const titles = formats.map((f) => f.title).join('; ');
  const about = `The byte layouts of: ${titles}. One constant per number, the offset of every field at a fixed position (\`<LAYOUT>_<FIELD>_AT\`), and compile-time checks that they add up. Reference: docs/formats.md.`;
  const sizeOf = formats.length === 1 ? '\nuse core::mem::size_of;\n' : '';
  return `${header('rust', output.formats)}\n${wrap(about, '//! ')}${sizeOf}${rustItems(formats)}`;
}

// ---------------------------------------------------------------------------------------------
// TypeScript (and the same module as plain JavaScript with its declarations)

const tsString = (text) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function tsDoc(text, indent = '') {
  const one = `${indent}/** ${oneLine(text)} */`;
  return one.length <= 100 ? `${one}\n` : `${indent}/**\n${wrap(text, `${indent} * `)}${indent} */\n`;
}

function ts(output, formats) {
  const lang = output.lang; // ts | js | dts
  const titles = formats.map((f) => f.title).join('; ');
  let out = `${header(lang, output.formats)}\n${tsDoc(`The byte layouts of: ${titles}. Reference: docs/formats.md.`)}`;
  const asConst = lang === 'ts' ? ' as const' : '';
  const constant = (doc, name, value, type) => {
    if (lang === 'dts') return `${tsDoc(doc)}export declare const ${name}: ${type ?? value};\n`;
    return `${tsDoc(doc)}export const ${name} = ${value};\n`;
  };
  const object = (doc, name, entries, typeAlias) => {
    let o = tsDoc(doc);
    if (lang === 'dts') {
      o += `export declare const ${name}: {\n`;
      for (const [key, value, d] of entries) o += `${d ? tsDoc(d, '  ') : ''}  readonly ${key}: ${value};\n`;
      o += '};\n';
    } else {
      o += `export const ${name} = {\n`;
      for (const [key, value, d] of entries) o += `${d ? tsDoc(d, '  ') : ''}  ${key}: ${value},\n`;
      o += `}${asConst};\n`;
    }
    if (typeAlias && lang !== 'js') o += `${tsDoc(doc)}export type ${name} = (typeof ${name})[keyof typeof ${name}];\n`;
    return o;
  };
  for (const format of formats) {
    out += `\n// ${'-'.repeat(20)} ${format.title} (${format.file}) ${'-'.repeat(20)}\n`;
    for (const item of format.items) {
      if (item.kind !== 'union' && !out.endsWith('\n\n')) out += '\n';
      switch (item.kind) {
        case 'constant':
          if (item.type.startsWith('bytes'))
            out += constant(
              `${item.doc} ("${item.value}")`,
              item.name,
              `[${hexBytes(item.value).join(', ')}]${asConst}`,
              `readonly [${hexBytes(item.value).join(', ')}]`,
            );
          else out += constant(item.doc, item.name, item.value);
          break;
        case 'flags':
          out += object(
            item.doc,
            item.name,
            item.bits.map((b) => [b.name, flagValue(b), b.doc]),
            false,
          );
          break;
        case 'enum':
        case 'errors':
          out += object(
            item.doc,
            item.name,
            item.values.map((v) => [v.name, v.value, v.doc]),
            true,
          );
          if (item.definedFlags) {
            const max = Math.max(...item.values.map((v) => v.value));
            const masks = Array.from({ length: max + 1 }, (_, n) => {
              const flags = byName.get(item.values.find((v) => v.value === n)?.flags);
              return flags === undefined ? 0 : flags.bits.reduce((mask, b) => mask | flagValue(b), 0);
            });
            const doc = `The flag bits each ${item.name} defines, indexed by type; any other bit set makes an op malformed.`;
            out +=
              lang === 'dts'
                ? `${tsDoc(doc)}export declare const ${item.definedFlags}: readonly number[];\n`
                : `${tsDoc(doc)}export const ${item.definedFlags}${lang === 'ts' ? ': readonly number[]' : ''} = [${masks.join(', ')}];\n`;
          }
          if (item.kind === 'errors') out += tsErrorTable(item, lang);
          break;
        case 'layout':
          for (const f of fieldConstants(item)) {
            const doc = `${item.name}.${f.name}: ${f.doc}`;
            if (typeof f.value === 'string')
              out += constant(`${doc} ("${f.value}")`, f.const, `[${hexBytes(f.value).join(', ')}]${asConst}`, `readonly [${hexBytes(f.value).join(', ')}]`);
            else out += constant(doc, f.const, f.value);
          }
          {
            const varying = item.fields.filter((f) => f.size === undefined).map((f) => f.name);
            const sizeDoc =
              varying.length === 0 ? `${item.name}: its size in bytes.` : `${item.name}: bytes of its fixed-size fields (all but ${varying.join(', ')}).`;
            out += constant(sizeDoc, item.size, item.fixedSize);
            const placed = item.fields.filter((f) => f.at !== undefined);
            out += object(
              `Offsets of a ${item.name}'s fields from its first byte (the fields at a fixed position).`,
              offsetsObject(item),
              placed.map((f) => [f.name, f.at, `${f.type}: ${f.doc}`]),
              false,
            );
          }
          break;
      }
    }
  }
  return out;
}

/** Code, etcd category and message of each error number, indexed by number. */
function tsErrorTable(item, lang) {
  const codes = item.values.map((v) => `'ERR_${v.name}'`).join(' | ');
  let out = tsDoc(`The code of each ${item.name}: \`ERR_\` and its name.`);
  out += lang === 'js' ? '' : `export type NumberedErrorCode = ${codes};\n`;
  const doc = `Code, etcd status category and message of each ${item.name}, indexed by number (0 is none).`;
  const max = Math.max(...item.values.map((v) => v.value));
  const rows = Array.from({ length: max + 1 }, (_, n) => {
    const v = item.values.find((x) => x.value === n);
    return v === undefined ? 'undefined' : `{ code: 'ERR_${v.name}', category: '${v.category}', message: ${tsString(v.message)} }`;
  });
  if (lang === 'dts')
    return `${out}${tsDoc(doc)}export declare const ERROR_INFO: ReadonlyArray<{ readonly code: NumberedErrorCode; readonly category: string; readonly message: string } | undefined>;\n`;
  return `${out}${tsDoc(doc)}export const ERROR_INFO = [\n${rows.map((r) => `  ${r},\n`).join('')}]${lang === 'ts' ? ' as const' : ''};\n`;
}

// ---------------------------------------------------------------------------------------------
// docs/formats.md

const cell = (text) => oneLine(String(text)).replace(/\|/g, '\\|');
const anchor = (name) => `#${name.toLowerCase()}`;
const link = (name) => (byName.has(name) ? `[${name}](${anchor(name)})` : name);

function mdType(f) {
  const element = f.element === 'bytes' || f.element in SCALARS ? f.element : link(f.element);
  return f.count === undefined ? element : `${element}[${f.count}]`;
}

function mdMeaning(f) {
  let text = cell(f.doc);
  if (typeof f.value === 'string' && f.element === 'bytes') text = `"${f.value}"${f.const ? ` (\`${f.const}\`)` : ''}. ${text}`;
  else if (f.value === 0 && f.element === 'bytes') text = `zeros. ${text}`;
  else if (f.value !== undefined) text = `= ${f.resolved}${typeof f.value === 'string' ? ` (${f.value})` : ''}${f.const ? ` (\`${f.const}\`)` : ''}. ${text}`;
  if (f.enum) text += ` See ${link(f.enum)}.`;
  if (f.flags) text += ` See ${link(f.flags)}.`;
  if (f.when) text += ` Present only when ${f.when}.`;
  return text;
}

/** What an item is called in the languages its format is generated for. */
function names(item, rustName, scriptName) {
  const langs = new Set(OUTPUTS.filter((o) => o.formats.includes(item.format.id)).map((o) => o.lang));
  const parts = [];
  if (langs.has('rust')) parts.push(`Rust: ${rustName}`);
  if (langs.has('ts')) parts.push(`TypeScript: ${scriptName}`);
  else if (langs.has('js')) parts.push(`JavaScript: ${scriptName}`);
  return parts.join('; ');
}

function mdItem(item) {
  let out = `\n### ${item.name}\n${wrap(item.doc, '')}`;
  switch (item.kind) {
    case 'layout': {
      out += '\n| offset | size | type | field | meaning |\n|---|---|---|---|---|\n';
      for (const f of item.fields) out += `| ${f.offsetText} | ${f.sizeText} | ${mdType(f)} | ${f.name} | ${mdMeaning(f)} |\n`;
      const varying = item.fields.some((f) => f.size === undefined);
      out += `\n${varying ? 'Fixed-size fields' : 'Size'}: ${item.fixedSize} bytes (\`${item.size}\`). Offsets: ${names(item, `\`${item.prefix}_<FIELD>_AT\``, `\`${offsetsObject(item)}\``)}.\n`;
      return out;
    }
    case 'union':
      return `${out}\nOne of: ${item.of.map(link).join(', ')}.\n`;
    case 'enum': {
      out += `\n| value | name | meaning |\n|---|---|---|\n`;
      for (const v of item.values) out += `| ${v.value} | ${v.name} | ${cell(v.doc)} |\n`;
      const rustName = item.rust.consts ? `\`${item.rust.consts}<NAME>\` constants` : `enum \`${item.name}\``;
      return `${out}\nA \`${item.type}\`. ${names(item, rustName, `\`${item.name}.<NAME>\``)}.\n`;
    }
    case 'flags': {
      out += `\n| bit | value | name | meaning |\n|---|---|---|---|\n`;
      for (const b of item.bits) out += `| ${b.bit} | ${flagValue(b)} | ${b.name} | ${cell(b.doc)} |\n`;
      return `${out}\nOther bits are 0. ${names(item, `\`${item.rust.consts}<NAME>\``, `\`${item.name}.<NAME>\``)}.\n`;
    }
    case 'errors': {
      out += `\n| number | code | category | etcd equivalent | when |\n|---|---|---|---|---|\n`;
      for (const v of item.values) out += `| ${v.value} | ERR_${v.name} | ${v.category} | ${cell(v.etcd)} | ${cell(v.doc)} |\n`;
      return `${out}\nA \`${item.type}\`. ${names(item, `enum \`${item.name}\``, `\`${item.name}.<NAME>\`, messages in \`ERROR_INFO\``)}.\n`;
    }
    case 'constant':
      return `${out}\n\`${item.name}\` = ${typeof item.value === 'string' ? `"${item.value}"` : item.value}.\n`;
  }
}

function md(_output, formats) {
  const intro = `Every byte layout MetaStore writes, in one place. These tables, the Rust constants and the TypeScript offsets are generated from one declaration per format in \`formats/\` (described in formats/README.md) by \`${SELF}\`; CI fails when a generated file differs from what its declaration gives. All integers are little-endian, \`i64\` two's complement; there is no alignment and no padding unless a table says so. The rules (what the fields mean to the engines, the log and recovery) are in the documents each section links.`;
  let out = `${header('md', ['*'])}
# Binary formats

${wrap(intro, '')}
| format | declared in | generated |
|---|---|---|
`;
  for (const format of formats) {
    const targets = OUTPUTS.filter((o) => o.lang !== 'md' && o.formats.includes(format.id)).map((o) => `\`${o.path}\``);
    out += `| [${format.title}](${anchor(format.title.replace(/[^\w\s-]/g, '').replace(/\s+/g, '-'))}) | \`${format.file}\` | ${targets.join(', ')} |\n`;
  }
  for (const format of formats) {
    out += `\n## ${format.title}\n${wrap(`${format.doc} Rules: [${format.rules}](${format.rules}). Declared in \`${format.file}\`.`, '')}`;
    for (const item of format.items) out += mdItem(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing and checking

function generate(formats) {
  const files = new Map();
  for (const output of OUTPUTS) {
    const chosen = formats.filter((f) => output.formats.includes(f.id));
    const text = output.lang === 'rust' ? rust(output, chosen) : output.lang === 'md' ? md(output, chosen) : ts(output, chosen);
    files.set(output.path, text);
    // One name, one number: a name generated twice into one file would not compile anyway, but
    // say so here, where the cause is.
    const names = [...text.matchAll(/^(?:export |pub )?(?:declare )?(?:const|enum) (\w+)/gm)].map((m) => m[1]).filter((n) => n !== '_');
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length > 0) fail(output.path, `generated twice: ${[...new Set(twice)].join(', ')}`);
  }
  return files;
}

function firstDifference(expected, found) {
  const a = expected.split('\n');
  const b = found.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { line: i + 1, expected: a[i] ?? '(end of file)', found: b[i] ?? '(end of file)' };
  }
  return undefined;
}

async function main() {
  const checkOnly = process.argv.includes('--check');
  let files;
  try {
    files = generate(await loadFormats());
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    console.error(`gen-formats: ${e.message}`);
    process.exit(2);
  }
  const stale = [];
  for (const [path, text] of files) {
    let current;
    try {
      current = readFileSync(join(root, path), 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    if (!checkOnly) {
      writeFileSync(join(root, path), text);
      console.log(`gen-formats: wrote ${path}`);
      continue;
    }
    const d = current === undefined ? undefined : firstDifference(text, current);
    stale.push(
      current === undefined
        ? `  ${path}: missing`
        : `  ${path}: line ${d.line} differs\n      declared: ${d.expected.trim()}\n      in file:  ${d.found.trim()}`,
    );
  }
  if (!checkOnly) return;
  if (stale.length === 0) {
    console.log(`gen-formats: ${files.size} generated files match formats/*.mjs`);
    return;
  }
  console.error(`gen-formats: ${stale.length} generated file(s) differ from formats/*.mjs (edited by hand, or a declaration changed without regenerating):`);
  console.error(stale.join('\n'));
  console.error(`Change the declaration in formats/ if the format is meant to change, then run \`node ${SELF}\` and commit the result.`);
  process.exit(1);
}

await main();
