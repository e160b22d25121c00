/**
 * A private redis-server for the specs (and the bench and example): on a free 127.0.0.1 port, no persistence, in a
 * temporary directory; `start()` resolves once it answers PING, `stop()` ends it and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free loopback port: listen on port 0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Sends one inline command on a fresh connection and resolves to the raw reply (bounded by `ms`). */
export function rawCommand(port: number, command: string, ms = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${port}: no reply to ${command} within ${ms} ms`));
    }, ms);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The server exited before it answered (its port was taken, most likely). */
class EarlyExit extends Error {}

export class RedisServer {
  private child: ChildProcess | undefined;
  /** Its own directory, as the server reports it (a real path). */
  private readonly dir = realpathSync(mkdtempSync(join(tmpdir(), 'coop-sync-redis-')));

  private constructor(readonly port: number) {}

  /**
   * Starts a server on a free port (or on `port`) and waits until it answers. A free port can be taken by another
   * process between `freePort` and the server's bind (two spec runs side by side): then this server exits at once,
   * and a server on a new port is tried, three times at most.
   */
  static async start(port?: number): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(port ?? (await freePort()));
      try {
        await server.launch();
        return server;
      } catch (error) {
        rmSync(server.dir, { recursive: true, force: true });
        if (port !== undefined || attempt === 3 || !(error instanceof EarlyExit)) throw error;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new EarlyExit(`redis-server on ${this.port} exited early (${code})`)),
      ),
    );
    exited.catch(() => undefined);
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        // Its own directory in the reply: the server answering is this one, not another process's on that port.
        const reply = await Promise.race([rawCommand(this.port, 'CONFIG GET dir', 200), exited]);
        if (reply.includes(this.dir)) return;
        if (reply.startsWith('*')) throw new EarlyExit(`another redis-server answers on ${this.port}`);
      } catch (error) {
        if (child.exitCode !== null || error instanceof EarlyExit) {
          child.kill('SIGKILL');
          throw error;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server on ${this.port} did not answer PING`);
  }

  /** Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts it again on the same port (after `kill`), empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
