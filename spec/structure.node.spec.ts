// The package's structure, checked on its sources:
// - `"sideEffects": false` in package.json is true: no module of lib/ runs code at load that assigns or registers
//   anything (no top-level call or assignment, no `static {}` block, no static field computed by a call). A bundler
//   may then drop every module a program does not use.
// - lib/core is the bottom layer: it imports nothing from above it (the primitives, the harness).
// - No source file of lib/ outgrows one screenful of seams (a cap of 400 lines, no exceptions).
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { projectRoot } from './fixtures/project-root.js';

// The sources, also when this spec runs compiled from build/spec/ (the coverage run).
const root = projectRoot();
const lib = join(root, 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(dir, file));
}

function parse(file: string, text = readFileSync(file, 'utf8')): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
}

/**
 * Calls whose result is a fresh value and which touch nothing else. Reading the environment is not an effect: a
 * module may look up a global once (a real `setImmediate`, captured before any fake timers are installed), as long
 * as it assigns and registers nothing.
 */
const pureCalls = new Set(['Symbol', 'Symbol.for', 'Object.getOwnPropertyDescriptor', 'Object.freeze']);
const pureMethods = new Set(['bind']);
const pureConstructors = new Set(['WeakMap', 'Map', 'Set', 'WeakSet']);

/** Whether evaluating `node` at module load can do nothing but build a value. */
function isPure(node: ts.Expression): boolean {
  if (
    ts.isLiteralExpression(node) ||
    ts.isNoSubstitutionTemplateLiteral(node) ||
    ts.isIdentifier(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    node.kind === ts.SyntaxKind.TrueKeyword ||
    node.kind === ts.SyntaxKind.FalseKeyword ||
    node.kind === ts.SyntaxKind.NullKeyword
  )
    return true;
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node))
    return isPure(node.expression);
  if (ts.isPrefixUnaryExpression(node)) return isPure(node.operand);
  if (ts.isTypeOfExpression(node) || ts.isNonNullExpression(node)) return isPure(node.expression);
  if (ts.isPropertyAccessExpression(node)) return isPure(node.expression);
  if (ts.isElementAccessExpression(node)) return isPure(node.expression) && isPure(node.argumentExpression);
  if (ts.isConditionalExpression(node))
    return isPure(node.condition) && isPure(node.whenTrue) && isPure(node.whenFalse);
  if (
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    pureMethods.has(node.expression.name.text)
  )
    return isPure(node.expression.expression) && node.arguments.every(isPure);
  if (ts.isBinaryExpression(node))
    return (
      (node.operatorToken.kind < ts.SyntaxKind.FirstAssignment ||
        node.operatorToken.kind > ts.SyntaxKind.LastAssignment) &&
      isPure(node.left) &&
      isPure(node.right)
    );
  if (ts.isArrayLiteralExpression(node)) return node.elements.every(isPure);
  if (ts.isObjectLiteralExpression(node))
    return node.properties.every(
      (property) =>
        (ts.isPropertyAssignment(property) &&
          !ts.isComputedPropertyName(property.name) &&
          isPure(property.initializer)) ||
        ts.isMethodDeclaration(property) ||
        ts.isGetAccessorDeclaration(property) ||
        ts.isShorthandPropertyAssignment(property),
    );
  if (ts.isCallExpression(node))
    return pureCalls.has(node.expression.getText()) && node.arguments.every(isPure);
  if (ts.isNewExpression(node))
    return pureConstructors.has(node.expression.getText()) && (node.arguments ?? []).length === 0;
  if (ts.isClassExpression(node)) return classProblems(node).length === 0;
  return false;
}

function classProblems(node: ts.ClassLikeDeclaration): string[] {
  const problems: string[] = [];
  for (const member of node.members) {
    if (ts.isClassStaticBlockDeclaration(member)) problems.push('a static {} block');
    const isStatic = ts.canHaveModifiers(member)
      ? (ts.getModifiers(member) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword)
      : false;
    if (isStatic && ts.isPropertyDeclaration(member) && member.initializer && !isPure(member.initializer))
      problems.push(`static ${member.name.getText()} = ${member.initializer.getText()}`);
    if (member.name !== undefined && ts.isComputedPropertyName(member.name)) {
      const key = member.name.expression;
      if (!(ts.isPropertyAccessExpression(key) || ts.isIdentifier(key)))
        problems.push(`computed key ${key.getText()}`);
    }
  }
  return problems;
}

/** Every top-level statement of `file` that runs code with an effect at load, as `line: text`. */
function loadTimeEffects(file: ts.SourceFile): string[] {
  const found: string[] = [];
  const report = (node: ts.Node, what: string) => {
    const { line } = file.getLineAndCharacterOfPosition(node.getStart());
    found.push(`${relative(root, file.fileName)}:${line + 1}: ${what}`);
  };
  for (const statement of file.statements) {
    if (
      ts.isImportDeclaration(statement) ||
      ts.isExportDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isFunctionDeclaration(statement) ||
      ts.isModuleDeclaration(statement) ||
      ts.isImportEqualsDeclaration(statement)
    )
      continue;
    if (ts.isEnumDeclaration(statement)) {
      const isConst = (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ConstKeyword);
      if (!isConst) report(statement, `a non-const enum ${statement.name.text} (an IIFE at load)`);
      continue;
    }
    if (ts.isClassDeclaration(statement)) {
      for (const problem of classProblems(statement))
        report(statement, `class ${statement.name?.text}: ${problem}`);
      continue;
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (declaration.initializer !== undefined && !isPure(declaration.initializer))
          report(
            declaration,
            `${declaration.name.getText()} = ${declaration.initializer.getText().slice(0, 60)}`,
          );
      }
      continue;
    }
    if (ts.isExportAssignment(statement) && isPure(statement.expression)) continue;
    report(statement, statement.getText().slice(0, 60));
  }
  return found;
}

describe('package structure', function () {
  // Parsing every source file with the TypeScript parser takes seconds on a loaded machine.
  this.timeout(60_000);

  describe('no effects at module load ("sideEffects": false)', () => {
    it('package.json declares "sideEffects": false', () => {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        sideEffects?: unknown;
      };
      expect(manifest.sideEffects).to.equal(false);
    });

    it('no module of lib/ runs a statement with an effect when it loads', () => {
      const effects = sources(lib).flatMap((file) => loadTimeEffects(parse(file)));
      expect(effects).to.deep.equal([]);
    });

    it('the scan reports each kind of load-time effect it looks for (control)', () => {
      const code = [
        "import { x } from './x.js';",
        'const fine = Symbol.for("k"), map = new WeakMap(), limit = 2 ** 31 - 1, f = () => 1;',
        'export const table = { a: 1, b: "two" };',
        'const bad = register();',
        'for (const k of []) k;',
        'Object.defineProperty(X.prototype, "name", { value: "X" });',
        'class A { static { mark(this); } }',
        'class B { static instance = new B(); }',
        'export class C { override readonly name = "C"; static readonly kind = "c"; }',
        'enum E { a }',
        'globalThis.slot ??= {};',
      ].join('\n');
      const effects = loadTimeEffects(parse(join(lib, 'control.ts'), code)).map((line) =>
        line.replace(/^lib\/control\.ts:/, ''),
      );
      expect(effects).to.deep.equal([
        '4: bad = register()',
        '5: for (const k of []) k;',
        '6: Object.defineProperty(X.prototype, "name", { value: "X" });',
        '7: class A: a static {} block',
        '8: class B: static instance = new B()',
        '10: a non-const enum E (an IIFE at load)',
        '11: globalThis.slot ??= {};',
      ]);
    });
  });

  describe('layers', () => {
    /** The relative imports of `file` (static, re-exports and dynamic), resolved to paths under the root. */
    function importsOf(file: string): string[] {
      const source = parse(file);
      const found: string[] = [];
      const visit = (node: ts.Node) => {
        let specifier: ts.Expression | undefined;
        if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
          specifier = node.moduleSpecifier;
        else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)
          specifier = node.arguments[0];
        if (specifier !== undefined && ts.isStringLiteral(specifier) && specifier.text.startsWith('.'))
          found.push(relative(root, resolve(dirname(file), specifier.text)));
        ts.forEachChild(node, visit);
      };
      visit(source);
      return found;
    }

    it('lib/core imports only lib/core and the error classes (which import nothing)', () => {
      expect(importsOf(join(lib, 'errors.ts'))).to.deep.equal([]);
      const outside = sources(join(lib, 'core')).flatMap((file) =>
        importsOf(file)
          .filter((target) => !target.startsWith('lib/core/') && target !== 'lib/errors.js')
          .map((target) => `${relative(root, file)} -> ${target}`),
      );
      expect(outside).to.deep.equal([]);
    });

    it('the main entry point reaches no module of the harness', () => {
      const seen = new Set<string>();
      const visit = (file: string) => {
        const key = relative(root, file);
        if (seen.has(key)) return;
        seen.add(key);
        for (const target of importsOf(file)) visit(join(root, target.replace(/\.js$/, '.ts')));
      };
      visit(join(lib, 'index.ts'));
      expect([...seen].filter((file) => file.startsWith('lib/testing/'))).to.deep.equal([]);
      expect(seen.has('lib/core/wait-queue.ts'), 'the walk follows imports').to.equal(true);
    });
  });

  describe('file size', () => {
    it('no source file of lib/ is over 400 lines', () => {
      const long = sources(lib)
        .map((file) => ({
          file: relative(root, file),
          lines: readFileSync(file, 'utf8').split('\n').length - 1,
        }))
        .filter(({ lines }) => lines > 400);
      expect(long).to.deep.equal([]);
    });
  });
});
