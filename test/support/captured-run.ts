/**
 * One client run against a GStreamer server with a capture of the RTSP connection (TCP) or
 * of the client's UDP ports, for the byte-for-byte comparison with GStreamer's depacketizer.
 */
import { startCapture, runClient, type ClientRun, type GstServer } from './peers';

export async function capturedRun(server: GstServer, transport: 'tcp' | 'udp', streamMs: number, udp: [number, number]): Promise<{ run: ClientRun; file: string; cleanup(): void }> {
  const cap = await startCapture(transport === 'tcp' ? `tcp port ${server.port}` : `udp portrange ${udp[0]}-${udp[1]}`);
  try {
    const run = await runClient(server.url, { transport, udpPortRange: udp }, { streamMs });
    return { run, file: await cap.stop(), cleanup: cap.cleanup };
  } catch (e) {
    await cap.stop();
    cap.cleanup();
    throw e;
  }
}
