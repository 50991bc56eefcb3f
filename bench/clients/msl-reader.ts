/**
 * media-stream-library 13 (Axis) as a Node RTSP/MJPEG client over TCP, wired as its README
 * and the research note describe: RtspMjpegPipeline + TcpSource + a Sink counting JPEG frames.
 * Usage: node msl-reader.cjs <url>. On SIGTERM prints {"frames":N,"bytes":B} and exits.
 */
export {};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const msl = require('media-stream-library') as {
  pipelines: { RtspMjpegPipeline: new (cfg: { uri: string }) => MslPipeline };
  components: { TcpSource: new () => unknown; Sink: { fromHandler: (fn: (msg: { type: number; data: Buffer }) => void) => unknown } };
  MessageType: Record<string, number>;
};
interface MslPipeline { prepend(c: unknown): void; append(c: unknown): void; rtsp: { play(): void } }

const url = process.argv[2]!;
let frames = 0;
let bytes = 0;
const JPEG = msl.MessageType['JPEG'];
const p = new msl.pipelines.RtspMjpegPipeline({ uri: url });
p.prepend(new msl.components.TcpSource());
p.append(msl.components.Sink.fromHandler((msg) => {
  if (msg.type === JPEG) { frames++; bytes += msg.data.length; }
}));
p.rtsp.play();
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ frames, bytes }) + '\n'); process.exit(0); });
