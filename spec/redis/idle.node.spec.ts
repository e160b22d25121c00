import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { clientKinds, within } from './helpers.js';
import { RedisServer } from './server.js';
import { join } from 'node:path';
import { projectRoot } from '../fixtures/project-root.js';

const program = join(projectRoot(), 'spec', 'redis', 'idle.ts');

describe('coop-sync/redis: an idle process exits by itself (real redis-server)', function () {
  this.timeout(30_000);
  let server: RedisServer;
  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server?.stop();
  });

  for (const kind of clientKinds) {
    it(`with ${kind}: after a contended acquisition, its clients closed, nothing keeps it alive`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', program, String(server.port), kind], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        expect(await within(exited, 15_000, `the ${kind} program exiting by itself`)).to.equal(0);
      } finally {
        child.kill('SIGKILL');
      }
      expect(output).to.equal('done\n');
    });
  }
});
