#!/usr/bin/env node
// Lists the public symbols of the package (everything dist/index.d.ts exports, and the public
// members of its classes and interfaces) that have no doc comment, as an editor's hover shows
// them to a user, and exits 1 when there is any (CI runs it through `npm run docs:check`).
//
// usage: node scripts/check-docs.mjs   (after `npm run build:ts`)
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/index.d.ts');
if (!existsSync(entry)) {
  console.error('check-docs: dist/index.d.ts is missing; run `npm run build:ts` first');
  process.exit(1);
}

const program = ts.createProgram([entry], {
  strict: true,
  skipLibCheck: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
});
const checker = program.getTypeChecker();
const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry));

const documented = (symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;
const where = (symbol) => {
  const decl = symbol.declarations?.[0];
  if (decl === undefined) return '';
  const file = decl.getSourceFile();
  const { line } = file.getLineAndCharacterOfPosition(decl.getStart());
  return `${relative(root, file.fileName)
    .replace(/^dist\//, 'ts/')
    .replace(/\.d\.ts$/, '.ts')} (d.ts line ${line + 1})`;
};
const isPublicMember = (member) =>
  !(member.declarations ?? []).some((d) => ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) &&
  !member.name.startsWith('__') &&
  !(member.declarations ?? []).some((d) => ts.getJSDocTags(d).some((t) => t.tagName.text === 'internal'));

const missing = [];
let total = 0;
for (const exported of checker.getExportsOfModule(moduleSymbol)) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  total++;
  if (!documented(symbol)) missing.push(`${exported.name}  — ${where(symbol)}`);
  const members = [];
  if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
    for (const m of symbol.members?.values() ?? []) members.push(m);
  }
  if (symbol.flags & ts.SymbolFlags.Class) {
    for (const m of symbol.exports?.values() ?? []) if (m.name !== 'prototype') members.push(m);
  }
  for (const member of members) {
    if (member.flags & ts.SymbolFlags.TypeParameter || !isPublicMember(member)) continue;
    total++;
    if (!documented(member)) missing.push(`${exported.name}.${member.name}  — ${where(member)}`);
  }
}

if (missing.length === 0) {
  console.log(`check-docs: all ${total} public symbols have doc comments`);
} else {
  console.log(`check-docs: ${missing.length} of ${total} public symbols have no doc comment:`);
  for (const m of missing) console.log(`  ${m}`);
}
process.exit(missing.length > 0 ? 1 : 0);
