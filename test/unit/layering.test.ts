/**
 * The layering rule of eslint.config.mjs (part of `npm run lint`) fires on deliberate bad
 * imports, and stays quiet on the allowed direction. Linted as text under a made-up file
 * name in each folder, so nothing is written to src/.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals').map((m) => m.message);
}

const BAD: [file: string, code: string][] = [
  ['src/rtsp/zz-layer-probe.ts', "import { RtspConnection } from '../transport/rtsp-connection';\nexport const x = RtspConnection;\n"],
  ['src/rtsp/zz-layer-probe.ts', "import type { CameraSession } from '../camera/session';\nexport type X = CameraSession;\n"],
  ['src/jpeg/zz-layer-probe.ts', "import * as net from 'node:net';\nexport const x = net;\n"],
  ['src/rtp/zz-layer-probe.ts', "import { setTimeout as later } from 'node:timers';\nexport const x = later;\n"],
  ['src/rtcp/zz-layer-probe.ts', 'export const t = setInterval(() => undefined, 1000);\n'],
  ['src/sdp/zz-layer-probe.ts', "import type { NodeAPI } from 'node-red';\nexport type X = NodeAPI;\n"],
  ['src/onvif/wire/zz-layer-probe.ts', "import * as http from 'node:http';\nexport const x = http;\n"],
  ['src/onvif/wire/zz-layer-probe.ts', 'export const t = setTimeout(() => undefined, 1000);\n'],
  ['src/transport/zz-layer-probe.ts', "import { CameraSession } from '../camera/session';\nexport const x = CameraSession;\n"],
  ['src/transport/zz-layer-probe.ts', "import { statusForState } from '../nodes/status';\nexport const x = statusForState;\n"],
  ['src/camera/zz-layer-probe.ts', "import { statusForState } from '../nodes/status';\nexport const x = statusForState;\n"],
  ['src/camera/zz-layer-probe.ts', "import { startDemoCamera } from '../sim/demo-camera';\nexport const x = startDemoCamera;\n"],
  ['src/nodes/zz-layer-probe.ts', "import * as dgram from 'node:dgram';\nexport const x = dgram;\n"],
  ['src/nodes/lib/zz-layer-probe.ts', "import { startDemoCamera } from '../../sim/demo-camera';\nexport const x = startDemoCamera;\n"],
  ['src/nodes/zz-layer-probe.ts', "import { DEFAULT_UDP_PORT_RANGE } from '../transport/port-allocator';\nexport const x = DEFAULT_UDP_PORT_RANGE;\n"],
  ['src/nodes/lib/zz-layer-probe.ts', "import { RtspConnection } from '../../transport/rtsp-connection';\nexport const x = RtspConnection;\n"],
  ['src/http/zz-layer-probe.ts', "import type { NodeAPI } from 'node-red';\nexport type X = NodeAPI;\n"],
  ['src/http/zz-layer-probe.ts', "import { statusForState } from '../nodes/lib/status';\nexport const x = statusForState;\n"],
  ['src/http/zz-layer-probe.ts', "import { startDemoCamera } from '../sim/demo-camera';\nexport const x = startDemoCamera;\n"],
  ['src/zz-layer-probe.ts', "import { startDemoCamera } from './sim/demo-camera';\nexport const x = startDemoCamera;\n"],
  ['src/errors.ts', "import { parseRtspUrl } from './rtsp/url';\nexport const x = parseRtspUrl;\n"],
];

const GOOD: [file: string, code: string][] = [
  ['src/transport/zz-layer-probe.ts', "import { RtspReader } from '../rtsp/message';\nexport const x = RtspReader;\n"],
  ['src/camera/zz-layer-probe.ts', "import { RtspConnection } from '../transport/rtsp-connection';\nexport const x = RtspConnection;\n"],
  ['src/nodes/zz-layer-probe.ts', "import { openCamera } from '../camera/open';\nexport const x = openCamera;\n"],
  ['src/onvif/zz-layer-probe.ts', "import * as dgram from 'node:dgram';\nexport const x = dgram;\n"],
  ['src/nodes/zz-layer-probe.ts', "import { MjpegViewers } from '../http/mjpeg-viewers';\nexport const x = MjpegViewers;\n"],
  ['src/nodes/lib/zz-layer-probe.ts', "import { DEFAULT_UDP_PORT_RANGE } from '../../camera/defaults';\nexport const x = DEFAULT_UDP_PORT_RANGE;\n"],
  ['src/http/zz-layer-probe.ts', "import { JpegEncoder } from '../jpeg/encoder';\nexport const x = JpegEncoder;\n"],
  ['src/cli.ts', "import { startDemoCamera } from './sim/demo-camera';\nexport const x = startDemoCamera;\n"],
];

describe('layering rule (eslint no-restricted-imports per folder)', () => {
  test('every upward or sideways import is an error', async () => {
    const missed: string[] = [];
    for (const [file, code] of BAD) {
      const errors = await layerErrors(file, code);
      if (errors.length !== 1) missed.push(`${file}: ${code.split('\n')[0]} should be refused once, got ${JSON.stringify(errors)}`);
    }
    assert.deepEqual(missed, []);
  });

  test('imports downwards pass', async () => {
    for (const [file, code] of GOOD) assert.deepEqual(await layerErrors(file, code), [], `${file}: ${code.split('\n')[0]}`);
  });
});
