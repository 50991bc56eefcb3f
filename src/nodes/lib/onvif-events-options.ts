/**
 * The `onvif events` node's settings: the topic filter (comma-separated substrings, matched
 * without regard to case; empty passes every event) and the device service of a camera whose
 * `onvif` field is empty (its RTSP host, port 80, the standard path of ONVIF Core §5.1.1).
 */
import { DEVICE_SERVICE_PATH } from '../../onvif/device-url';

/** "Motion, tns1:VideoSource/" → lower-case substrings; empty → none (pass all) */
export function topicFilter(text: string | undefined): (topic: string) => boolean {
  const parts = (text ?? '').split(',').map((p) => p.trim().toLowerCase()).filter((p) => p.length > 0);
  if (parts.length === 0) return () => true;
  return (topic) => { const t = topic.toLowerCase(); return parts.some((p) => t.includes(p)); };
}

/** The device service of a camera without an `onvif` URL: its RTSP host, port 80. */
export function guessDeviceUrl(rtspUrl: string): string | null {
  try {
    const u = new URL(rtspUrl.replace(/^rtsps?:/i, 'http:'));
    // URL.hostname keeps the brackets of an IPv6 literal
    return `http://${u.hostname}${DEVICE_SERVICE_PATH}`;
  } catch {
    return null;
  }
}
