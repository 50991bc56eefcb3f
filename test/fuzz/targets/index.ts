/** Every fuzz target, by crash-fixture prefix. */
import type { FuzzTarget } from '../harness';
import { rtpHeaderTarget } from './rtp-header';
import { rtpSequencerTarget } from './rtp-sequencer';
import { jpegDepacketizerTarget } from './jpeg-depacketizer';
import { rtcpCompoundTarget } from './rtcp-compound';
import { sdpTracksTarget } from './sdp-tracks';
import { rtspReaderTarget } from './rtsp-reader';
import { digestAuthTarget } from './digest-auth';
import { rtspUrlTarget } from './rtsp-url';
import { transportHeaderTarget } from './transport-header';
import { httpHeadTarget } from './http-head';
import { onvifSoapTarget } from './onvif-soap';
import { jpegDcReaderTarget } from './jpeg-dc-reader';

export function allTargets(): FuzzTarget[] {
  return [
    rtpHeaderTarget(), rtpSequencerTarget(), jpegDepacketizerTarget(), rtcpCompoundTarget(), sdpTracksTarget(),
    rtspReaderTarget(), digestAuthTarget(), rtspUrlTarget(), transportHeaderTarget(), httpHeadTarget(), onvifSoapTarget(), jpegDcReaderTarget(),
  ];
}

/** The target a crash fixture belongs to: longest name that prefixes the file name. */
export function targetForFixture(file: string, targets: FuzzTarget[]): FuzzTarget | undefined {
  return targets.filter((t) => file.startsWith(`${t.name}-`)).sort((a, b) => b.name.length - a.name.length)[0];
}
