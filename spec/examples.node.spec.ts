import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main as ifNotWhile } from '../examples/if-not-while.js';
import { projectRoot } from './fixtures/project-root.js';

describe('README: the demo', () => {
  it("quotes `npm start`'s output as it is (lines in order; `...` skips lines)", async () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('`npm start` (also `npm run demo`)'));
    const excerpt = /```text\n([\s\S]*?)```/.exec(section)![1]!.trimEnd().split('\n');
    const lines: string[] = [];
    await ifNotWhile((line) => lines.push(line));
    let at = 0;
    for (const line of excerpt.filter((line) => line !== '...')) {
      const found = lines.indexOf(line, at);
      expect(found, `README line not in the output (in this order): ${line}`).to.be.at.least(0);
      at = found + 1;
    }
    expect(excerpt.filter((line) => line !== '...')).to.have.length.above(10);
  });
});
