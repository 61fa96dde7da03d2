import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The notebooks' kernel, tslab 1.0.22, started its receive loops before its sockets were bound.
 * zeromq 6 marks a socket busy while a bind runs, so a kernel_info request arriving in that
 * window threw EBUSY, ended the shell loop, and the kernel never answered (a CI run failed so).
 * patches/tslab+1.0.22.patch binds first; these tests fail on an unpatched install.
 */
/* eslint-disable @typescript-eslint/no-var-requires */
const zmq = require('zeromq');
const { ZmqServer } = require('tslab/dist/jupyter');

interface NativeSocket {
  bind(address: string): Promise<void>;
  receive(): Promise<Buffer[]>;
}

/**
 * Wraps a native zeromq socket method for the socket kinds the kernel opens. The native method is
 * neither writable nor configurable, so the wrapper shadows it on each subclass; the undo deletes it.
 */
function wrapMethod(method: string, wrap: (original: unknown) => unknown): () => void {
  const kinds = [zmq.Publisher, zmq.Router, zmq.Reply].map((kind) => kind.prototype as object);
  for (const proto of kinds) Object.defineProperty(proto, method, { value: wrap((proto as Record<string, unknown>)[method]), configurable: true, writable: true });
  return () => kinds.forEach((proto) => delete (proto as Record<string, unknown>)[method]);
}

function connectionFile(key: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tslab-kernel-')), 'connection.json');
  // '*' lets zeromq pick free ports; tslab formats tcp://ip:port, which accepts it.
  const ports = { shell_port: '*', iopub_port: '*', control_port: '*', stdin_port: '*', hb_port: '*' };
  fs.writeFileSync(file, JSON.stringify({ transport: 'tcp', ip: '127.0.0.1', key, ...ports }));
  return file;
}

const DELIM = Buffer.from('<IDS|MSG>');
function kernelInfoRequest(key: string): Buffer[] {
  const header = { msg_id: crypto.randomUUID(), msg_type: 'kernel_info_request', session: 'test', username: 'test', version: '5.3', date: new Date().toISOString() };
  const parts = [JSON.stringify(header), '{}', '{}', '{}'];
  const hmac = crypto.createHmac('sha256', key);
  for (const p of parts) hmac.update(p);
  return [DELIM, Buffer.from(hmac.digest('hex')), ...parts.map((p) => Buffer.from(p))];
}

describe('the tslab kernel (patched)', () => {
  const handler = { handleKernel: () => ({ protocol_version: '5.3', language_info: { name: 'typescript' } }), close() {} };

  it('binds every socket before it reads from any', async () => {
    // A receive started before the bind finished can resolve while zeromq holds the socket busy.
    const bound = new Set<NativeSocket>();
    const readBeforeBound: string[] = [];
    const restoreBind = wrapMethod('bind', (bind) =>
      function (this: NativeSocket, address: string) {
        return (bind as NativeSocket['bind']).call(this, address).then(() => void bound.add(this));
      });
    const restoreReceive = wrapMethod('receive', (receive) =>
      function (this: NativeSocket) {
        if (!bound.has(this)) readBeforeBound.push(this.constructor.name);
        return (receive as NativeSocket['receive']).call(this);
      });
    const server = new ZmqServer(handler, connectionFile('k'));
    try {
      await server.init();
    } finally {
      restoreBind();
      restoreReceive();
      server.close();
    }
    assert.deepEqual(readBeforeBound, [], `the kernel read from sockets not yet bound: ${readBeforeBound.join(', ')}; run: npx patch-package`);
  });

  it('answers a kernel_info request on its shell socket', async () => {
    const server = new ZmqServer(handler, connectionFile('k'));
    const client = new zmq.Dealer();
    try {
      await server.init();
      client.connect(server.shell.lastEndpoint);
      await client.send(kernelInfoRequest('k'));
      const reply: Buffer[] = await Promise.race([
        client.receive(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no kernel_info_reply within 5 s')), 5000)),
      ]);
      const header = JSON.parse(reply[reply.findIndex((b) => b.equals(DELIM)) + 2].toString());
      assert.equal(header.msg_type, 'kernel_info_reply');
    } finally {
      client.close();
      server.close();
    }
  });
});
